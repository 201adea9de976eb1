/**
 * The orchestrator logs through Nest's own ConsoleLogger (docs/adr/0003): classes use
 * `new Logger(ClassName.name)`; this decides levels and format (text for people, JSON lines for
 * log collectors) from the validated config.
 */
import { ConsoleLogger, LoggerService } from '@nestjs/common';
import { LOG_LEVELS, LogConfig } from '../../config/app-config';

/** The chosen level and every more severe one. */
export function enabledLogLevels(level: LogConfig['level']): LogConfig['level'][] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

export function createLogger(config: LogConfig, isTerminal: boolean): LoggerService {
  const json = config.format === 'json';
  return new ConsoleLogger({
    prefix: 'bmcfleet',
    json,
    colors: !json && isTerminal,
    logLevels: enabledLogLevels(config.level),
  });
}

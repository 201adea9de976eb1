/**
 * Structured one-line JSON logs on stderr (the container's log). Debug lines only with DEBUG=true.
 * Callers never pass secrets: passwords and keys are not fields of any log line.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(opts: { debug: boolean; write?: (line: string) => void; component?: string }): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (level === 'debug' && !opts.debug) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, component: opts.component ?? 'bmc', msg, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

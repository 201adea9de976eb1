/**
 * A logger whose every line names the farm BMC it is about (`bmc`, `endpoint`). Methods live on the
 * prototype: a farm holds one of these per BMC. Over the process's JSON logger the names are
 * serialised once per BMC (JsonLogger.withFields); any other logger gets them merged per line.
 */
import { JsonLogger, type Logger } from '../util/logger';

class NamedLogger implements Logger {
  constructor(private readonly base: Logger, private readonly fields: Readonly<Record<string, unknown>>) {}
  debug(m: string, f?: Record<string, unknown>): void { this.base.debug(m, { ...this.fields, ...f }); }
  info(m: string, f?: Record<string, unknown>): void { this.base.info(m, { ...this.fields, ...f }); }
  warn(m: string, f?: Record<string, unknown>): void { this.base.warn(m, { ...this.fields, ...f }); }
  error(m: string, f?: Record<string, unknown>): void { this.base.error(m, { ...this.fields, ...f }); }
}

export function namedLogger(base: Logger, fields: Readonly<Record<string, unknown>>): Logger {
  return base instanceof JsonLogger ? base.withFields(fields) : new NamedLogger(base, fields);
}

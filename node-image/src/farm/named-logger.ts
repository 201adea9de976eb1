/**
 * A logger whose every line names the farm BMC it is about (`bmc`, `endpoint`). Methods live on the
 * prototype: a farm holds one of these per BMC.
 */
import type { Logger } from '../util/logger';

class NamedLogger implements Logger {
  constructor(private readonly base: Logger, private readonly fields: Readonly<Record<string, unknown>>) {}
  debug(m: string, f?: Record<string, unknown>): void { this.base.debug(m, { ...this.fields, ...f }); }
  info(m: string, f?: Record<string, unknown>): void { this.base.info(m, { ...this.fields, ...f }); }
  warn(m: string, f?: Record<string, unknown>): void { this.base.warn(m, { ...this.fields, ...f }); }
  error(m: string, f?: Record<string, unknown>): void { this.base.error(m, { ...this.fields, ...f }); }
}

export function namedLogger(base: Logger, fields: Readonly<Record<string, unknown>>): Logger {
  return new NamedLogger(base, fields);
}

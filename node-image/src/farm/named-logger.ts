/** A logger whose every line names the farm BMC it is about (`bmc`, `endpoint`). */
import type { Logger } from '../util/logger';

export function namedLogger(base: Logger, fields: Readonly<Record<string, unknown>>): Logger {
  return {
    debug: (m, f) => base.debug(m, { ...fields, ...f }),
    info: (m, f) => base.info(m, { ...fields, ...f }),
    warn: (m, f) => base.warn(m, { ...fields, ...f }),
    error: (m, f) => base.error(m, { ...fields, ...f }),
  };
}

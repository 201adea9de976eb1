/**
 * Structured one-line JSON logs on stderr (the container's log). Debug lines only with DEBUG=true.
 * Callers never pass secrets: passwords and keys are not fields of any log line.
 *
 * A line is `{"time":…,"level":…,"component":…,"msg":…, fixed fields…, fields…}`. The fixed fields
 * of a child logger (withFields: a farm BMC's name and endpoint) are serialised once, when the
 * child is made, not on every line: a farm logs for many BMCs at session rates.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/** `{"a":1,"b":2}` → `,"a":1,"b":2`; '' for an object with nothing to show. */
function members(fields: Readonly<Record<string, unknown>>): string {
  const json = JSON.stringify(fields);
  return json.length > 2 ? `,${json.slice(1, -1)}` : '';
}

/** The logger createLogger makes (methods on the prototype: a farm holds one child per BMC). */
export class JsonLogger implements Logger {
  constructor(
    private readonly write: (line: string) => void,
    private readonly debugOn: boolean,
    /** `,"component":"…"` */
    private readonly head: string,
    /** Fixed fields as JSON members, each with its leading comma. */
    private readonly fixed: string,
  ) {}

  /** A logger adding `fields` to every line, after the message and before the line's own fields. */
  withFields(fields: Readonly<Record<string, unknown>>): JsonLogger {
    return new JsonLogger(this.write, this.debugOn, this.head, this.fixed + members(fields));
  }

  debug(m: string, f?: Record<string, unknown>): void { if (this.debugOn) this.emit('debug', m, f); }
  info(m: string, f?: Record<string, unknown>): void { this.emit('info', m, f); }
  warn(m: string, f?: Record<string, unknown>): void { this.emit('warn', m, f); }
  error(m: string, f?: Record<string, unknown>): void { this.emit('error', m, f); }

  private emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
    // A field named like a fixed one is written after it: JSON readers take the last, as a spread would.
    this.write(`{"time":"${new Date().toISOString()}","level":"${level}"${this.head},"msg":${JSON.stringify(msg)}${this.fixed}${fields ? members(fields) : ''}}`);
  }
}

export function createLogger(opts: { debug: boolean; write?: (line: string) => void; component?: string }): JsonLogger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return new JsonLogger(write, opts.debug, `,"component":${JSON.stringify(opts.component ?? 'bmc')}`, '');
}

/**
 * A line writer for processes that log at session rates (a farm): lines are gathered and written to
 * stderr once per event-loop turn, in one write, and whatever is left when the process exits is
 * written then. A line is never lost to the batching, only delayed until the turn ends.
 */
export function batchedStderr(write: (text: string) => void = (text) => { process.stderr.write(text); }): (line: string) => void {
  let lines: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = `${lines.join('\n')}\n`;
    lines = [];
    try {
      write(text);
    } catch {
      // stderr gone (closed pipe): nothing else to tell it to.
    }
  };
  process.on('exit', flush);
  return (line) => {
    lines.push(line);
    if (!scheduled) { scheduled = true; setImmediate(flush); }
  };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * Logging for events a stranger can cause at packet rate (refused logins, dropped datagrams):
 * the first few of each kind in an interval are logged with their details, the rest are only
 * counted, and one summary line per interval gives the counts of every kind. Without it, junk
 * traffic would turn into an unbounded stream of log lines. No timer inside: the caller passes
 * `now` and calls `flush` from its tick.
 */
import type { Logger } from './logger';

export interface LogDigestOptions {
  /** Length of an interval (ms). */
  readonly intervalMs: number;
  /** Detailed lines per kind and interval; the rest are counted. */
  readonly detailedPerKind: number;
}

export const DEFAULT_LOG_DIGEST: LogDigestOptions = { intervalMs: 60_000, detailedPerKind: 3 };

export class LogDigest {
  /** Occurrences per kind in the current interval. */
  private readonly counts = new Map<string, number>();
  /** Events of this interval that got no line of their own. */
  private suppressed = 0;
  private intervalStart: number | null = null;

  constructor(private readonly log: Logger, private readonly options: LogDigestOptions = DEFAULT_LOG_DIGEST) {}

  /** An event worth a line: logged at info while its kind has lines left in this interval. */
  note(kind: string, now: number, msg: string, fields?: Record<string, unknown>): void {
    this.flush(now);
    const n = this.bump(kind, now);
    if (n <= this.options.detailedPerKind) this.log.info(msg, fields);
    else this.suppressed++;
  }

  /** An event that is only counted (the summary line shows it). */
  count(kind: string, now: number): void {
    this.flush(now);
    this.bump(kind, now);
    this.suppressed++;
  }

  /** Ends the interval when it is over: one summary line if anything was left out of the log. */
  flush(now: number): void {
    if (this.intervalStart === null || now - this.intervalStart < this.options.intervalMs) return;
    if (this.suppressed > 0) {
      this.log.info('refused or dropped traffic (summary)', {
        intervalSeconds: Math.round((now - this.intervalStart) / 1000),
        notLogged: this.suppressed,
        counts: Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b))),
      });
    }
    this.counts.clear();
    this.suppressed = 0;
    this.intervalStart = null;
  }

  private bump(kind: string, now: number): number {
    this.intervalStart ??= now;
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    return n;
  }
}

/**
 * One timer wheel for every BMC of a farm slice (timer-wheel.ts), as the agents see it: one interval
 * for all of them, and a BMC's tick runs only when it asked for a call.
 */
import type { AgentScheduler, ScheduledAgent } from '../bmc/bmc-agent';
import type { Logger } from '../util/logger';
import { TimerWheel } from './timer-wheel';

/** Timer resolution of the farm: the agent's own tick period. */
export const WHEEL_GRANULARITY_MS = 100;
/** One turn: 102.4 s, longer than any BMC deadline (60 s idle timeout, 60 s checkpoint). */
const WHEEL_SLOTS = 1024;

export type Tick = (now: number) => number | null;

/** The wheel as the agents see it; one interval for all of them. */
export class WheelScheduler implements AgentScheduler {
  readonly wheel: TimerWheel<Tick>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly clock: () => number, log: Logger) {
    this.wheel = new TimerWheel<Tick>(WHEEL_GRANULARITY_MS, WHEEL_SLOTS, clock());
    this.timer = setInterval(() => {
      const now = this.clock();
      for (const tick of this.wheel.advance(now)) {
        try {
          const next = tick(now);
          if (next !== null) this.wheel.schedule(tick, next);
        } catch (err) {
          log.error('BMC timer failed', { error: err instanceof Error ? err.message : String(err) });
        }
      }
    }, WHEEL_GRANULARITY_MS);
    this.timer.unref();
  }

  register(tick: Tick): ScheduledAgent {
    return { wake: (at) => this.wheel.schedule(tick, at), cancel: () => this.wheel.cancel(tick) };
  }

  close(): void { clearInterval(this.timer); }
}

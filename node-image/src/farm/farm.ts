/**
 * A farm slice: the BMCs with indices [from, to) of a farm plan, in this process. Each BMC is a
 * whole BmcAgent (its own UDP socket on its own address or port, GUID, users, boot flags, SEL,
 * power, SOL, and Redfish when REDFISH_PORT is set) in front of a simulated machine; what does not
 * differ between BMCs is shared: one random pool, one timer wheel driving every BMC's timers
 * (visiting only BMCs with something pending), one state store, one TLS certificate.
 */
import { BmcAgent, type AgentScheduler, type ScheduledAgent } from '../bmc/bmc-agent';
import { SimMachine } from '../machine/sim-machine';
import { pooledRandom } from '../util/random-pool';
import type { Logger } from '../util/logger';
import type { StateStore } from '../state/state-store';
import { RedfishService } from '../redfish/redfish-service';
import { startRedfishServer, type RunningRedfishServer } from '../redfish/https-server';
import type { TlsMaterial } from '../redfish/tls-certificate';
import { parseQemuConfig } from '../machine/qemu-config';
import { endpointOf, type BmcEndpoint } from './address-plan';
import type { FarmConfig } from './farm-config';
import { FarmNetworkInfo } from './farm-network-info';
import { namedLogger } from './named-logger';
import { TimerWheel } from './timer-wheel';

/** Timer resolution of the farm: the agent's own tick period. */
export const WHEEL_GRANULARITY_MS = 100;
/** One turn: 102.4 s, longer than any BMC deadline (60 s idle timeout, 60 s checkpoint). */
const WHEEL_SLOTS = 1024;
/** BMCs started at once: binds and state reads overlap without flooding the event loop. */
const START_CONCURRENCY = 64;

export interface FarmSliceOptions {
  readonly config: FarmConfig;
  readonly from: number;
  readonly to: number;
  /** BMC `index`'s state store (a FarmStateStore's forBmc, or a worker's view of the parent's). */
  readonly store: (index: number) => StateStore;
  /** For the Redfish services, when REDFISH_PORT is set: one certificate for the farm. */
  readonly tls?: TlsMaterial;
  /** Tags this farm's MACs (02:tt:tt:…), so two farms on one network differ. */
  readonly farmTag: number;
  readonly log: Logger;
  readonly clock?: () => number;
}

export interface FarmBmc {
  readonly name: string;
  readonly endpoint: BmcEndpoint;
  readonly agent: BmcAgent;
  readonly redfish?: RunningRedfishServer;
}

type Tick = (now: number) => number | null;

/** The wheel as the agents see it; one interval for all of them. */
class WheelScheduler implements AgentScheduler {
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

export class Farm {
  private constructor(
    readonly bmcs: readonly FarmBmc[],
    private readonly scheduler: WheelScheduler,
  ) {}

  /** BMCs with a timer pending (sessions open, SOL active, powered on). */
  get scheduledCount(): number { return this.scheduler.wheel.size; }

  /** Starts every BMC of the slice; when one cannot start, the ones started are stopped again. */
  static async start(o: FarmSliceOptions): Promise<Farm> {
    const clock = o.clock ?? Date.now;
    const scheduler = new WheelScheduler(clock, o.log);
    const random = pooledRandom(64 * 1024);
    const { cpus, memoryMiB } = parseQemuConfig({}).config;
    const bmcs: FarmBmc[] = [];
    const startOne = async (index: number): Promise<FarmBmc> => {
      const endpoint = endpointOf(o.config.plan, index);
      const name = `${o.config.namePrefix}-${index}`;
      const log = namedLogger(o.log, { bmc: name, endpoint: `${endpoint.address}:${endpoint.port}` });
      const a = o.config.agent;
      const agent = await BmcAgent.start({
        address: endpoint.address,
        port: endpoint.port,
        adminUser: a.ipmiUser,
        adminPassword: a.ipmiPassword,
        cipherSuites: a.cipherSuites,
        ipmi15: a.ipmi15,
        ipmi15AuthTypes: a.ipmi15AuthTypes,
        nodeName: name,
        store: o.store(index),
        network: new FarmNetworkInfo(endpoint.address, o.farmTag, index),
        createMachine: (ctx) => new SimMachine({ boot: ctx.boot, nodeName: name, powerDelayMs: a.simPowerDelayMs }),
        powerOnAtStart: a.powerOnAtStart,
        hardware: { cpus, memoryMiB },
        log,
        clock,
        random,
        scheduler,
      });
      if (a.redfishPort === undefined || !o.tls) return { name, endpoint, agent };
      try {
        const service = new RedfishService({ core: agent.core, random, log });
        const port = o.config.plan.mode === 'ports' ? a.redfishPort + index : a.redfishPort;
        const redfish = await startRedfishServer({ address: endpoint.address, port, tls: o.tls, handle: (req, now) => service.handle(req, now), clock, log });
        return { name, endpoint, agent, redfish };
      } catch (err) {
        await agent.stop();
        throw new Error(`${name}: Redfish service: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    let next = o.from;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < o.to) {
        const index = next++;
        try {
          bmcs.push(await startOne(index));
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, o.to - o.from) }, worker));
    const farm = new Farm(bmcs.sort((x, y) => x.endpoint.index - y.endpoint.index), scheduler);
    if (failure !== undefined) {
      await farm.stop();
      throw failure instanceof Error ? failure : new Error(String(failure));
    }
    return farm;
  }

  /** Stops every BMC (sessions end, sockets close) and the farm's timer. */
  async stop(): Promise<void> {
    this.scheduler.close();
    await Promise.all(this.bmcs.map(async (b) => { await b.agent.stop(); await b.redfish?.close(); }));
  }
}

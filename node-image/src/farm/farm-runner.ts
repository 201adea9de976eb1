/**
 * Runs a configured farm in this process: opens the farm's state store, puts the BMCs' addresses on
 * the lab interface (FARM_INTERFACE), starts every BMC, flushes state in batches, and on
 * SIGTERM/SIGINT stops every BMC, writes what is left and takes the addresses off the interface.
 */
import { hostname } from 'node:os';
import { FileStateStore } from '../state/file-state-store';
import { loadTlsMaterial, type TlsMaterial } from '../redfish/tls-certificate';
import type { Logger } from '../util/logger';
import { endpointOf } from './address-plan';
import type { FarmConfig } from './farm-config';
import { FarmStateStore } from './farm-state-store';
import { Farm } from './farm';
import { join } from 'node:path';
import { FarmSupervisor, openFilesLimit, slicesOf, workersNeeded } from './farm-workers';
import { LabInterface, type ClaimedLab } from './lab-interface';

/**
 * One full collection after the start when the process runs with --expose-gc (npm run farm, the
 * image's command, every worker): setting up thousands of BMCs leaves garbage that would otherwise
 * stay resident until V8 next needs the room.
 */
export function collectStartGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** How often changed state reaches disk (at most this much is lost when the host loses power). */
export const STATE_FLUSH_MS = 1_000;

/** A tag for this farm's MACs derived from its plan, so farms with other plans differ. */
export function farmTagOf(config: FarmConfig): number {
  const key = `${config.plan.mode}:${config.plan.firstAddress}:${config.plan.firstPort}`;
  let h = 0x811c9dc5;
  for (const c of Buffer.from(key)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h & 0xffff;
}

/** One certificate for every BMC of the farm: the host's names and the first and last BMC address. */
export async function farmTls(config: FarmConfig): Promise<TlsMaterial | undefined> {
  if (config.agent.redfishPort === undefined) return undefined;
  const a = config.agent;
  const names = [...new Set([hostname(), 'localhost', '127.0.0.1', endpointOf(config.plan, 0).address, endpointOf(config.plan, config.plan.count - 1).address])];
  return loadTlsMaterial({
    store: new FileStateStore(join(a.stateDir, 'redfish-tls')),
    ...(a.redfishTlsCert && a.redfishTlsKey ? { certFile: a.redfishTlsCert, keyFile: a.redfishTlsKey } : {}),
    names,
    now: new Date(),
    generate: (n, now) => (require(join(__dirname, '..', 'redfish', 'self-signed-certificate.js')) as typeof import('../redfish/self-signed-certificate')).generateSelfSigned(n, now),
  });
}

/** The worker processes this farm takes: FARM_WORKERS, else what its sockets and size need. */
export function workerCount(config: FarmConfig, fdLimit: number): number {
  if (config.workers !== undefined) return Math.min(config.workers, config.plan.count);
  return workersNeeded(config.plan.count, config.agent.redfishPort === undefined ? 1 : 2, fdLimit);
}

export async function runFarm(config: FarmConfig, log: Logger): Promise<void> {
  const started = Date.now();
  const state = FarmStateStore.open(config.agent.stateDir);
  const restored = state.bmcCount;
  const onFlushError = (err: unknown): void => log.error('farm state could not be written; kept for the next try', { error: String(err) });
  const workers = workerCount(config, openFilesLimit());
  const lab: ClaimedLab | undefined = config.labInterface === undefined ? undefined : await new LabInterface(config.labInterface).claim(config.plan, log);
  const releaseLab = async (): Promise<void> => {
    if (!lab) return;
    const removed = await lab.release();
    log.info('BMC addresses taken off the lab interface', { interface: lab.lan.interfaceName, removed });
  };
  let stopBmcs: () => Promise<void>;
  try {
    if (workers === 1) {
      const farm = await Farm.start({
        config, from: 0, to: config.plan.count, store: (i) => state.forBmc(i), tls: await farmTls(config), farmTag: farmTagOf(config),
        ...(lab ? { lan: lab.lan } : {}), log,
      });
      stopBmcs = () => farm.stop();
      collectStartGarbage();
    } else {
      const supervisor = new FarmSupervisor(slicesOf(config.plan.count, workers, state.shardSize), state, log, undefined, lab?.lan);
      stopBmcs = () => supervisor.stop();
      try {
        await supervisor.start();
      } catch (err) {
        await supervisor.stop();
        throw err;
      }
    }
  } catch (err) {
    await releaseLab().catch((e: unknown) => log.error('BMC addresses could not be taken off the lab interface', { error: String(e) }));
    throw err;
  }
  state.startAutoFlush(STATE_FLUSH_MS, onFlushError);
  const first = endpointOf(config.plan, 0);
  const last = endpointOf(config.plan, config.plan.count - 1);
  log.info('farm listening', {
    bmcs: config.plan.count, workers, mode: config.plan.mode, first: `${first.address}:${first.port}`, last: `${last.address}:${last.port}`,
    restoredState: restored, startMs: Date.now() - started, redfishPort: config.agent.redfishPort ?? 'none',
    ...(lab ? { interface: lab.lan.interfaceName, netmask: lab.lan.netmask, gateway: lab.lan.gateway ?? 'none' } : {}),
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('farm stopping', { signal });
    state.stopAutoFlush();
    stopBmcs()
      .then(() => state.flush())
      .then(() => releaseLab())
      .then(() => process.exit(0), (err: unknown) => { log.error('farm stop failed', { error: String(err) }); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

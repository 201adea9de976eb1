/**
 * The node image's managed farm entry (`node /opt/bmcfleet/agent/farm/managed-farm-main.js`): a farm
 * that starts with the BMCs of its roster (none the first time) and takes BMCs in and out through its
 * control socket (farm-control.ts), as the orchestrator places `machine: sim` nodes in it. Reads the
 * agent's variables shared by every BMC (IPMI_CIPHER_SUITES, IPMI_V15, BMC_STATE_DIR,
 * SIM_POWER_DELAY_MS, REDFISH_TLS_CERT/KEY, DEBUG) and:
 *   FARM_CONTROL_SOCKET  the control socket (default $BMC_STATE_DIR/farm.sock)
 *   FARM_TAG             0–65535, the farm's part of its BMCs' MACs (02:tt:tt:ii:ii:ii; default from the host name)
 *   FARM_TLS_NAMES       comma-separated extra names/addresses of the farm's one Redfish certificate
 * Exits non-zero with every configuration problem listed; on SIGTERM/SIGINT stops every BMC and
 * writes the state that is left.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type AgentConfig } from '../config';
import { FileStateStore } from '../state/file-state-store';
import { loadTlsMaterial } from '../redfish/tls-certificate';
import { batchedStderr, createLogger, type Logger } from '../util/logger';
import { Farm } from './farm';
import { startFarmControl } from './farm-control';
import { FarmRoster } from './farm-roster';
import { collectStartGarbage, STATE_FLUSH_MS } from './farm-runner';
import { FarmStateStore } from './farm-state-store';
import { ManagedFarm } from './managed-farm';

Buffer.poolSize = 0; // as farm-main.ts: many small long-lived Buffers

interface ManagedFarmConfig {
  readonly agent: AgentConfig;
  readonly controlSocket: string;
  readonly farmTag: number;
  readonly tlsNames: readonly string[];
}

function loadManagedFarmConfig(env: NodeJS.ProcessEnv): ManagedFarmConfig {
  const problems: string[] = [];
  let agent: AgentConfig | undefined;
  try {
    agent = loadConfig({ ...env, MACHINE: 'sim', REDFISH_PORT: 'none', BMC_FAULTS_SOCKET: 'none' }, 'farm');
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  let farmTag = 0;
  for (const c of Buffer.from(hostname())) farmTag = (Math.imul(farmTag ^ c, 0x01000193) >>> 0);
  farmTag &= 0xffff;
  if (env.FARM_TAG) {
    if (!/^\d+$/.test(env.FARM_TAG) || Number(env.FARM_TAG) > 0xffff) problems.push(`FARM_TAG="${env.FARM_TAG}" must be a whole number from 0 to 65535`);
    else farmTag = Number(env.FARM_TAG);
  }
  if (problems.length > 0 || agent === undefined) throw new ConfigError(problems);
  const controlSocket = env.FARM_CONTROL_SOCKET || join(agent.stateDir, 'farm.sock');
  const tlsNames = (env.FARM_TLS_NAMES ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  return { agent, controlSocket, farmTag, tlsNames };
}

async function run(config: ManagedFarmConfig, log: Logger): Promise<void> {
  const started = Date.now();
  const a = config.agent;
  const state = FarmStateStore.open(a.stateDir);
  const roster = FarmRoster.open(a.stateDir);
  const tls = await loadTlsMaterial({
    // Where a node's agent keeps its certificate (BMC_STATE_DIR), so the orchestrator reads a farm's as a node's.
    store: new FileStateStore(a.stateDir),
    ...(a.redfishTlsCert && a.redfishTlsKey ? { certFile: a.redfishTlsCert, keyFile: a.redfishTlsKey } : {}),
    names: [...new Set([hostname(), 'localhost', '127.0.0.1', ...config.tlsNames])],
    now: new Date(),
    generate: (n, now) => (require(join(__dirname, '..', 'redfish', 'self-signed-certificate.js')) as typeof import('../redfish/self-signed-certificate')).generateSelfSigned(n, now),
  });
  const farm = await Farm.start({
    config: { agent: a, plan: { mode: 'ports', count: 1, firstAddress: '127.0.0.1', firstPort: 1 }, workers: 1, namePrefix: 'farm' },
    from: 0, to: 0, store: (i) => state.forBmc(i), tls, farmTag: config.farmTag, log,
  });
  const managed = await ManagedFarm.start(farm, roster, state, log);
  collectStartGarbage();
  state.startAutoFlush(STATE_FLUSH_MS, (err) => log.error('farm state could not be written; kept for the next try', { error: String(err) }));
  const control = await startFarmControl(config.controlSocket, managed, Date.now, log);
  log.info('managed farm ready', { bmcs: managed.size, startMs: Date.now() - started, farmTag: config.farmTag });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('farm stopping', { signal });
    state.stopAutoFlush();
    control.close()
      .then(() => farm.stop())
      .then(() => state.flush())
      .then(() => process.exit(0), (err: unknown) => { log.error('farm stop failed', { error: String(err) }); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function main(): void {
  let config: ManagedFarmConfig;
  try {
    config = loadManagedFarmConfig(process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger({ debug: config.agent.debug, component: 'farm', write: batchedStderr() });
  run(config, log).catch((err: unknown) => {
    process.stderr.write(`farm failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

main();

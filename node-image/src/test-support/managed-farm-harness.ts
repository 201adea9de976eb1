/**
 * A managed farm in this process for tests: an empty farm slice in port mode, its roster and state
 * in `dir`, and its control socket at `dir/farm.sock`, driven as farm-ctl drives it.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { silentLogger } from '../util/logger';
import { Farm } from '../farm/farm';
import { startFarmControl, type FarmControl } from '../farm/farm-control';
import { requestOf } from '../farm/farm-ctl';
import { FarmRoster } from '../farm/farm-roster';
import { FarmStateStore } from '../farm/farm-state-store';
import { ManagedFarm } from '../farm/managed-farm';
import type { TlsMaterial } from '../redfish/tls-certificate';

export interface RunningManagedFarm { farm: Farm; managed: ManagedFarm; control: FarmControl; state: FarmStateStore }

/** Starts (or starts again, on the same directory) a managed farm with no BMCs but its roster's. */
export async function startManagedFarm(dir: string, o: { readonly farmTag: number; readonly tls?: TlsMaterial }): Promise<RunningManagedFarm> {
  const agent = loadConfig({ MACHINE: 'sim', REDFISH_PORT: 'none', BMC_STATE_DIR: dir, SIM_POWER_DELAY_MS: '0' }, 'farm');
  const state = FarmStateStore.open(dir);
  const farm = await Farm.start({
    config: { agent, plan: { mode: 'ports', count: 1, firstAddress: '127.0.0.1', firstPort: 1 }, workers: 1, namePrefix: 'farm' },
    from: 0, to: 0, store: (i) => state.forBmc(i), ...(o.tls ? { tls: o.tls } : {}), farmTag: o.farmTag, log: silentLogger,
  });
  const managed = await ManagedFarm.start(farm, FarmRoster.open(dir), state, silentLogger);
  const control = await startFarmControl(join(dir, 'farm.sock'), managed, Date.now, silentLogger);
  return { farm, managed, control, state };
}

/** Stops the control socket and the farm, and writes its state. */
export async function stopManagedFarm(r: RunningManagedFarm): Promise<void> {
  await r.control.close();
  await r.farm.stop();
  await r.state.flush();
}

/** What farm-ctl sends for argv, through the farm's control socket. */
export function farmCtl(dir: string, argv: string[]): Promise<{ status: number; body: unknown }> {
  const r = requestOf(argv);
  if (!r) throw new Error(`not a farm-ctl command: ${argv.join(' ')}`);
  return new Promise((resolve, reject) => {
    const req = request({ agent: false, socketPath: join(dir, 'farm.sock'), method: r.method, path: r.url, headers: r.body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', (e) => reject(new Error(`farm-ctl ${argv.join(' ')}: ${String(e)}`)));
    req.end(r.body);
  });
}

/**
 * 20,000 malformed or odd requests straight into the Redfish service (no socket): every one gets a
 * well-formed answer, none a 500, and the service still serves a normal request afterwards.
 * Deterministic: the inputs come from a seeded generator.
 */
import { MemoryStateStore } from '../state/state-store';
import { UserStore } from '../bmc/users/user-store';
import { BootOptions } from '../bmc/chassis/boot-options';
import { ChassisState } from '../bmc/chassis/chassis-state';
import { SystemEventLog } from '../bmc/sel/system-event-log';
import { SimMachine } from '../machine/sim-machine';
import { Accounts } from '../core/accounts';
import { BootOverrideRecord } from '../core/boot-override';
import { EventLog } from '../core/event-log';
import { PowerService } from '../core/power-service';
import { VirtualMediaService } from '../core/virtual-media';
import { BmcEvents } from '../core/bmc-events';
import { silentLogger } from '../util/logger';
import { RedfishService } from './redfish-service';

const REQUESTS = 20_000;
const T0 = 1_700_000_000_000;

/** xorshift32: reproducible inputs. */
function generator(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 0x100000000; };
}

describe('Redfish service under malformed input', () => {
  it(`answers ${REQUESTS} odd requests with Redfish statuses and bodies, never a 500`, async () => {
    const store = new MemoryStateStore();
    const clock = (): number => T0;
    const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
    const boot = new BootOptions({ store, clock });
    const chassis = new ChassisState({ store });
    const eventLog = new EventLog(new SystemEventLog(store));
    const machine = new SimMachine({ boot, nodeName: 'fuzz', powerDelayMs: 0 });
    const service = new RedfishService({
      core: {
        machine, chassis, eventLog, clock, events: new BmcEvents(),
        virtualMedia: new VirtualMediaService({ store, drives: machine.media, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } }),
        power: new PowerService({ machine, boot, chassis, eventLog }),
        bootOverride: new BootOverrideRecord({ boot, store }),
        accounts: new Accounts(users),
        systemUuid: '11111111-2222-4333-8444-555555555555', bmcUuid: '66666666-7777-4888-9999-000000000000',
        product: { manufacturer: 'bmcfleet', productName: 'p', partNumber: 'x', serialNumber: 'fuzz' },
        nodeName: 'fuzz', firmwareVersion: '0.10', hardware: { cpus: 1, memoryMiB: 512 },
      },
      random: (n) => Buffer.alloc(n, 7),
      log: silentLogger,
    });
    const rnd = generator(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    const methods = ['GET', 'PATCH', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'TRACE', 'get', '', 'X'.repeat(50)];
    const paths = ['/redfish/v1/Systems/1', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', '/redfish/v1/SessionService/Sessions', '/redfish/v1/SessionService',
      '/redfish/v1/AccountService/Accounts/%ZZ', '/redfish/v1/Managers/1/LogServices/SEL/Entries/99999999999999999999', '//redfish//v1', '/redfish/v1/../../etc/passwd',
      '/redfish/v1/Systems/%00', '/', '', '/redfish/v1/Systems/1/', `/redfish/v1/${'a/'.repeat(500)}`, '/redfish/v1/AccountService/Roles/constructor', '/redfish/v1/Systems/__proto__'];
    const bodies = (): Buffer => pick([
      () => Buffer.alloc(0), () => bytes(Math.floor(rnd() * 64)), () => Buffer.from('{"Boot":{"BootSourceOverrideTarget":'), () => Buffer.from('null'),
      () => Buffer.from('{"ResetType":{"$ne":1}}'), () => Buffer.from('{"Boot":{"BootSourceOverrideEnabled":[]},"__proto__":{"x":1}}'),
      () => Buffer.from(`{"UserName":"${'a'.repeat(2000)}","Password":5}`), () => Buffer.from('[[[[[[[[[[[[]]]]]]]]]]]]'), () => Buffer.from('{"Boot":null}'),
      () => Buffer.from('{"SessionTimeout":1e308}'), () => Buffer.from('"\\ud800"'),
    ])();
    const headerSets = (): Record<string, string> => pick<Record<string, string>>([
      {}, { authorization: 'Basic ' + Buffer.from('admin:password').toString('base64') }, { authorization: 'Basic !!!' }, { authorization: 'Bearer x' },
      { authorization: 'Basic ' + Buffer.from('admin').toString('base64') }, { 'x-auth-token': 'a'.repeat(32) }, { 'x-auth-token': '' },
      { authorization: 'Basic ' + Buffer.from('admin:password').toString('base64'), 'if-match': pick(['*', 'W/"x"', '', ',,,', '"' + 'a'.repeat(100) + '"']), 'content-type': pick(['application/json', 'text/html', '', 'application/json; charset=utf-8']) },
    ]);
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const req = { method: pick(methods), path: pick(paths), headers: headerSets(), body: bodies(), remote: '198.51.100.1' };
      const r = await service.handle(req, T0);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status >= 500 && r.status !== 503) throw new Error(`request ${i} (${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body.toString('latin1').slice(0, 80)}) got ${r.status}`);
      if (r.status >= 400) {
        const code = (r.body as { error?: { code?: unknown } } | undefined)?.error?.code;
        if (typeof code !== 'string' || !code.startsWith('Base.')) throw new Error(`request ${i}: ${r.status} without a Redfish error body`);
      }
    }
    expect([...statuses.keys()].every((s) => s < 500 || s === 503)).toBe(true);
    const after = await service.handle({ method: 'GET', path: '/redfish/v1/Systems/1', headers: { authorization: 'Basic ' + Buffer.from('admin:password').toString('base64') }, body: Buffer.alloc(0), remote: '198.51.100.1' }, T0);
    expect(after.status).toBe(200);
    await machine.close();
  }, 120_000);
});

/**
 * EventService, SSE and TaskService through the service, without sockets: a real core (simulated
 * machine, boot options, SEL) with its event bus; push deliveries go to a recording poster (the
 * outbound HTTP itself is exercised in test/integration/redfish-events.int-spec.ts).
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
import { BmcEvents, publishChanges } from '../core/bmc-events';
import { VirtualMediaService } from '../core/virtual-media';
import type { BmcCore } from '../core/bmc-core';
import { silentLogger } from '../util/logger';
import { Privilege } from '../protocol/errors';
import { RedfishService } from './redfish-service';
import type { EventPostRequest } from './events/event-delivery';
import type { RedfishRequest, RedfishResponse } from './http-types';

const T0 = 1_700_000_000_000;
const ADMIN = { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` };
const SUBS = '/redfish/v1/EventService/Subscriptions';

function setup(opts: { status?: number; store?: MemoryStateStore } = {}) {
  const store = opts.store ?? new MemoryStateStore();
  const clock = (): number => T0;
  const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
  const boot = new BootOptions({ store, clock });
  const chassis = new ChassisState({ store });
  const eventLog = new EventLog(new SystemEventLog(store));
  const machine = new SimMachine({ boot, nodeName: 'n1', powerDelayMs: 0 });
  const events = new BmcEvents();
  const bootOverride = new BootOverrideRecord({ boot, store });
  const core: BmcCore = {
    machine, chassis, eventLog, clock, events, bootOverride,
    virtualMedia: new VirtualMediaService({ store, drives: machine.media, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } }),
    power: new PowerService({ machine, boot, chassis, eventLog }),
    accounts: new Accounts(users),
    systemUuid: '11111111-2222-4333-8444-555555555555', bmcUuid: '66666666-7777-4888-9999-000000000000',
    product: { manufacturer: 'bmcfleet', productName: 'p', partNumber: 'x', serialNumber: 'n1' },
    nodeName: 'n1', firmwareVersion: '0.10', hardware: { cpus: 2, memoryMiB: 2048 },
  };
  // As the agent does: every power transition goes into the SEL.
  machine.on('power', (state) => eventLog.record(state === 'on' ? 'power-on' : 'power-off', T0));
  const stopPublishing = publishChanges(events, { machine, boot, bootOverride, eventLog, clock });
  const posted: EventPostRequest[] = [];
  const service = new RedfishService({
    core, random: (n) => Buffer.alloc(n, 7), log: silentLogger, store,
    post: async (r) => { posted.push(r); return opts.status ?? 204; },
    sleep: async () => {},
  });
  service.start();
  const send = (method: string, path: string, o: { headers?: Record<string, string>; body?: unknown; query?: string } = {}): Promise<RedfishResponse> => {
    const req: RedfishRequest = {
      method, path, remote: '192.0.2.1', ...(o.query !== undefined ? { query: o.query } : {}),
      headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...ADMIN, ...o.headers },
      body: Buffer.from(o.body === undefined ? '' : JSON.stringify(o.body)),
    };
    return service.handle(req, T0);
  };
  const close = async (): Promise<void> => { service.close(); stopPublishing(); await machine.close(); };
  return { core, users, machine, boot, eventLog, events, service, send, posted, store, close };
}

const json = (r: RedfishResponse): any => r.body;
const code = (r: RedfishResponse): string => String(json(r).error.code).replace(/^Base\.\d+\.\d+\.\d+\./, '');
const messageIds = (posted: EventPostRequest[]): string[] => posted.flatMap((p) => (JSON.parse(p.body) as { Events: Array<{ MessageId: string }> }).Events.map((e) => e.MessageId));

describe('EventService', () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => { env = setup(); });
  afterEach(async () => { await env.close(); });

  it('describes itself with the SSE URI, formats, registries and the test action', async () => {
    const r = json(await env.send('GET', '/redfish/v1/EventService'));
    expect(r).toMatchObject({
      ServiceEnabled: true, DeliveryRetryAttempts: 3, DeliveryRetryIntervalSeconds: 30, EventFormatTypes: ['Event'],
      RegistryPrefixes: ['Base', 'ResourceEvent', 'TaskEvent'], ServerSentEventUri: '/redfish/v1/EventService/SSE',
      Subscriptions: { '@odata.id': SUBS },
      Actions: { '#EventService.SubmitTestEvent': { target: '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent' } },
    });
    expect(json(await env.send('GET', '/redfish/v1')).EventService).toEqual({ '@odata.id': '/redfish/v1/EventService' });
  });

  it('creates a subscription (201, Location), pushes power, boot and SEL events to it, never shows its headers, deletes it', async () => {
    const created = await env.send('POST', SUBS, { body: { Destination: 'https://198.51.100.7:8443/events?k=1', Protocol: 'Redfish', Context: 'ctx-1', HttpHeaders: [{ Authorization: 'Bearer s3cret' }] } });
    expect(created.status).toBe(201);
    expect(created.headers.Location).toBe(`${SUBS}/1`);
    expect(json(created)).toMatchObject({ Destination: 'https://198.51.100.7:8443/events?k=1', Context: 'ctx-1', HttpHeaders: [], SubscriptionType: 'RedfishEvent' });
    expect(JSON.stringify(json(await env.send('GET', `${SUBS}/1`)))).not.toContain('s3cret');

    await env.send('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } });
    await env.send('PATCH', '/redfish/v1/Systems/1', { body: { Boot: { BootSourceOverrideTarget: 'Pxe' } } });
    await env.service.events.delivery.idle();
    expect(messageIds(env.posted)).toEqual(expect.arrayContaining(['ResourceEvent.1.4.2.ResourcePoweredOn', 'ResourceEvent.1.4.2.ResourceChanged', 'ResourceEvent.1.4.2.ResourceCreated']));
    const first = env.posted[0]!;
    expect(first.headers).toEqual({ Authorization: 'Bearer s3cret' });
    expect(JSON.parse(first.body)).toMatchObject({ '@odata.type': '#Event.v1_13_0.Event', Context: 'ctx-1' });

    expect((await env.send('DELETE', `${SUBS}/1`)).status).toBe(204);
    expect((await env.send('GET', `${SUBS}/1`)).status).toBe(404);
    const before = env.posted.length;
    env.events.mediaChanged({ slot: 'Cd', image: null, inserted: false, at: T0 });
    await env.service.events.delivery.idle();
    expect(env.posted.length).toBe(before);
  });

  it('filters by RegistryPrefixes and ResourceTypes', async () => {
    await env.send('POST', SUBS, { body: { Destination: 'http://198.51.100.7/a', Protocol: 'Redfish', ResourceTypes: ['VirtualMedia'] } });
    await env.send('POST', SUBS, { body: { Destination: 'http://198.51.100.7/b', Protocol: 'Redfish', RegistryPrefixes: ['Base'] } });
    env.events.mediaChanged({ slot: 'Cd', image: 'http://198.51.100.9/x.iso', inserted: true, at: T0 });
    await env.send('POST', '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent', { body: { MessageId: 'Base.1.16.0.Success', Message: 'hello' } });
    await env.service.events.delivery.idle();
    expect(env.posted.map((p) => [p.url, JSON.parse(p.body).Events[0].OriginOfCondition['@odata.id']])).toEqual([
      ['http://198.51.100.7/a', '/redfish/v1/Managers/1/VirtualMedia/Cd'],
      ['http://198.51.100.7/b', '/redfish/v1/EventService'],
    ]);
  });

  it.each([
    [{ Protocol: 'Redfish' }, 400, 'PropertyMissing', 'Destination'],
    [{ Destination: 'file:///etc/passwd', Protocol: 'Redfish' }, 400, 'PropertyValueIncorrect', 'scheme file'],
    [{ Destination: 'https://127.0.0.1/x', Protocol: 'Redfish' }, 400, 'PropertyValueIncorrect', 'loopback'],
    [{ Destination: 'http://169.254.169.254/latest', Protocol: 'Redfish' }, 400, 'PropertyValueIncorrect', 'link-local'],
    [{ Destination: 'https://u:p@198.51.100.7/x', Protocol: 'Redfish' }, 400, 'PropertyValueIncorrect', 'credentials in the URL'],
    [{ Destination: 'https://198.51.100.7/x', Protocol: 'SNMPv2c' }, 400, 'PropertyValueIncorrect', 'only Redfish'],
    [{ Destination: 'https://198.51.100.7/x', Protocol: 'Redfish', RegistryPrefixes: ['Nope'] }, 400, 'PropertyValueIncorrect', 'one of Base'],
    [{ Destination: 'https://198.51.100.7/x', Protocol: 'Redfish', HttpHeaders: [{ 'Bad Name': 'x' }] }, 400, 'PropertyValueIncorrect', 'not a header name'],
    [{ Destination: 42, Protocol: 'Redfish' }, 400, 'PropertyValueTypeError', 'Destination'],
    [{ Destination: 'https://198.51.100.7/x', Protocol: 'Redfish', Frobnicate: 1 }, 400, 'PropertyUnknown', 'Frobnicate'],
  ])('refuses %j: %i %s naming %s', async (body, status, id, words) => {
    const r = await env.send('POST', SUBS, { body });
    expect([r.status, code(r)]).toEqual([status, id]);
    expect(JSON.stringify(r.body)).toContain(words);
  });

  it('lets a ReadOnly user read the EventService and open the stream, but not read or make subscriptions', async () => {
    env.users.setName(3, Buffer.from('viewer'));
    env.users.setPassword(3, Buffer.from('viewpass'), 16);
    env.users.setAccess(3, Privilege.User);
    env.users.setEnabled(3, true);
    const viewer = { authorization: `Basic ${Buffer.from('viewer:viewpass').toString('base64')}` };
    expect((await env.send('GET', '/redfish/v1/EventService', { headers: viewer })).status).toBe(200);
    expect((await env.send('GET', '/redfish/v1/EventService/SSE', { headers: viewer })).status).toBe(200);
    expect((await env.send('GET', SUBS, { headers: viewer })).status).toBe(403);
    expect((await env.send('POST', SUBS, { headers: viewer, body: { Destination: 'https://198.51.100.7/x', Protocol: 'Redfish' } })).status).toBe(403);
  });

  it('accepts Ironic\'s vendor-passthru body (EventTypes, Context, Protocol, HttpHeaders)', async () => {
    const r = await env.send('POST', SUBS, { body: { Destination: 'https://198.51.100.7/ironic', EventTypes: ['Alert'], Context: '', Protocol: 'Redfish', HttpHeaders: [] } });
    expect([r.status, json(r).EventTypes]).toEqual([201, ['Alert']]);
  });

  it('keeps subscriptions and settings across a restart of the service', async () => {
    await env.send('POST', SUBS, { body: { Destination: 'https://198.51.100.7/keep', Protocol: 'Redfish' } });
    await env.send('PATCH', '/redfish/v1/EventService', { body: { DeliveryRetryIntervalSeconds: 5 } });
    const again = setup({ store: env.store });
    try {
      expect(json(await again.send('GET', `${SUBS}/1`)).Destination).toBe('https://198.51.100.7/keep');
      expect(json(await again.send('GET', '/redfish/v1/EventService')).DeliveryRetryIntervalSeconds).toBe(5);
    } finally { await again.close(); }
  });

  it('PATCH refuses out-of-range retry settings and read-only properties', async () => {
    const r = await env.send('PATCH', '/redfish/v1/EventService', { body: { DeliveryRetryAttempts: 99 } });
    expect([r.status, code(r)]).toEqual([400, 'PropertyValueOutOfRange']);
    const ro = await env.send('PATCH', '/redfish/v1/EventService', { body: { ServerSentEventUri: '/x' } });
    expect([ro.status, code(ro)]).toEqual([400, 'PropertyNotWritable']);
  });
});

describe('retries and the end of a subscription', () => {
  it('a destination that keeps failing gets 1 + DeliveryRetryAttempts tries, then its subscription ends', async () => {
    const env = setup({ status: 503 });
    try {
      await env.send('PATCH', '/redfish/v1/EventService', { body: { DeliveryRetryAttempts: 2 } });
      await env.send('POST', SUBS, { body: { Destination: 'https://198.51.100.7/down', Protocol: 'Redfish' } });
      env.events.mediaChanged({ slot: 'Cd', image: null, inserted: false, at: T0 });
      await env.service.events.delivery.idle();
      expect(env.posted.length).toBe(3);
      expect(json(await env.send('GET', SUBS)).Members).toEqual([]);
    } finally { await env.close(); }
  });
});

describe('Server-Sent Events', () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => { env = setup(); });
  afterEach(async () => { await env.close(); });

  const open = async (query?: string): Promise<{ r: RedfishResponse; chunks: string[]; stop: () => void }> => {
    const r = await env.send('GET', '/redfish/v1/EventService/SSE', query === undefined ? {} : { query });
    const chunks: string[] = [];
    const stop = r.stream ? r.stream.open((c) => { chunks.push(c); return true; }, () => {}) : () => {};
    return { r, chunks, stop };
  };

  it('streams events as `id:` and `data:` lines, filtered by $filter', async () => {
    const all = await open();
    const power = await open(`$filter=${encodeURIComponent("RegistryPrefix eq 'ResourceEvent' or MessageId eq 'Base.1.16.0.Success'")}`);
    const media = await open(`$filter=${encodeURIComponent("ResourceType eq 'VirtualMedia'")}`);
    expect([all.r.status, all.r.headers['Content-Type']]).toEqual([200, 'text/event-stream']);
    await env.send('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } });
    const events = (chunks: string[]): string[] => chunks.filter((c) => c.startsWith('id: ')).flatMap((c) => JSON.parse(c.split('\ndata: ')[1]!).Events.map((e: { MessageId: string }) => e.MessageId));
    expect(events(all.chunks)).toEqual(expect.arrayContaining(['ResourceEvent.1.4.2.ResourcePoweredOn']));
    expect(events(power.chunks)).toEqual(events(all.chunks));
    expect(events(media.chunks)).toEqual([]);
    for (const s of [all, power, media]) s.stop();
  });

  it('refuses a $filter it cannot apply, naming the reason', async () => {
    const r = await env.send('GET', '/redfish/v1/EventService/SSE', { query: `$filter=${encodeURIComponent("Severity gt 'OK'")}` });
    expect([r.status, code(r)]).toEqual([400, 'QueryParameterValueFormatError']);
    expect(JSON.stringify(r.body)).toContain('not of the form');
  });

  it('ends a stream once the session that opened it is deleted', async () => {
    const login = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' }, headers: { authorization: '' } });
    const token = { 'x-auth-token': login.headers['X-Auth-Token']!, authorization: '' };
    const r = await env.send('GET', '/redfish/v1/EventService/SSE', { headers: token });
    const chunks: string[] = [];
    let ended = false;
    r.stream!.open((c) => { chunks.push(c); return true; }, () => { ended = true; });
    env.events.mediaChanged({ slot: 'Cd', image: null, inserted: false, at: T0 });
    expect([chunks.filter((c) => c.startsWith('id: ')).length, ended]).toEqual([1, false]);
    expect((await env.send('DELETE', login.headers.Location!, { headers: token })).status).toBe(204);
    env.events.mediaChanged({ slot: 'Cd', image: null, inserted: false, at: T0 });
    expect([chunks.filter((c) => c.startsWith('id: ')).length, ended, env.service.events.streamCount]).toEqual([1, true, 0]);
  });

  it('ends a stream whose client falls behind', async () => {
    const r = await env.send('GET', '/redfish/v1/EventService/SSE');
    let ended = false;
    r.stream!.open((c) => c.startsWith(':'), () => { ended = true; });
    env.events.mediaChanged({ slot: 'Cd', image: null, inserted: false, at: T0 });
    expect([ended, env.service.events.streamCount]).toEqual([true, 0]);
  });
});

describe('TaskService', () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => { env = setup(); });
  afterEach(async () => { await env.close(); });
  const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';

  it('without Prefer, Reset answers 204 as before; with Prefer: respond-async, 202 and a monitor that ends with the result', async () => {
    expect((await env.send('POST', RESET, { body: { ResetType: 'On' } })).status).toBe(204);
    const r = await env.send('POST', RESET, { body: { ResetType: 'ForceOff' }, headers: { prefer: 'respond-async' } });
    expect(r.status).toBe(202);
    const monitor = r.headers.Location!;
    expect(monitor).toMatch(/^\/redfish\/v1\/TaskService\/TaskMonitors\/\d+$/);
    expect(json(r)).toMatchObject({ '@odata.type': '#Task.v1_7_4.Task', TaskState: 'Running', TaskMonitor: monitor });
    let m = await env.send('GET', monitor);
    for (let i = 0; i < 100 && m.status === 202; i++) { await new Promise((res) => setImmediate(res)); m = await env.send('GET', monitor); }
    expect(m.status).toBe(204);
    expect(await env.core.power.powerState()).toBe('off');
    const task = json(await env.send('GET', `/redfish/v1/TaskService/Tasks/${json(r).Id}`));
    expect(task).toMatchObject({ TaskState: 'Completed', TaskStatus: 'OK', PercentComplete: 100 });
    expect(task.Messages.map((x: { MessageId: string }) => x.MessageId)).toEqual(['TaskEvent.1.0.3.TaskStarted', 'TaskEvent.1.0.3.TaskCompletedOK']);
    expect(json(await env.send('GET', '/redfish/v1/TaskService/Tasks')).Members).toEqual([{ '@odata.id': `/redfish/v1/TaskService/Tasks/${json(r).Id}` }]);
  });

  it('a failing action ends its task in Exception with the error; bad input is refused before any task', async () => {
    const r = await env.send('POST', RESET, { body: { ResetType: 'ForceRestart' }, headers: { prefer: 'respond-async' } });
    expect(r.status).toBe(202);
    let m = await env.send('GET', r.headers.Location!);
    for (let i = 0; i < 100 && m.status === 202; i++) { await new Promise((res) => setImmediate(res)); m = await env.send('GET', r.headers.Location!); }
    expect([m.status, code(m)]).toEqual([409, 'OperationNotAllowed']);
    expect(json(await env.send('GET', `/redfish/v1/TaskService/Tasks/${json(r).Id}`))).toMatchObject({ TaskState: 'Exception', TaskStatus: 'Critical' });
    const bad = await env.send('POST', RESET, { body: { ResetType: 'Sideways' }, headers: { prefer: 'respond-async' } });
    expect([bad.status, code(bad)]).toEqual([400, 'ActionParameterNotSupported']);
  });
});

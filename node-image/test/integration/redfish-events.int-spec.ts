/**
 * Redfish events from the agent (MACHINE=sim) to real receivers: an HTTPS listener subscribed as a
 * push destination (its certificate trusted by the agent through NODE_EXTRA_CA_CERTS and verified,
 * VerifyCertificate true) gets the power and SEL events `ipmitool chassis power on` causes, and test
 * events; a listener whose certificate is not trusted gets nothing and its subscription ends; the
 * Server-Sent Events stream gets the power and boot events ipmitool causes; sushy (Debian's
 * python3-sushy) creates and deletes a subscription with Ironic's body. Every event received is
 * validated against DMTF's Event schema. Loopback destinations are allowed here by
 * REDFISH_EVENT_ALLOW_LOOPBACK=true (they are refused by default).
 */
import { createServer, request, type Server } from 'node:https';
import type { ClientRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AGENT_MAIN } from '../support/agent-process';
import { describeWithTools, run } from '../support/tools';
import { ipmitool, pollUntil } from '../support/ipmitool-runner';
import { redfishCall, startRedfishAgent, type CallOptions, type RedfishAgent } from '../support/redfish-http';
import { expectRedfishValid } from '../support/redfish-schema';
import { generateSelfSigned } from '../../src/redfish/self-signed-certificate';
import { startRangeFileServer } from '../support/range-file-server';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const SUSHY_EVENTS = join(__dirname, 'redfish-sushy-events.py');
const ADMIN = { user: 'admin', password: 'password' };
const SUBS = '/redfish/v1/EventService/Subscriptions';
const SYSTEMS_1 = '/redfish/v1/Systems/1';
const TEST_EVENT = '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent';

jest.setTimeout(120_000);

interface EventRecord { MessageId: string; OriginOfCondition: { '@odata.id': string }; Context?: string }
interface EventBody { Id: string; Context?: string; Events: EventRecord[] }

/** An HTTPS receiver of pushed events. */
class Receiver {
  readonly events: Array<{ body: EventBody; headers: Record<string, unknown> }> = [];
  private constructor(readonly server: Server, readonly port: number) {}

  static async start(tls: { cert: string; key: string }): Promise<Receiver> {
    const holder: { r?: Receiver } = {};
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        holder.r?.events.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as EventBody, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.r = new Receiver(server, (server.address() as { port: number }).port);
    return holder.r;
  }

  get url(): string { return `https://127.0.0.1:${this.port}/events`; }
  messageIds(): string[] { return this.events.flatMap((e) => e.body.Events.map((x) => x.MessageId)); }
  close(): Promise<void> { return new Promise((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); }); }
}

/** An SSE client on the agent's stream, collecting the events' records. */
function openSse(rf: RedfishAgent, query = ''): Promise<{ records: EventRecord[]; raw: () => string; close: () => void; status: number }> {
  return new Promise((resolve, reject) => {
    const headers = { Accept: 'text/event-stream', Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` };
    let text = '';
    const records: EventRecord[] = [];
    const req: ClientRequest = request({ host: '127.0.0.1', port: rf.redfishPort, path: `/redfish/v1/EventService/SSE${query}`, headers, ca: rf.ca, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const message = text.slice(0, end);
          text = text.slice(end + 2);
          const data = message.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) records.push(...(JSON.parse(data) as EventBody).Events);
        }
      });
      resolve({ records, raw: () => text, close: () => req.destroy(), status: res.statusCode ?? 0 });
    });
    req.on('error', (err) => { if (!req.destroyed) reject(err); });
    req.end();
  });
}

function describeWithSushy(): jest.Describe {
  const ok = run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0;
  if (ok) return describeWithTools(['ipmitool']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): Redfish event tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

const waitUntil = (probe: () => boolean, what: string): Promise<void> =>
  pollUntil(async () => probe(), (v) => v, { attempts: 300, timeoutMs: 30_000, intervalMs: 100 }).then((v) => { if (!v) throw new Error(`timed out waiting for ${what}`); });

describeWithSushy()('Redfish events of the agent', () => {
  let dir: string;
  let rf: RedfishAgent;
  let trusted: Receiver;
  let untrusted: Receiver;
  const call = (method: string, path: string, opts: CallOptions = {}) => redfishCall(rf, method, path, { auth: ADMIN, ...opts });
  const ipmi = (args: string[]) => ipmitool(rf.agent.port, args);

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-events-'));
    const goodTls = await generateSelfSigned(['127.0.0.1'], new Date());
    const otherTls = await generateSelfSigned(['127.0.0.1'], new Date());
    writeFileSync(join(dir, 'receiver-ca.pem'), goodTls.cert);
    trusted = await Receiver.start(goodTls);
    untrusted = await Receiver.start(otherTls);
    rf = await startRedfishAgent({ REDFISH_EVENT_ALLOW_LOOPBACK: 'true', NODE_EXTRA_CA_CERTS: join(dir, 'receiver-ca.pem') });
    expect((await call('PATCH', '/redfish/v1/EventService', { body: { DeliveryRetryAttempts: 0, DeliveryRetryIntervalSeconds: 1 } })).status).toBe(200);
  });
  afterAll(async () => {
    await rf?.agent.stop();
    await trusted?.close();
    await untrusted?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a subscribed HTTPS listener gets the power-on and SEL events of `ipmitool chassis power on`, and a test event; an untrusted one gets nothing', async () => {
    const created = await call('POST', SUBS, { body: { Destination: trusted.url, Protocol: 'Redfish', Context: 'int-test', VerifyCertificate: true, HttpHeaders: [{ 'X-Receiver-Token': 'tok-123' }] } });
    expect(created.status).toBe(201);
    await expectRedfishValid(created.body);
    expect(created.body.HttpHeaders).toEqual([]);
    const bad = await call('POST', SUBS, { body: { Destination: untrusted.url, Protocol: 'Redfish', VerifyCertificate: true } });
    expect(bad.status).toBe(201);

    expect((await ipmi(['chassis', 'power', 'on'])).status).toBe(0);
    await waitUntil(() => trusted.messageIds().includes('ResourceEvent.1.4.2.ResourcePoweredOn') && trusted.messageIds().includes('ResourceEvent.1.4.2.ResourceCreated'), 'the power-on and SEL events');
    const powerOn = trusted.events.find((e) => e.body.Events.some((x) => x.MessageId.endsWith('ResourcePoweredOn')))!;
    expect(powerOn.body.Events[0]!.OriginOfCondition['@odata.id']).toBe('/redfish/v1/Systems/1');
    expect(powerOn.body.Context).toBe('int-test');
    expect(powerOn.headers['x-receiver-token']).toBe('tok-123');
    const selEvent = trusted.events.flatMap((e) => e.body.Events).find((x) => x.MessageId.endsWith('ResourceCreated'))!;
    const entry = await call('GET', selEvent.OriginOfCondition['@odata.id']);
    expect([entry.status, entry.body.EntryType]).toEqual([200, 'SEL']);

    expect((await call('POST', TEST_EVENT, { body: { MessageId: 'Base.1.16.0.Success', Message: 'test from the integration test', OriginOfCondition: '/redfish/v1/Systems/1' } })).status).toBe(204);
    await waitUntil(() => trusted.events.some((e) => e.body.Events.some((x) => x.MessageId === 'Base.1.16.0.Success')), 'the test event');
    for (const e of trusted.events) await expectRedfishValid(e.body);

    // The untrusted listener's certificate failed verification: nothing arrived, its subscription ended.
    await waitUntil(() => rf.agent.output().includes('event subscription ended'), 'the untrusted subscription to end');
    expect(untrusted.events).toEqual([]);
    const members = (await call('GET', SUBS)).body.Members.map((m: { '@odata.id': string }) => m['@odata.id']);
    expect(members).toEqual([created.headers.location]);
    expect(rf.agent.output()).not.toContain('tok-123');
    expect((await call('DELETE', String(created.headers.location))).status).toBe(204);
  });

  it('the SSE stream gets the power and boot override events ipmitool causes, and $filter narrows it', async () => {
    // Powered on first, whatever the tests before left: the power-off below is a transition.
    expect((await ipmi(['chassis', 'power', 'on'])).status).toBe(0);
    expect(await pollUntil(async () => (await call('GET', SYSTEMS_1)).body.PowerState, (s) => s === 'On', { attempts: 100, timeoutMs: 15_000, intervalMs: 100 })).toBe('On');
    const all = await openSse(rf);
    const boot = await openSse(rf, `?$filter=${encodeURIComponent("MessageId eq 'ResourceEvent.1.4.2.ResourceChanged'")}`);
    expect([all.status, boot.status]).toEqual([200, 200]);
    expect((await ipmi(['chassis', 'bootdev', 'pxe'])).status).toBe(0);
    expect((await ipmi(['chassis', 'power', 'off'])).status).toBe(0);
    await waitUntil(() => all.records.some((r) => r.MessageId.endsWith('ResourcePoweredOff')) && all.records.some((r) => r.MessageId.endsWith('ResourceChanged')), 'power-off and boot events on the stream');
    expect(all.records.find((r) => r.MessageId.endsWith('ResourceChanged'))!.OriginOfCondition['@odata.id']).toBe('/redfish/v1/Systems/1');
    await waitUntil(() => boot.records.length > 0, 'the filtered stream');
    expect(boot.records.every((r) => r.MessageId === 'ResourceEvent.1.4.2.ResourceChanged')).toBe(true);
    all.close();
    boot.close();
    const refused = await openSse(rf, `?$filter=${encodeURIComponent('Severity gt 1')}`);
    expect(refused.status).toBe(400);
    refused.close();
  });

  it('the SSE stream gets a ResourceChanged for each virtual media insert and eject', async () => {
    writeFileSync(join(dir, 'media.iso'), Buffer.alloc(64 * 1024, 1));
    const images = await startRangeFileServer({ 'media.iso': join(dir, 'media.iso') });
    const media = await openSse(rf, `?$filter=${encodeURIComponent("ResourceType eq 'VirtualMedia'")}`);
    try {
      const cd = '/redfish/v1/Managers/1/VirtualMedia/Cd';
      expect((await call('POST', `${cd}/Actions/VirtualMedia.InsertMedia`, { body: { Image: images.url('media.iso') } })).status).toBe(204);
      expect((await call('POST', `${cd}/Actions/VirtualMedia.EjectMedia`, { body: {} })).status).toBe(204);
      await waitUntil(() => media.records.length >= 2, 'two media events');
      expect(media.records.map((r) => [r.MessageId, r.OriginOfCondition['@odata.id']])).toEqual([
        ['ResourceEvent.1.4.2.ResourceChanged', cd], ['ResourceEvent.1.4.2.ResourceChanged', cd],
      ]);
    } finally {
      media.close();
      await images.close();
    }
  });

  it('sushy reads the EventService, creates a subscription with Ironic\'s body, submits a test event and deletes the subscription', async () => {
    const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_EVENTS, `https://127.0.0.1:${rf.redfishPort}`, rf.caFile, ADMIN.user, ADMIN.password, trusted.url], { timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`sushy events driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({
      enabled: true, retry_attempts: 0, retry_interval: 1,
      created: { destination: trusted.url, context: 'sushy', protocol: 'Redfish', event_types: ['Alert'], http_headers: [] },
    });
    expect(out.members).toContain(`${SUBS}/${out.created.id}`);
    expect(out.after_delete).not.toContain(`${SUBS}/${out.created.id}`);
    expect(out.event_types).toEqual(expect.arrayContaining(['Alert']));
  });

  it('Reset with Prefer: respond-async answers 202 with a task monitor that ends in 204; the Task and TaskService match the schema', async () => {
    expect((await ipmi(['chassis', 'power', 'off'])).status).toBe(0);
    expect(await pollUntil(async () => (await call('GET', SYSTEMS_1)).body.PowerState, (s) => s === 'Off', { attempts: 100, timeoutMs: 15_000, intervalMs: 100 })).toBe('Off');
    const r = await call('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' }, headers: { Prefer: 'respond-async' } });
    expect(r.status).toBe(202);
    await expectRedfishValid(r.body);
    const monitor = String(r.headers.location);
    const done = await pollUntil(() => call('GET', monitor), (m) => m.status !== 202, { attempts: 200, timeoutMs: 30_000, intervalMs: 100 });
    expect(done.status).toBe(204);
    expect((await call('GET', SYSTEMS_1)).body.PowerState).toBe('On');
    for (const p of ['/redfish/v1/TaskService', '/redfish/v1/TaskService/Tasks', `/redfish/v1/TaskService/Tasks/${r.body.Id}`, '/redfish/v1/EventService', SUBS]) {
      const g = await call('GET', p);
      expect([p, g.status]).toEqual([p, 200]);
      await expectRedfishValid(g.body);
    }
  });
});


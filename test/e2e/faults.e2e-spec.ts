/**
 * Fault injection through the orchestrator, end to end: the orchestrator as users run it, a
 * MACHINE=sim node in the real Docker engine (a BMC in a farm, the default placement: its rules are
 * read through the farm's control, in bulk), a "busy (0xC0) twice, then normal" rule added with
 * POST /api/v1/nodes/:name/faults, and the real ipmitool on the node's leased port, retried the way
 * Ironic retries it (its ipmitool driver runs the command again when stderr holds one of a fixed list
 * of strings, "Node busy" among them): two busy answers, then the power state. The firings show in
 * GET faults (matches/applied), in the node's events and the fleet event stream (SSE), and in
 * /metrics as bmcfleet_node_faults_fired_total{node,kind}; DELETE removes the rule and the BMC
 * answers normally again. Bad rules are refused with 400s naming the field.
 * The node image is BMCFLEET_NODE_IMAGE when set (a tag of one's own build), else bmcfleet/node:latest.
 */
import { NODE_IMAGE } from '../../node-image/test/e2e/node-container';
import { ipmitool } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody { name: string; ipmi: { host: string; port: number; user: string } }
interface RuleBody { id: string; matches: number; applied: number; status: string }
interface FaultsBody { name: string; rules: RuleBody[]; totals?: Record<string, number> }
interface EventBody { type: string; message: string }

const PASSWORD = 'faults-e2e-pass';
/** What Ironic's ipmitool driver retries on (ironic/drivers/modules/ipmitool.py, IPMITOOL_RETRYABLE_FAILURES). */
const IRONIC_RETRYABLE = ['insufficient resources for session', 'Node busy', 'Timeout', 'Out of space', 'BMC initialization in progress'];
const BUSY_TWICE = { match: { protocol: 'ipmi', netFn: '0x00', cmd: '0x01' }, action: { kind: 'completion-code', code: '0xC0' }, when: { maxTimes: 2 } };

jest.setTimeout(300_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads the fleet event stream until `found` says yes (bounded); returns the matching data lines. */
async function readEvents(url: string, found: (data: string) => boolean, limitMs: number): Promise<string[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), limitMs);
  const seen: string[] = [];
  try {
    const response = await fetch(`${url}/api/v1/events`, { signal: abort.signal });
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        seen.push(line);
        if (found(line)) return seen;
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return seen;
}

describeWithTools(['docker', 'ipmitool'])('fault rules through the orchestrator API on a sim node', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(4, { RECONCILE_INTERVAL_S: '0', NODE_IMAGE }));
  let node: NodeBody;
  const path = (suffix = '') => `/api/v1/nodes/${node.name}/faults${suffix}`;

  beforeAll(async () => {
    buildOrchestrator();
    await fleet.start();
    const created = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'faulty1', machine: 'sim', ipmiPassword: PASSWORD });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    node = created.body;
  });
  afterAll(() => fleet.cleanup());

  it('refuses bad rules with a 400 naming the field and the rule, and an unknown node with 404', async () => {
    const bad = await fleet.request<{ message: string }>('POST', path(), { match: { protocol: 'ipmi', netFn: 99 }, action: { kind: 'drop' } });
    expect([bad.status, bad.body.message]).toEqual([400, 'match.netFn must be an integer from 0 to 63']);
    const inList = await fleet.request<{ message: string }>('POST', path(), { rules: [BUSY_TWICE, { match: { protocol: 'redfish' }, action: { kind: 'drop' } }] });
    expect([inList.status, inList.body.message]).toEqual([400, 'rules[1].action.kind must be one of delay, http-status, stop-answering, bmc-reboot, session-expiry for protocol redfish']);
    expect((await fleet.request('GET', '/api/v1/nodes/no-such-node/faults')).status).toBe(404);
    expect((await fleet.request<FaultsBody>('GET', path())).body.rules).toEqual([]);
  });

  it('busy twice then normal: ipmitool, retried as Ironic retries it, meets Node busy twice and then reads the power', async () => {
    const added = await fleet.request<FaultsBody>('POST', path(), BUSY_TWICE);
    expect(added.status).toBe(201);
    expect(added.body.rules).toEqual([expect.objectContaining({ id: 'f1', matches: 0, applied: 0, status: 'active', action: { kind: 'completion-code', code: 0xc0 } })]);

    const attempts: { status: number | null; stderr: string }[] = [];
    let out = '';
    for (let i = 0; i < 5; i++) {
      const r = await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
      attempts.push({ status: r.status, stderr: r.stderr });
      if (r.status === 0) { out = r.stdout; break; }
      if (!IRONIC_RETRYABLE.some((s) => r.stderr.includes(s))) throw new Error(`ipmitool failed with an error Ironic would not retry: ${r.stderr}`);
    }
    expect(attempts.map((a) => a.status)).toEqual([1, 1, 0]);
    expect(attempts[0]!.stderr).toContain('Node busy');
    expect(attempts[1]!.stderr).toContain('Node busy');
    expect(out).toMatch(/^Chassis Power is (on|off)$/m);

    const listed = await fleet.request<FaultsBody>('GET', path());
    expect(listed.status).toBe(200);
    expect(listed.body.rules).toEqual([expect.objectContaining({ id: 'f1', matches: 2, applied: 2, status: 'exhausted' })]);
    expect(listed.body.totals).toMatchObject({ 'completion-code': 2 });
  });

  it('shows the rule and its firings in the node events, the fleet event stream and /metrics', async () => {
    const events = (await fleet.request<EventBody[]>('GET', `/api/v1/nodes/${node.name}/events`)).body.filter((e) => e.type === 'fault').map((e) => e.message);
    expect(events[0]).toBe('fault rule added: f1: ipmi netFn 0x00 cmd 0x01 → completion-code 0xc0 (at most 2 times)');
    // One event for both firings, or (when a poll fell between the two) the first now and the count later.
    expect(events[1]).toMatch(/^fault rule f1 fired: completion-code 0xc0 on ipmi netFn 0x00 cmd 0x01( \(2 times\))?$/);

    // A second rule's firing reaches a listener of the fleet stream (found by the poll, not by a GET).
    const stream = readEvents(fleet.url, (data) => data.includes('"type":"fault"') && data.includes('fault rule f2 fired'), 60_000);
    await sleep(500);
    const added = await fleet.request<FaultsBody>('POST', path(), { match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 1 } });
    expect(added.body.rules[0]!.id).toBe('f2');
    // While the stream has a listener the orchestrator reads each node's power over IPMI too (its
    // power watch): that read may be the one to meet the busy answer, so ipmitool's result is not checked.
    await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
    const lines = await stream;
    expect(lines.some((line) => line.includes('"name":"faulty1"') && line.includes('fault rule f2 fired: completion-code 0xc0'))).toBe(true);

    const metrics = (await fleet.request<string>('GET', '/metrics')).body;
    expect(metrics).toMatch(/^bmcfleet_node_faults_fired_total\{node="faulty1",kind="completion-code"\} 3$/m);
    expect(metrics).toMatch(/^bmcfleet_node_fault_rules\{node="faulty1"\} 2$/m);
  });

  it('DELETE one rule, then all: the BMC answers normally, and the removals are node events', async () => {
    const one = await fleet.request('DELETE', path('/f2'));
    expect([one.status, one.body]).toEqual([200, { name: 'faulty1', removed: 1 }]);
    expect((await fleet.request('DELETE', path('/f2'))).status).toBe(404);
    expect((await fleet.request('DELETE', path('/bogus'))).status).toBe(400);
    await fleet.request('POST', path(), { match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 } });
    const all = await fleet.request('DELETE', path());
    expect([all.status, all.body]).toEqual([200, { name: 'faulty1', removed: 2 }]);
    expect((await fleet.request<FaultsBody>('GET', path())).body.rules).toEqual([]);
    const r = await ipmitool(node.ipmi.port, ['power', 'status'], { password: PASSWORD, timeoutMs: 60_000 });
    expect(r.stdout).toMatch(/^Chassis Power is (on|off)$/m);
    const events = (await fleet.request<EventBody[]>('GET', `/api/v1/nodes/${node.name}/events`)).body.filter((e) => e.type === 'fault' && !e.message.includes(' fired')).map((e) => e.message);
    expect(events.slice(-3)).toEqual(['fault rule f2 removed', 'fault rule added: f3: ipmi netFn 0x00 cmd 0x01 → completion-code 0xc0', 'fault rules removed (2)']);
    const metrics = (await fleet.request<string>('GET', '/metrics')).body;
    expect(metrics).not.toMatch(/^bmcfleet_node_fault_rules\{node="faulty1"\}/m);
  });
});

import type { OwnedNode, RuntimeNodeState } from '../runtime/node-runtime';
import type { NodeState, NodeWithLeases } from '../nodes/node.model';
import { LeaseRow, PlanInput, planReconcile, ReconcilePlan } from './reconcile-plan';

const SETTLED_BEFORE = new Date('2026-11-24T12:00:00Z');
const LONG_AGO = new Date('2026-11-24T11:00:00Z');
const JUST_NOW = new Date('2026-11-24T12:00:05Z');

let nextPort = 0;

function node(name: string, state: NodeState, updatedAt: Date = LONG_AGO): NodeWithLeases {
  const id = `id-${name}`;
  nextPort += 1;
  return {
    id,
    name,
    state,
    powerState: 'unknown',
    powerObservedAt: null,
    machine: 'sim',
    memoryMiB: 512,
    cpus: 1,
    diskSizeGiB: 1,
    cdrom: null,
    bootMode: 'bios',
    bootMenuTimeoutMs: 0,
    enableKvm: 'false',
    powerOnAtStart: false,
    networks: '[]',
    labInterfaces: '[]',
    ipmiUser: 'admin',
    ipmiPassword: 'secret',
    vncPassword: 'vncpass1',
    bmcUsersResetId: id,
    macId: null,
    bmcReachable: null,
    runtimeRef: `bmcfleet-${name}`,
    runtimeId: null,
    host: null,
    lastError: null,
    purgeOnDelete: false,
    farmId: null,
    createdAt: LONG_AGO,
    updatedAt,
    leases: [
      { id: nextPort * 2, host: '', kind: 'ipmi', port: 16230 + nextPort, nodeId: id, createdAt: LONG_AGO },
      { id: nextPort * 2 + 1, host: '', kind: 'vnc', port: 15900 + nextPort, nodeId: id, createdAt: LONG_AGO },
    ],
  };
}

/** A runtime node of the fleet as NodeRuntime.list reports it. */
function container(name: string, state: RuntimeNodeState, nodeId: string | null = `id-${name}`): OwnedNode {
  return { runtimeId: `cid-${name}`, ref: `bmcfleet-${name}`, nodeId, nodeName: name, state, host: 'host-1' };
}

function plan(nodes: NodeWithLeases[], instances: OwnedNode[], extraLeases: LeaseRow[] = []): ReconcilePlan {
  const input: PlanInput = {
    nodes,
    instances,
    leases: [...nodes.flatMap((n) => n.leases), ...extraLeases],
    ipmiPortRange: { first: 16230, last: 16999 },
    vncPortRange: { first: 15900, last: 16229 },
    redfishPortRange: { first: 17000, last: 17999 },
    settledBefore: SETTLED_BEFORE,
  };
  return planReconcile(input);
}

const names = (rows: readonly NodeWithLeases[]): string[] => rows.map((row) => row.name);

describe('planReconcile', () => {
  it('plans nothing but power checks for a fleet in order', () => {
    const rows = [node('a', 'running'), node('b', 'running')];
    const sut = plan(rows, [container('a', 'running'), container('b', 'running')]);
    expect(sut).toEqual({ finishDeletes: [], rollbacks: [], removals: [], orphans: [], repairs: [], freeLeases: [], warnings: [], powerChecks: rows });
  });

  it('re-creates a missing container, restarts a stopped one and unpauses a paused one, for running and failed rows', () => {
    const sut = plan(
      [node('gone', 'running'), node('stopped', 'running'), node('created', 'failed'), node('paused', 'running')],
      [container('stopped', 'stopped'), container('created', 'stopped'), container('paused', 'paused')],
    );
    expect(sut.repairs.map((r) => [r.node.name, r.repair, r.why])).toEqual([
      ['gone', 'recreate', 'bmcfleet-gone is missing'],
      ['stopped', 'restart', 'bmcfleet-stopped was stopped'],
      ['created', 'restart', 'bmcfleet-created was stopped'],
      ['paused', 'unpause', 'bmcfleet-paused was paused'],
    ]);
    expect(sut.removals).toEqual([]);
    expect(sut.orphans).toEqual([]);
    expect(sut.powerChecks).toEqual([]);
  });

  it('removes a broken runtime node before re-creating it', () => {
    const dead = container('d', 'broken');
    const sut = plan([node('d', 'running')], [dead]);
    expect(sut.removals).toEqual([{ instance: dead, nodeId: 'id-d', reason: 'it is broken and cannot be started again' }]);
    expect(sut.repairs.map((r) => r.repair)).toEqual(['recreate']);
  });

  it('leaves runtime nodes the runtime is busy with (restarting, being removed) for the next run', () => {
    const sut = plan([node('r', 'running'), node('x', 'running')], [container('r', 'changing'), container('x', 'changing')]);
    expect(sut.repairs).toEqual([]);
    expect(sut.powerChecks).toEqual([]);
    expect(sut.orphans).toEqual([]);
  });

  it('never re-creates a node whose host does not answer (its disk is there): a warning, no repair, no removal', () => {
    const sut = plan([node('far', 'running')], [container('far', 'unreachable')]);
    expect(sut).toMatchObject({ repairs: [], removals: [], orphans: [], powerChecks: [] });
    expect(sut.warnings).toEqual(['node far: its host host-1 does not answer; it is left as it is until the host is back or the node is deleted']);
  });

  it('replaces a container of the same name left by an earlier node', () => {
    const stale = container('web', 'running', 'id-earlier');
    const sut = plan([node('web', 'running')], [stale]);
    expect(sut.removals).toEqual([{ instance: stale, nodeId: 'id-web', reason: 'it was left by an earlier node named web (node id id-earlier)' }]);
    expect(sut.repairs.map((r) => [r.node.name, r.repair])).toEqual([['web', 'recreate']]);
    expect(sut.orphans).toEqual([]);
  });

  it('resumes a failed row whose container runs (its networks may be missing)', () => {
    const sut = plan([node('f', 'failed')], [container('f', 'running')]);
    expect(sut.repairs.map((r) => [r.node.name, r.repair, r.why])).toEqual([['f', 'resume', 'bmcfleet-f runs but the node is failed']]);
    expect(sut.powerChecks).toEqual([]);
  });

  it('rolls back a creating row left over from before, its container running or not (the create never answered)', () => {
    const sut = plan([node('c', 'creating'), node('left', 'creating')], [container('c', 'running')]);
    expect(names(sut.rollbacks)).toEqual(['c', 'left']);
    expect(sut).toMatchObject({ repairs: [], removals: [], orphans: [], powerChecks: [] });
  });

  it('unpauses a paused container instead of trying to start it', () => {
    const sut = plan([node('p', 'running'), node('q', 'failed')], [container('p', 'paused'), container('q', 'paused')]);
    expect(sut.repairs.map((r) => [r.node.name, r.repair, r.why])).toEqual([
      ['p', 'unpause', 'bmcfleet-p was paused'],
      ['q', 'unpause', 'bmcfleet-q was paused'],
    ]);
  });

  it('finishes settled deletes, with or without a container left', () => {
    const sut = plan([node('del1', 'deleting'), node('del2', 'deleting')], [container('del1', 'running')]);
    expect(names(sut.finishDeletes)).toEqual(['del1', 'del2']);
    expect(sut.orphans).toEqual([]);
    expect(sut.removals).toEqual([]);
    expect(sut.repairs).toEqual([]);
  });

  it('keeps its hands off rows a request is creating or deleting right now, and their containers', () => {
    const sut = plan([node('new', 'creating', JUST_NOW), node('going', 'deleting', JUST_NOW)], [container('going', 'running')]);
    expect(sut).toMatchObject({ finishDeletes: [], rollbacks: [], removals: [], orphans: [], repairs: [], powerChecks: [] });
  });

  it('sends containers whose node id has no row to adoption, stray copies of a row to removal', () => {
    const orphan = container('lost', 'running');
    const unlabelled = container('anon', 'stopped', null);
    const stray = { ...container('web', 'running'), ref: 'bmcfleet-web-copy', runtimeId: 'cid-copy' };
    const sut = plan([node('web', 'running')], [container('web', 'running'), orphan, unlabelled, stray]);
    expect(sut.orphans).toEqual([orphan, unlabelled]);
    expect(sut.removals).toEqual([{ instance: stray, nodeId: 'id-web', reason: 'node web runs as bmcfleet-web; this is a stray copy' }]);
  });

  it('frees leases of missing nodes and of unknown kinds; warns about ports outside the ranges without freeing them', () => {
    const web = node('web', 'running');
    const outside: NodeWithLeases = {
      ...node('old', 'running'),
      leases: [
        { id: 90, host: '', kind: 'ipmi', port: 623, nodeId: 'id-old', createdAt: LONG_AGO },
        { id: 91, host: '', kind: 'vnc', port: 5900, nodeId: 'id-old', createdAt: LONG_AGO },
      ],
    };
    const ghost: LeaseRow = { id: 77, host: '', kind: 'ipmi', port: 16500, nodeId: 'id-ghost' };
    const odd: LeaseRow = { id: 78, host: '', kind: 'serial', port: 16443, nodeId: 'id-web' };
    const sut = plan([web, outside], [container('web', 'running'), container('old', 'running')], [ghost, odd]);
    expect(sut.freeLeases).toEqual([
      { lease: ghost, reason: 'ipmi port 16500 was leased to node id id-ghost, which no longer exists' },
      { lease: odd, reason: 'node web held a lease of unknown kind "serial" on port 16443' },
    ]);
    expect(sut.warnings).toEqual([
      'node old holds ipmi port 623, outside IPMI_PORT_RANGE 16230-16999; it keeps the port until it is deleted and created again',
      'node old holds vnc port 5900, outside VNC_PORT_RANGE 15900-16229; it keeps the port until it is deleted and created again',
    ]);
  });
});

/**
 * ReconcilerService against the in-memory runtime (no Docker): each kind of drift between the table
 * and what the runtime runs, planned and carried out through the runtime interface only.
 */
import { MemoryFleet, IPMI_FIRST } from '../../test/support/memory-fleet';
import type { CreateNodeDto } from '../nodes/dto/create-node.dto';

// Generous: a Nest module and a SQLite file per test on a shared, busy machine; no time is asserted.
jest.setTimeout(60_000);

const dto = (name: string): CreateNodeDto => ({ name, machine: 'sim', memoryMiB: 256, cpus: 1, diskSizeGiB: 1 }) as CreateNodeDto;
/** Before the reconciler's process started: a row no request holds any more. */
const LONG_AGO = new Date('2026-01-01T00:00:00Z');

describe('ReconcilerService on the in-memory runtime', () => {
  let fleet: MemoryFleet;

  beforeEach(async () => {
    fleet = new MemoryFleet([
      { name: 'host-a', memoryBytes: 8 * 1024 ** 3, cpus: 4, kvm: false, address: '10.0.0.1' },
      { name: 'host-b', memoryBytes: 8 * 1024 ** 3, cpus: 4, kvm: false, address: '10.0.0.2' },
    ]);
    await fleet.start();
  });

  afterEach(async () => {
    await fleet.close();
  });

  it('finds nothing to repair in a fleet in order, and reads every BMC', async () => {
    await fleet.nodes.create(dto('a'));
    await fleet.nodes.create(dto('b'));
    const report = await fleet.reconciler.reconcileNow();
    expect(report).toMatchObject({ repairs: [], errors: [], warnings: [] });
    expect(await fleet.row('a')).toMatchObject({ bmcReachable: true, powerState: 'off' });
    expect(await fleet.row('b')).toMatchObject({ bmcReachable: true, powerState: 'off' });
  });

  it('re-creates a vanished runtime node on its disk, restarts a stopped one, resumes a paused one', async () => {
    for (const name of ['gone', 'stopped', 'paused']) await fleet.nodes.create(dto(name));
    const before = (await fleet.row('gone'))!;
    fleet.runtime.vanish(fleet.ref('gone'));
    fleet.runtime.setState(fleet.ref('stopped'), 'stopped');
    fleet.runtime.setState(fleet.ref('paused'), 'paused');
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs.map((repair) => [repair.kind, repair.node]).sort()).toEqual([['recreated', 'gone'], ['restarted', 'stopped'], ['unpaused', 'paused']]);
    expect(report.errors).toEqual([]);
    for (const name of ['gone', 'stopped', 'paused']) expect(fleet.runtime.instance(fleet.ref(name))?.state).toBe('running');
    const after = (await fleet.row('gone'))!;
    expect(after.runtimeId).not.toBe(before.runtimeId);
    expect(after.runtimeId).toBe(fleet.runtime.instance(fleet.ref('gone'))!.runtimeId);
    // Re-created on the host its disk is on.
    expect(after.host).toBe(before.host);
  });

  it('removes a broken runtime node and one left by an earlier node of the same name, then makes the node anew', async () => {
    await fleet.nodes.create(dto('dead'));
    await fleet.nodes.create(dto('web'));
    fleet.runtime.setState(fleet.ref('dead'), 'broken');
    const web = (await fleet.row('web'))!;
    fleet.runtime.vanish(fleet.ref('web'));
    const earlier = fleet.runtime.placeForeign(fleet.ref('web'), 'id-of-an-earlier-web', 'web');
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs.filter((repair) => repair.kind === 'removed-orphan').map((repair) => repair.node).sort()).toEqual(['dead', 'web']);
    expect(report.repairs.filter((repair) => repair.kind === 'recreated').map((repair) => repair.node).sort()).toEqual(['dead', 'web']);
    const now = fleet.runtime.instance(fleet.ref('web'))!;
    expect(now).toMatchObject({ nodeId: web.id, state: 'running' });
    expect(now.runtimeId).not.toBe(earlier.runtimeId);
  });

  it('adopts a runtime node whose row was lost, with its id, ports and host', async () => {
    const created = await fleet.nodes.create(dto('lost'));
    const row = (await fleet.row('lost'))!;
    await fleet.prisma.node.delete({ where: { id: row.id } });
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs.map((repair) => [repair.kind, repair.node])).toContainEqual(['adopted', 'lost']);
    const adopted = (await fleet.row('lost'))!;
    expect(adopted).toMatchObject({ id: row.id, state: 'running', runtimeRef: row.runtimeRef, runtimeId: row.runtimeId, host: row.host, ipmiPassword: row.ipmiPassword });
    expect(adopted.leases.map((lease) => [lease.kind, lease.port]).sort()).toEqual(row.leases.map((lease) => [lease.kind, lease.port]).sort());
    expect(created.ipmi.port).toBe(IPMI_FIRST);
  });

  it('removes an orphan it cannot adopt (a port outside IPMI_PORT_RANGE), saying why; its disk stays', async () => {
    await fleet.nodes.create(dto('odd'));
    const row = (await fleet.row('odd'))!;
    const spec = fleet.runtime.specOf(row.runtimeRef)!;
    await fleet.prisma.node.delete({ where: { id: row.id } });
    fleet.runtime.vanish(row.runtimeRef);
    // The same node, made by hand with its IPMI on a port the fleet would never lease.
    await fleet.runtime.ensure({
      ...spec,
      env: { ...spec.env, IPMI_PORT: '9623' },
      ports: spec.ports.map((port) => (port.name === 'ipmi' ? { ...port, inside: 9623, outside: 9623 } : port)),
    });
    const report = await fleet.reconciler.reconcileNow();
    const removal = report.repairs.find((repair) => repair.kind === 'removed-orphan');
    expect(removal?.message).toMatch(/cannot be adopted: IPMI port 9623 lies outside IPMI_PORT_RANGE/);
    expect(fleet.runtime.instance(row.runtimeRef)).toBeNull();
    expect(fleet.runtime.disk(row.runtimeRef)).not.toBeNull();
    expect(await fleet.row('odd')).toBeNull();
  });

  it('leaves the nodes of a host that does not answer as they are (no re-create elsewhere), with a warning', async () => {
    await fleet.nodes.create(dto('n1'));
    await fleet.nodes.create(dto('n2'));
    const hosts = [(await fleet.row('n1'))!.host, (await fleet.row('n2'))!.host].sort();
    // Spread: the runtime put the two nodes on different hosts.
    expect(hosts).toEqual(['host-a', 'host-b']);
    const far = (await fleet.row('n1'))!;
    fleet.runtime.setHostDown(far.host!, true);
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs).toEqual([]);
    expect(report.warnings).toEqual([`node n1: its host ${far.host} does not answer; it is left as it is until the host is back or the node is deleted`]);
    expect(fleet.runtime.instance(far.runtimeRef)).toMatchObject({ runtimeId: far.runtimeId, state: 'unreachable' });
    expect(fleet.runtime.ensured.filter((spec) => spec.name === 'n1')).toHaveLength(1);
  });

  it('finishes a delete a crash interrupted (purging as the row says) and rolls back a create that never answered', async () => {
    await fleet.nodes.create(dto('going'));
    await fleet.nodes.create(dto('half'));
    await fleet.prisma.node.update({ where: { name: 'going' }, data: { state: 'deleting', purgeOnDelete: true, updatedAt: LONG_AGO } });
    await fleet.prisma.node.update({ where: { name: 'half' }, data: { state: 'creating', updatedAt: LONG_AGO } });
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs.map((repair) => [repair.kind, repair.node]).sort()).toEqual([['finished-delete', 'going'], ['rolled-back', 'half']]);
    expect(await fleet.prisma.node.count()).toBe(0);
    expect(await fleet.runtime.list()).toEqual([]);
    expect(fleet.runtime.disk(fleet.ref('going'))).toBeNull();
    // The rolled-back create made its disk: it goes too.
    expect(fleet.runtime.disk(fleet.ref('half'))).toBeNull();
  });

  it('marks a node failed when the runtime cannot run it, and repairs it once it can', async () => {
    await fleet.nodes.create(dto('flaky'));
    const row = (await fleet.row('flaky'))!;
    fleet.runtime.vanish(fleet.ref('flaky'));
    fleet.runtime.holdPort(row.leases.find((lease) => lease.kind === 'vnc')!.port, 'tcp');
    const failed = await fleet.reconciler.reconcileNow();
    expect(failed.errors.map((error) => error.node)).toEqual(['flaky']);
    expect(await fleet.row('flaky')).toMatchObject({ state: 'failed', lastError: expect.stringContaining('already in use') });
    fleet.runtime.releasePort(row.leases.find((lease) => lease.kind === 'vnc')!.port, 'tcp');
    const repaired = await fleet.reconciler.reconcileNow();
    expect(repaired.errors).toEqual([]);
    expect(await fleet.row('flaky')).toMatchObject({ state: 'running', lastError: null });
  });
});

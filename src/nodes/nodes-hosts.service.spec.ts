/**
 * NodesService on an in-memory runtime of three hosts (no Docker): a node's host is chosen before its
 * ports (spreading, or the create body's `host`), leases are per host (the same port on two hosts),
 * a port busy outside the fleet is retried on the node's own host, a delete frees the right host's
 * lease, a lease made before leases were per host holds its port on every host until its node runs,
 * and each node's addresses are its host's.
 */
import { BadRequestException } from '@nestjs/common';
import { IPMI_FIRST, MemoryFleet, REDFISH_FIRST, VNC_FIRST } from '../../test/support/memory-fleet';
import type { CreateNodeDto } from './dto/create-node.dto';

// Generous: a Nest module and a SQLite file per test on a shared, busy machine; no time is asserted.
jest.setTimeout(60_000);

const HOSTS = [
  { name: 'host-a', memoryBytes: 8 * 1024 ** 3, cpus: 4, kvm: false, address: '10.0.0.1' },
  { name: 'host-b', memoryBytes: 8 * 1024 ** 3, cpus: 4, kvm: false, address: '10.0.0.2' },
  { name: 'host-c', memoryBytes: 8 * 1024 ** 3, cpus: 4, kvm: false, address: '10.0.0.3' },
];
const ADDRESS: Record<string, string> = { 'host-a': '10.0.0.1', 'host-b': '10.0.0.2', 'host-c': '10.0.0.3' };
const dto = (name: string, extra: Partial<CreateNodeDto> = {}): CreateNodeDto => ({ name, machine: 'sim', memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ...extra }) as CreateNodeDto;

describe('NodesService on three hosts of the in-memory runtime', () => {
  let fleet: MemoryFleet;

  beforeEach(async () => {
    fleet = new MemoryFleet(HOSTS);
    await fleet.start();
  });

  afterEach(async () => {
    await fleet.close();
  });

  it('spreads concurrent creates one per host, each leasing the same ports on its own host, addressed at its host', async () => {
    const created = await Promise.all(['n1', 'n2', 'n3'].map((name) => fleet.nodes.create(dto(name))));
    expect(created.map((node) => node.host).sort()).toEqual(['host-a', 'host-b', 'host-c']);
    for (const node of created) {
      expect(node.ipmi).toMatchObject({ host: ADDRESS[node.host!], port: IPMI_FIRST });
      expect(node.vnc).toMatchObject({ host: ADDRESS[node.host!], port: VNC_FIRST });
      expect(node.redfish).toEqual({ host: ADDRESS[node.host!], port: REDFISH_FIRST });
      expect(fleet.runtime.instance(fleet.ref(node.name))).toMatchObject({ host: node.host, state: 'running' });
      expect(fleet.runtime.specOf(fleet.ref(node.name))!.host).toBe(node.host);
    }
    const leases = await fleet.prisma.portLease.findMany({ where: { kind: 'ipmi' }, orderBy: { host: 'asc' } });
    expect(leases.map((lease) => [lease.host, lease.port])).toEqual([['host-a', IPMI_FIRST], ['host-b', IPMI_FIRST], ['host-c', IPMI_FIRST]]);
    // A fourth goes on the emptiest host again (ties by name) and takes the next port there.
    const fourth = await fleet.nodes.create(dto('n4'));
    expect(fourth).toMatchObject({ host: 'host-a', ipmi: { host: '10.0.0.1', port: IPMI_FIRST + 1 } });
    // The BMC was reached at the host's address (MemoryNodeBmc answers there only).
    expect((await fleet.nodes.powerStatus('n4')).powerState).toBe('off');
    expect((await fleet.nodes.vnc('n4')).host).toBe('10.0.0.1');
    expect((await fleet.nodes.list()).map((node) => [node.name, node.host, node.ipmi.host])).toEqual([
      ['n1', created[0]!.host, ADDRESS[created[0]!.host!]], ['n2', created[1]!.host, ADDRESS[created[1]!.host!]],
      ['n3', created[2]!.host, ADDRESS[created[2]!.host!]], ['n4', 'host-a', '10.0.0.1'],
    ]);
  });

  it('places a node on the host its body names (by name), and refuses an unknown or down host with 400 naming the field and the hosts', async () => {
    const first = await fleet.nodes.create(dto('p1', { host: 'host-c' }));
    const second = await fleet.nodes.create(dto('p2', { host: 'host-c' }));
    expect([first.host, second.host]).toEqual(['host-c', 'host-c']);
    expect([first.ipmi.port, second.ipmi.port]).toEqual([IPMI_FIRST, IPMI_FIRST + 1]);
    await expect(fleet.nodes.create(dto('x1', { host: 'host-z' }))).rejects.toThrow(
      new BadRequestException('host must be one of the runtime\'s hosts: host-a, host-b, host-c (got "host-z")'),
    );
    fleet.runtime.setHostDown('host-b', true);
    await expect(fleet.nodes.create(dto('x2', { host: 'host-b' }))).rejects.toThrow(
      new BadRequestException('host host-b takes no new nodes (it is down, paused or draining); choose another of: host-a, host-c'),
    );
    expect(await fleet.row('x1')).toBeNull();
    expect(await fleet.row('x2')).toBeNull();
    // Spreading skips the host that is down.
    const spread = await Promise.all(['s1', 's2'].map((name) => fleet.nodes.create(dto(name))));
    expect(spread.map((node) => node.host).sort()).toEqual(['host-a', 'host-a']);
  });

  it('retries a port busy outside the fleet on the node\'s own host; other hosts keep using that port', async () => {
    fleet.runtime.holdPort(IPMI_FIRST, 'udp', 'host-b');
    const onB = await fleet.nodes.create(dto('b1', { host: 'host-b' }));
    expect(onB.ipmi.port).toBe(IPMI_FIRST + 1);
    expect(fleet.runtime.ensured.filter((spec) => spec.name === 'b1').map((spec) => spec.ports[0]!.outside)).toEqual([IPMI_FIRST, IPMI_FIRST + 1]);
    expect((await fleet.events('b1')).some((event) => event.startsWith('error: host port busy outside the fleet') && event.includes(String(IPMI_FIRST)))).toBe(true);
    const onA = await fleet.nodes.create(dto('a1', { host: 'host-a' }));
    expect(onA.ipmi.port).toBe(IPMI_FIRST);
    expect((await fleet.prisma.portLease.findMany({ where: { kind: 'ipmi' }, orderBy: { host: 'asc' } })).map((lease) => [lease.host, lease.port]))
      .toEqual([['host-a', IPMI_FIRST], ['host-b', IPMI_FIRST + 1]]);
  });

  it('frees the deleted node\'s lease on its own host only: the next node there takes the port again', async () => {
    await fleet.nodes.create(dto('a1', { host: 'host-a' }));
    await fleet.nodes.create(dto('b1', { host: 'host-b' }));
    await fleet.nodes.remove('b1', true);
    expect((await fleet.prisma.portLease.findMany({ where: { kind: 'ipmi' } })).map((lease) => [lease.host, lease.port])).toEqual([['host-a', IPMI_FIRST]]);
    expect(fleet.runtime.disk(fleet.ref('b1'))).toBeNull();
    expect(fleet.runtime.disk(fleet.ref('a1'))).toMatchObject({ host: 'host-a' });
    const again = await fleet.nodes.create(dto('b2', { host: 'host-b' }));
    expect(again.ipmi.port).toBe(IPMI_FIRST);
    const onA = await fleet.nodes.create(dto('a2', { host: 'host-a' }));
    expect(onA.ipmi.port).toBe(IPMI_FIRST + 1);
  });

  it('holds a port leased before leases were per host on every host, until its node runs and the lease takes its host', async () => {
    const legacy = await fleet.nodes.create(dto('old', { host: 'host-a' }));
    // As the migration leaves a node that had no host: host null, its leases on "" (every host).
    fleet.runtime.vanish(fleet.ref('old'));
    await fleet.prisma.node.update({ where: { id: legacy.id }, data: { host: null } });
    await fleet.prisma.portLease.updateMany({ where: { nodeId: legacy.id }, data: { host: '' } });
    const onB = await fleet.nodes.create(dto('new', { host: 'host-b' }));
    expect(onB.ipmi.port).toBe(IPMI_FIRST + 1);
    // The reconciler makes the old node anew: the runtime places it, its leases take that host.
    const report = await fleet.reconciler.reconcileNow();
    expect(report.repairs.map((repair) => [repair.kind, repair.node])).toEqual([['recreated', 'old']]);
    const row = (await fleet.row('old'))!;
    expect(row.host).not.toBeNull();
    expect(row.leases.map((lease) => lease.host)).toEqual([row.host, row.host, row.host]);
    expect((await fleet.nodes.get('old')).ipmi).toMatchObject({ host: ADDRESS[row.host!], port: IPMI_FIRST });
  });
});

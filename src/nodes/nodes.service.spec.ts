/**
 * NodesService against the in-memory runtime (no Docker): what a create leaves in the runtime and
 * the table, the retry when a host port is busy outside the fleet, the delete that arrives while a
 * create waits for its BMC, and that a create that cannot finish leaves nothing of its own behind.
 */
import { BadRequestException, ConflictException, InternalServerErrorException, ServiceUnavailableException } from '@nestjs/common';
import { IPMI_FIRST, MemoryFleet, REDFISH_FIRST, VNC_FIRST } from '../../test/support/memory-fleet';
import type { CreateNodeDto } from './dto/create-node.dto';

// Generous: a Nest module and a SQLite file per test on a shared, busy machine; no time is asserted.
jest.setTimeout(60_000);

const base = { machine: 'sim', memoryMiB: 256, cpus: 1, diskSizeGiB: 1 } as const;
const dto = (name: string, extra: Partial<CreateNodeDto> = {}): CreateNodeDto => ({ name, ...base, ...extra }) as CreateNodeDto;

describe('NodesService on the in-memory runtime', () => {
  let fleet: MemoryFleet;

  beforeEach(async () => {
    fleet = new MemoryFleet();
    await fleet.start();
  });

  afterEach(async () => {
    await fleet.close();
  });

  it('creates a node: the runtime runs its spec, the row keeps its runtime id and host, the view shows the host', async () => {
    const created = await fleet.nodes.create(dto('web1'));
    const ref = fleet.ref('web1');
    const instance = fleet.runtime.instance(ref);
    expect(instance).toMatchObject({ ref, state: 'running', nodeName: 'web1', host: 'memory-host' });
    const spec = fleet.runtime.specOf(ref)!;
    expect(spec.ports.map((port) => [port.name, port.outside, port.protocol])).toEqual([['ipmi', IPMI_FIRST, 'udp'], ['vnc', VNC_FIRST, 'tcp'], ['redfish', REDFISH_FIRST, 'tcp']]);
    expect(spec.env).toMatchObject({ NODE_NAME: 'web1', MACHINE: 'sim', IPMI_PORT: String(IPMI_FIRST), IPMI_PASS: created.generatedIpmiPassword });
    expect(spec).toMatchObject({ diskPath: '/vm', devices: ['tun'], image: 'bmcfleet/node:memory', host: 'memory-host' });
    expect(fleet.runtime.disk(ref)).toMatchObject({ nodeId: created.id });
    expect(await fleet.row('web1')).toMatchObject({ state: 'running', runtimeRef: ref, runtimeId: instance!.runtimeId, host: 'memory-host', powerState: 'off' });
    expect(created).toMatchObject({ state: 'running', host: 'memory-host', container: { name: ref, id: instance!.runtimeId } });
    expect(fleet.bmc.calls).toContain(`${ref} power status`);
  });

  it('leases other ports and tries again when a host port is busy outside the fleet, leaving one runtime node', async () => {
    fleet.runtime.holdPort(IPMI_FIRST, 'udp');
    const created = await fleet.nodes.create(dto('busy'));
    expect(created.ipmi.port).not.toBe(IPMI_FIRST);
    expect(fleet.runtime.ensured.map((spec) => spec.ports[0]!.outside)).toEqual([IPMI_FIRST, created.ipmi.port]);
    expect((await fleet.runtime.list()).map((node) => [node.ref, node.state])).toEqual([[fleet.ref('busy'), 'running']]);
    expect(fleet.runtime.specOf(fleet.ref('busy'))!.env['IPMI_PORT']).toBe(String(created.ipmi.port));
    expect((await fleet.events('busy')).some((event) => event.startsWith(`error: host port busy outside the fleet`) && event.includes(String(IPMI_FIRST)))).toBe(true);
  });

  it('gives up after five retries and leaves nothing of its own: no row, no runtime node, no disk', async () => {
    for (let port = IPMI_FIRST; port < IPMI_FIRST + 6; port += 1) fleet.runtime.holdPort(port, 'udp');
    await expect(fleet.nodes.create(dto('blocked'))).rejects.toThrow(InternalServerErrorException);
    expect(fleet.runtime.ensured).toHaveLength(6);
    expect(await fleet.row('blocked')).toBeNull();
    expect(await fleet.runtime.list()).toEqual([]);
    expect(fleet.runtime.disk(fleet.ref('blocked'))).toBeNull();
    expect(await fleet.prisma.portLease.count()).toBe(0);
  });

  it('answers 409 when the node is deleted while its create waits for the BMC, and leaves nothing running', async () => {
    // The delete runs inside the first BMC poll; the BMC then has nothing left to answer for.
    let deleted: Promise<void> | null = null;
    fleet.bmc.beforeAnswer = async () => {
      fleet.bmc.beforeAnswer = null;
      deleted = fleet.nodes.remove('racy', false);
      await deleted;
    };
    await expect(fleet.nodes.create(dto('racy'))).rejects.toThrow(new ConflictException('node racy was deleted while it was being created'));
    await deleted;
    // It stopped waiting as soon as the row was gone (one BMC call, not 90 s of polling).
    expect(fleet.bmc.calls).toEqual([]);
    expect(await fleet.row('racy')).toBeNull();
    expect(await fleet.runtime.list()).toEqual([]);
    // The delete kept the disk, as a DELETE without purge does.
    expect(fleet.runtime.disk(fleet.ref('racy'))).not.toBeNull();
  });

  it('refuses a name a stranger holds in the runtime (409) and leaves the stranger alone', async () => {
    const stranger = fleet.runtime.placeForeign(fleet.ref('taken'), null);
    fleet.runtime.placeForeignDisk(fleet.ref('taken'));
    await expect(fleet.nodes.create(dto('taken'))).rejects.toThrow(ConflictException);
    expect(fleet.runtime.instance(fleet.ref('taken'))).toEqual(stranger);
    expect(fleet.runtime.disk(fleet.ref('taken'))).toMatchObject({ nodeId: null });
    expect(await fleet.row('taken')).toBeNull();
  });

  it('refuses a network the runtime refuses or does not have (400 naming it), before anything is stored', async () => {
    fleet.runtime.addNetwork('vmlan-ok');
    fleet.runtime.addNetwork('Avmlan', 'network Avmlan sorts before the default one; rename it');
    await expect(fleet.nodes.create(dto('n1', { networks: ['Avmlan'] }))).rejects.toThrow(new BadRequestException('network Avmlan sorts before the default one; rename it'));
    await expect(fleet.nodes.create(dto('n1', { networks: ['nowhere'] }))).rejects.toThrow(/network nowhere does not exist/);
    expect(await fleet.prisma.node.count()).toBe(0);
    const created = await fleet.nodes.create(dto('n1', { networks: ['vmlan-ok'] }));
    expect(created.networks).toEqual(['vmlan-ok']);
    expect(fleet.runtime.specOf(fleet.ref('n1'))!.networks).toEqual(['vmlan-ok']);
  });

  it('answers 400 for KVM a runtime cannot give, and 503 when the runtime does not answer', async () => {
    await expect(fleet.nodes.create(dto('kvm', { enableKvm: 'true' }))).rejects.toThrow(BadRequestException);
    expect(await fleet.row('kvm')).toBeNull();
    expect(await fleet.runtime.list()).toEqual([]);
    fleet.runtime.setEngineDown(true);
    await expect(fleet.nodes.create(dto('down'))).rejects.toThrow(ServiceUnavailableException);
    expect(await fleet.row('down')).toBeNull();
  });

  it('deletes a node keeping its disk, or with purge its disk too', async () => {
    await fleet.nodes.create(dto('keep'));
    await fleet.nodes.create(dto('purge'));
    await fleet.nodes.remove('keep', false);
    await fleet.nodes.remove('purge', true);
    expect(await fleet.runtime.list()).toEqual([]);
    expect(fleet.runtime.disk(fleet.ref('keep'))).not.toBeNull();
    expect(fleet.runtime.disk(fleet.ref('purge'))).toBeNull();
    expect(await fleet.prisma.node.count()).toBe(0);
  });

  it('keeps a node in "deleting" when its runtime node cannot be removed (503), for the reconciler to finish', async () => {
    await fleet.nodes.create(dto('stuck'));
    fleet.runtime.setEngineDown(true);
    await expect(fleet.nodes.remove('stuck', true)).rejects.toThrow(ServiceUnavailableException);
    expect(await fleet.row('stuck')).toMatchObject({ state: 'deleting', purgeOnDelete: true });
  });
});

/**
 * The orchestrator touches only Docker objects it owns: a failed create removes its own container and
 * the volume it made in that call, never a stranger's container or volume that holds the fleet's
 * name, nor a disk an earlier DELETE kept on purpose. Real Docker engine, real SQLite file, MACHINE=sim.
 */
import { HttpException } from '@nestjs/common';
import { LABELS } from '../../src/docker/docker-adapter';
import { docker, dockerOk } from '../../node-image/test/e2e/node-container';
import { describeWithDocker, DockerFleet, NODE_IMAGE } from './support/docker-fleet';

jest.setTimeout(180_000);

function statusOf(error: unknown): number {
  if (error instanceof HttpException) return error.getStatus();
  throw error;
}

describeWithDocker('node ownership')('a failed create removes only what it made', () => {
  const fleet = new DockerFleet();
  beforeAll(() => fleet.start());
  afterAll(() => fleet.close());

  const base = { machine: 'sim' as const, memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: 'owner-pass-1' };

  /** A container with the fleet's name for `name` that is not the fleet's (made, not started). */
  async function strangerContainer(name: string): Promise<string> {
    const containerName = `${fleet.fleetName}-${name}`;
    fleet.track('container', containerName);
    return (await dockerOk(['create', '--name', containerName, '--label', 'owner=someone-else', '--entrypoint', 'true', NODE_IMAGE])).trim();
  }

  async function strangerVolume(name: string): Promise<string> {
    const volumeName = `${fleet.fleetName}-${name}-vm`;
    fleet.track('volume', volumeName);
    await dockerOk(['volume', 'create', '--label', 'owner=someone-else', volumeName]);
    return volumeName;
  }

  async function containerId(name: string): Promise<string | null> {
    return (await fleet.adapter.inspectContainer(name))?.id ?? null;
  }

  it("leaves a stranger's container with the fleet's name alone (409) and keeps nothing of its own", async () => {
    const strangerId = await strangerContainer('taken');

    const status = await fleet.nodes.create({ name: 'taken', ...base }).then(() => 201, statusOf);

    expect(status).toBe(409);
    expect(await containerId(`${fleet.fleetName}-taken`)).toBe(strangerId);
    // The volume this create made (labelled with its node id) went with the failed create.
    expect((await docker(['volume', 'inspect', `${fleet.fleetName}-taken-vm`])).status).not.toBe(0);
    expect(await fleet.row('taken')).toBeNull();
    expect(await fleet.prisma.portLease.count()).toBe(0);
  });

  it("refuses a stranger's volume with the fleet's name as a disk (409) and leaves it and the stranger's container", async () => {
    const strangerId = await strangerContainer('squatted');
    const volume = await strangerVolume('squatted');

    const status = await fleet.nodes.create({ name: 'squatted', ...base }).then(() => 201, statusOf);

    expect(status).toBe(409);
    expect(await containerId(`${fleet.fleetName}-squatted`)).toBe(strangerId);
    const kept = await fleet.adapter.inspectVolume(volume);
    expect(kept?.labels).toEqual({ owner: 'someone-else' });
    expect(await fleet.row('squatted')).toBeNull();
  });

  it('keeps a disk an earlier DELETE kept through failed re-creates, and the next good create runs on it', async () => {
    await fleet.nodes.create({ name: 'kept', ...base });
    const first = (await fleet.row('kept'))!;
    await fleet.nodes.remove('kept', false);
    const volumeName = `${first.runtimeRef}-vm`;
    expect((await fleet.adapter.inspectVolume(volumeName))?.labels[LABELS.nodeId]).toBe(first.id);

    // A stranger takes the container name meanwhile: the re-create fails, the disk stays.
    await strangerContainer('kept');
    expect(await fleet.nodes.create({ name: 'kept', ...base }).then(() => 201, statusOf)).toBe(409);
    expect((await fleet.adapter.inspectVolume(volumeName))?.labels[LABELS.nodeId]).toBe(first.id);
    await dockerOk(['rm', '-f', `${fleet.fleetName}-kept`]);

    // A CD-ROM that is not there: Docker refuses the container, the disk stays.
    const badCdrom = await fleet.nodes.create({ name: 'kept', ...base, cdrom: '/nonexistent/bmcfleet/mistyped.iso' }).then(() => 201, statusOf);
    expect(badCdrom).toBeGreaterThanOrEqual(400);
    expect((await fleet.adapter.inspectVolume(volumeName))?.labels[LABELS.nodeId]).toBe(first.id);

    // A good create runs on the kept disk; a purge of that node removes it (it is the fleet's).
    await fleet.nodes.create({ name: 'kept', ...base });
    const second = (await fleet.row('kept'))!;
    expect(second.id).not.toBe(first.id);
    expect(await fleet.bmcAnswers(second)).toBe('off');
    await fleet.nodes.remove('kept', true);
    expect(await fleet.adapter.inspectVolume(volumeName)).toBeNull();
  });

  it("a delete leaves a stranger's container that took the node's name meanwhile", async () => {
    await fleet.nodes.create({ name: 'swapped', ...base });
    const node = (await fleet.row('swapped'))!;
    await dockerOk(['rm', '-f', node.runtimeRef]);
    const strangerId = await strangerContainer('swapped');

    await fleet.nodes.remove('swapped', true);

    expect(await fleet.row('swapped')).toBeNull();
    expect(await containerId(node.runtimeRef)).toBe(strangerId);
  });
});

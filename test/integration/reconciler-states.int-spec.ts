/**
 * What the reconciler does about a node container Docker paused, one cut off its network, and a
 * create whose process died before it answered; and what the node container is made with (limits,
 * capabilities, VNC password, BMC users reset id). Real Docker engine, real SQLite file, MACHINE=sim.
 */
import { LABELS } from '../../src/docker/docker-adapter';
import { docker, dockerOk } from '../../node-image/test/e2e/node-container';
import { describeWithDocker, DockerFleet } from './support/docker-fleet';

jest.setTimeout(180_000);

const MIB = 1024 * 1024;

function repairsOf(report: { repairs: readonly { kind: string; node: string }[] }): [string, string][] {
  return report.repairs.map((repair) => [repair.kind, repair.node]);
}

describeWithDocker('reconciler states')('reconciler: paused, unreachable, interrupted', () => {
  const fleet = new DockerFleet();
  beforeAll(() => fleet.start());
  afterAll(() => fleet.close());

  const base = { machine: 'sim' as const, memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: 'states-pass-1' };

  async function inspect(name: string): Promise<{ State: { Status: string }; Config: { Env: string[] }; HostConfig: Record<string, unknown> }> {
    return JSON.parse(await dockerOk(['inspect', '--format', '{{json .}}', name])) as never;
  }

  it('makes the container with its limits, no new privileges, only the capabilities it needs, and its VNC password', async () => {
    const created = await fleet.nodes.create({ name: 'limited', ...base, memoryMiB: 4096 });
    const row = (await fleet.row('limited'))!;
    const raw = await inspect(row.runtimeRef);
    // sim: the agent alone; the VM memory asked does not apply.
    expect(raw.HostConfig).toMatchObject({ Memory: 256 * MIB, MemorySwap: 256 * MIB, PidsLimit: 512, NanoCpus: 1e9, CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'NET_BIND_SERVICE'], SecurityOpt: ['no-new-privileges:true'] });
    expect(raw.HostConfig['LogConfig']).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(row.vncPassword).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(raw.Config.Env).toEqual(expect.arrayContaining([`VNC_PASSWORD=${row.vncPassword}`, `BMC_USERS_RESET_ID=${row.id}`]));
    // Never in the create's answer, list or get; readable through vnc().
    expect(JSON.stringify(created)).not.toContain(row.vncPassword);
    expect(JSON.stringify(await fleet.nodes.list())).not.toContain(row.vncPassword);
    expect(created.vnc?.passwordAt).toBe('/api/v1/nodes/limited/vnc');
    expect(created.bmcUsers).toBe('reset');
    expect(await fleet.nodes.vnc('limited')).toEqual({ name: 'limited', host: fleet.config.publishAddress, port: created.vnc?.port, password: row.vncPassword });
  });

  it('keeps the BMC users when asked (no reset id), and a reconciler re-create keeps the same reset id', async () => {
    const kept = await fleet.nodes.create({ name: 'keeper', ...base, keepBmcUsers: true });
    expect(kept.bmcUsers).toBe('kept');
    const keeperEnv = (await inspect(`${fleet.fleetName}-keeper`)).Config.Env;
    expect(keeperEnv.some((line) => line.startsWith('BMC_USERS_RESET_ID='))).toBe(false);

    await fleet.nodes.create({ name: 'again', ...base });
    const row = (await fleet.row('again'))!;
    await dockerOk(['rm', '-f', row.runtimeRef]);
    expect(repairsOf(await fleet.reconciler.reconcileNow())).toEqual([['recreated', 'again']]);
    const env = (await inspect(row.runtimeRef)).Config.Env;
    expect(env).toEqual(expect.arrayContaining([`BMC_USERS_RESET_ID=${row.id}`, `VNC_PASSWORD=${row.vncPassword}`]));
  });

  it('gives a row made before VNC passwords one when its container is made anew, not before', async () => {
    await fleet.nodes.create({ name: 'older', ...base });
    const row = (await fleet.row('older'))!;
    await fleet.prisma.node.update({ where: { id: row.id }, data: { vncPassword: null } });
    await dockerOk(['restart', '-t', '1', row.runtimeRef]);
    expect((await fleet.nodes.vnc('older')).password).toBeNull();
    expect((await fleet.nodes.get('older')).vnc?.passwordAt).toBeNull();

    await dockerOk(['rm', '-f', row.runtimeRef]);
    await fleet.reconciler.reconcileNow();
    const password = (await fleet.nodes.vnc('older')).password;
    expect(password).toMatch(/^[A-Za-z0-9]{8}$/);
    expect((await inspect(row.runtimeRef)).Config.Env).toContain(`VNC_PASSWORD=${password}`);
  });

  it('unpauses a paused node container; its BMC answers again', async () => {
    await fleet.nodes.create({ name: 'frozen', ...base });
    const row = (await fleet.row('frozen'))!;
    await dockerOk(['pause', row.runtimeRef]);

    const report = await fleet.reconciler.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['unpaused', 'frozen']]);
    expect((await inspect(row.runtimeRef)).State.Status).toBe('running');
    expect((await fleet.row('frozen'))?.state).toBe('running');
    expect(await fleet.eventTypes(row.id)).toContain('repaired');
    expect(await fleet.bmcAnswers(row)).toBe('off');
  });

  it('marks a BMC cut off its network unreachable (power unknown, one event), and reachable when it is back', async () => {
    await fleet.nodes.create({ name: 'island', ...base });
    const row = (await fleet.row('island'))!;
    await fleet.reconciler.reconcileNow();
    expect(await fleet.row('island')).toMatchObject({ state: 'running', powerState: 'off', bmcReachable: true });

    await dockerOk(['network', 'disconnect', 'bridge', row.runtimeRef]);
    try {
      await fleet.reconciler.reconcileNow();
      await fleet.reconciler.reconcileNow();
      expect(await fleet.row('island')).toMatchObject({ state: 'running', powerState: 'unknown', bmcReachable: false });
      expect((await fleet.nodes.get('island')).bmcReachable).toBe(false);
      expect((await fleet.eventTypes(row.id)).filter((type) => type === 'bmc-unreachable')).toHaveLength(1);
    } finally {
      await docker(['network', 'connect', 'bridge', row.runtimeRef]);
    }
    // Reconnected, the published port is back (Docker publishes it on the bridge endpoint).
    await fleet.bmcAnswers(row);
    await fleet.reconciler.reconcileNow();
    expect(await fleet.row('island')).toMatchObject({ powerState: 'off', bmcReachable: true });
    expect(await fleet.eventTypes(row.id)).toContain('bmc-reachable');
  });

  it('rolls back a create its process never finished: container, volume it made, row and leases go', async () => {
    await fleet.nodes.create({ name: 'halfmade', ...base });
    const row = (await fleet.row('halfmade'))!;
    // As a SIGKILL during the wait for the BMC leaves it (test/e2e/fleet.e2e-spec.ts does it for real).
    await fleet.prisma.node.update({ where: { id: row.id }, data: { state: 'creating', updatedAt: new Date(Date.now() - 3_600_000) } });

    const report = await fleet.reconciler.reconcileNow();

    expect(report.errors).toEqual([]);
    expect(repairsOf(report)).toEqual([['rolled-back', 'halfmade']]);
    expect(await fleet.row('halfmade')).toBeNull();
    expect(await fleet.prisma.portLease.count({ where: { nodeId: row.id } })).toBe(0);
    expect(await fleet.adapter.inspectContainer(row.runtimeRef)).toBeNull();
    expect(await fleet.adapter.inspectVolume(`${row.runtimeRef}-vm`)).toBeNull();
    // The same create again succeeds.
    await fleet.nodes.create({ name: 'halfmade', ...base });
    expect((await fleet.row('halfmade'))?.state).toBe('running');
  });

  it('a rollback keeps a disk an earlier node of that name left', async () => {
    await fleet.nodes.create({ name: 'disk', ...base });
    const first = (await fleet.row('disk'))!;
    await fleet.nodes.remove('disk', false);
    await fleet.nodes.create({ name: 'disk', ...base });
    const second = (await fleet.row('disk'))!;
    await fleet.prisma.node.update({ where: { id: second.id }, data: { state: 'creating', updatedAt: new Date(Date.now() - 3_600_000) } });

    expect(repairsOf(await fleet.reconciler.reconcileNow())).toEqual([['rolled-back', 'disk']]);

    expect((await fleet.adapter.inspectVolume(`${first.runtimeRef}-vm`))?.labels[LABELS.nodeId]).toBe(first.id);
  });
});

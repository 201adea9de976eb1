/**
 * The Swarm runtime (src/runtime/swarm/) on a real three-host Docker Swarm made of Docker-in-Docker
 * hosts (test/support/swarm-harness.ts), with QEMU nodes under TCG driven the way users drive them:
 * ipmitool, SOL and Redfish at each node's host address.
 *
 * - six nodes spread two per host, the same ports used on every host (leases are per host), each
 *   answering ipmitool and Redfish at its host's address and booting the test guest seen over SOL;
 * - a node asking for KVM refused with the reason;
 * - two nodes pinned to one host on a VM network (a swarm overlay) ping each other from their guests;
 * - a node's container killed comes back on the same host with its disk (a BMC user set before);
 * - a second runtime on the same manager (the orchestrator restarted) lists the same fleet;
 * - purge removes a node's volume on its host (a job pinned there); keep leaves it;
 * - a host that dies leaves its nodes "unreachable", still pinned there (nothing re-created elsewhere).
 *
 * Everything lives inside the harness's hosts, removed in afterAll (also after a failure). Waits are
 * bounded; no duration is asserted.
 */
import Dockerode from 'dockerode';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { SwarmNodeRuntime } from '../../src/runtime/swarm/swarm-node-runtime';
import { volumeNameOf } from '../../src/runtime/swarm/service-spec';
import { NodeSpecRefusedError } from '../../src/runtime/runtime-errors';
import { checkPrerequisites, describeE2eWith, GUEST_DIR, GUEST_PROMPT, NODE_IMAGE, type SolConsole } from '../../node-image/test/e2e/node-container';
import { guestPing, guestRun } from '../../node-image/test/e2e/support-network';
import { pollUntil } from '../../node-image/test/support/ipmitool-runner';
import { SwarmHarness, type SwarmHost } from '../support/swarm-harness';
import { HOST_ISO_DIR, ipmitoolAt, placeNode, qemuNodeSpec, redfishGet, solAt, type TestNode, waitForBmc } from './support/swarm-nodes';

const FLEET = `sw${randomBytes(2).toString('hex')}`;
const FLEET_ID = `fleet-${randomBytes(4).toString('hex')}`;
/** Two port sets, each used by one node on every host. */
const PORTS = [{ ipmi: 16_000 + randomInt(0, 500), redfish: 17_000 + randomInt(0, 500) }, { ipmi: 16_600 + randomInt(0, 300), redfish: 17_600 + randomInt(0, 300) }];
const PINNED_PORTS = [{ ipmi: 15_100, redfish: 15_200 }, { ipmi: 15_101, redfish: 15_201 }];
/** The test guest's line after its DHCP attempt on eth0 (node-image/test/guest/init). */
const NET_MARKER = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)/;
/** Generous: three TCG guests boot at once, on a machine other work may be loading too. */
const BOOT_TIMEOUT_MS = 480_000;
/** Per test: two rounds of boots, or one round and the pings. */
const BOOT_TEST_TIMEOUT_MS = 1_200_000;

describeE2eWith(['curl'])('Swarm runtime on a three-host Docker Swarm (Docker-in-Docker)', () => {
  let swarm: SwarmHarness;
  let runtime: SwarmNodeRuntime;
  const spread: TestNode[] = [];
  const pinned: TestNode[] = [];
  const consoles: SolConsole[] = [];
  let seq = 0;

  const hostNamed = (name: string): SwarmHost => {
    const host = swarm.hosts.find((h) => h.name === name);
    if (host === undefined) throw new Error(`no swarm host ${name}`);
    return host;
  };
  const newRuntime = (): SwarmNodeRuntime => new SwarmNodeRuntime({
    docker: new Dockerode({ socketPath: swarm.manager.socketPath }), fleetId: FLEET_ID, jobImage: NODE_IMAGE, nodesNetwork: `${FLEET}-nodes`, pollMs: 500,
  });
  const node = (ports: { ipmi: number; redfish: number }, extra: { host?: string; networks?: string[] } = {}): TestNode =>
    qemuNodeSpec({ fleet: FLEET, name: `n${++seq}`, nodeId: `id-${seq}-${randomBytes(3).toString('hex')}`, image: NODE_IMAGE, ipmiPort: ports.ipmi, redfishPort: ports.redfish, ...extra });
  /** Polls the runtime's list until every node not on `except` runs (a restarted task runs once healthy). */
  const waitAllRunning = async (rt: SwarmNodeRuntime, except?: string) => pollUntil(() => rt.list(),
    (l) => l.filter((o) => o.host !== except).every((o) => o.state === 'running'), { attempts: 90, timeoutMs: 180_000, intervalMs: 2_000 });
  const volumesOn = async (host: SwarmHost): Promise<string[]> =>
    (await swarm.dockerOk(host, ['volume', 'ls', '-q'])).split('\n').filter((v) => v.length > 0);
  const bootOverSol = async (n: TestNode): Promise<SolConsole> => {
    const sol = await solAt(n);
    consoles.push(sol);
    const from = sol.mark();
    expect((await ipmitoolAt(n, ['power', 'on'])).status).toBe(0);
    await sol.expect(/BMCFLEET-GUEST-READY firmware=bios bootdev=cdrom/, `${n.spec.name} boots the test guest`, { from, timeoutMs: BOOT_TIMEOUT_MS });
    return sol;
  };

  beforeAll(async () => {
    await checkPrerequisites();
    swarm = await SwarmHarness.start({ images: [NODE_IMAGE] });
    process.stderr.write(`swarm harness up: ${JSON.stringify(swarm.timings)} ms\n`);
    // The test guest's ISO on every host, where the nodes' read-only bind finds it.
    await Promise.all(swarm.hosts.map(async (h) => {
      await swarm.dockerOk(h, ['version']);
      const { dockerOk } = await import('../../node-image/test/e2e/node-container');
      await dockerOk(['exec', h.name, 'mkdir', '-p', HOST_ISO_DIR]);
      await dockerOk(['cp', join(GUEST_DIR, 'guest.iso'), `${h.name}:${HOST_ISO_DIR}/guest.iso`]);
    }));
    runtime = newRuntime();
  });

  afterAll(async () => {
    await Promise.all(consoles.map((c) => c.kill()));
    await swarm?.stop();
  });

  it('refuses a node that asks for KVM, saying why', async () => {
    const kvm = node(PORTS[0]!);
    await expect(runtime.ensure({ ...kvm.spec, devices: ['tun', 'kvm'] })).rejects.toThrow(NodeSpecRefusedError);
    await expect(runtime.ensure({ ...kvm.spec, devices: ['tun', 'kvm'] })).rejects.toThrow(/moby\/swarmkit#1244/);
    expect(await runtime.list()).toEqual([]);
  });

  it('spreads six QEMU nodes two per host, the same ports on every host, each answering ipmitool and Redfish at its host address', async () => {
    for (const ports of PORTS) {
      const batch = [node(ports), node(ports), node(ports)];
      spread.push(...(await Promise.all(batch.map((n) => placeNode(runtime, n)))));
    }
    const perHost = new Map<string, number>();
    for (const n of spread) perHost.set(n.host, (perHost.get(n.host) ?? 0) + 1);
    expect([...perHost.keys()].sort()).toEqual(swarm.hosts.map((h) => h.name).sort());
    expect([...perHost.values()]).toEqual([2, 2, 2]);
    for (const n of spread) {
      expect(n.address).toBe(hostNamed(n.host).address);
      expect(await waitForBmc(n)).toBe('Chassis Power is off');
      const systems = await redfishGet(n, '/redfish/v1/Systems');
      expect(systems.status).toBe(200);
      expect(systems.body['Members@odata.count']).toBe(1);
    }
    // Leases are per host: each port set is held on all three hosts at once.
    for (const ports of PORTS) expect(new Set(spread.filter((n) => n.ipmiPort === ports.ipmi).map((n) => n.host)).size).toBe(3);
  });

  it('boots the test guest on every node, seen over SOL at its host address', async () => {
    // One node per host at a time (TCG guests on a shared 2-core machine), each powered off after.
    for (const ports of PORTS) {
      const batch = spread.filter((n) => n.ipmiPort === ports.ipmi);
      try {
        await Promise.all(batch.map((n) => bootOverSol(n)));
      } finally {
        await Promise.all(consoles.splice(0).map((c) => c.kill()));
        for (const n of batch) await ipmitoolAt(n, ['power', 'off']);
      }
    }
  }, BOOT_TEST_TIMEOUT_MS);

  it('two nodes pinned to one host on a VM network ping each other from their guests', async () => {
    const host = swarm.hosts[1]!;
    const lan = `${FLEET}-vmlan`;
    await swarm.dockerOk(swarm.manager, ['network', 'create', '-d', 'overlay', '--attachable', lan]);
    await runtime.checkNetwork(lan);
    const pair = [node(PINNED_PORTS[0]!, { host: host.name, networks: [lan] }), node(PINNED_PORTS[1]!, { host: host.name, networks: [lan] })];
    for (const n of pair) pinned.push(await placeNode(runtime, n));
    expect(pinned.map((n) => n.host)).toEqual([host.name, host.name]);
    expect((await runtime.observe(pinned[0]!.spec.ref))?.networks).toEqual([lan]);
    for (const n of pinned) await waitForBmc(n);
    let solA: SolConsole | undefined;
    let solB: SolConsole | undefined;
    try {
      [solA, solB] = await Promise.all(pinned.map((n) => bootOverSol(n)));
    } catch (err) {
      for (const n of pinned) await ipmitoolAt(n, ['power', 'off']);
      throw err;
    }
    // The guest tries DHCP on eth0 in the background after its READY line, and udhcpc starts by
    // flushing eth0's addresses: an address typed before that attempt ended would be gone by the ping.
    // Nothing answers DHCP on this network, so each attempt ends with addr=none.
    for (const [sol, n] of [[solA!, pinned[0]!], [solB!, pinned[1]!]] as const) {
      expect((await sol.expect(NET_MARKER, `${n.spec.name}: the guest's DHCP attempt on eth0`, { timeoutMs: BOOT_TIMEOUT_MS }))[1]).toBe('none');
      await sol.expect(GUEST_PROMPT, `${n.spec.name}: guest shell prompt`);
    }
    await guestRun(solA!, 'ip addr add 192.168.77.1/24 dev eth0 && ip link set eth0 up && echo ADDR-$((1+0))-UP', /ADDR-1-UP/, 'address on A');
    await guestRun(solB!, 'ip addr add 192.168.77.2/24 dev eth0 && ip link set eth0 up && echo ADDR-$((2+0))-UP', /ADDR-2-UP/, 'address on B');
    expect(await guestPing(solA!, '192.168.77.2', 'A pings B')).toBe('OK');
    expect(await guestPing(solB!, '192.168.77.1', 'B pings A')).toBe('OK');
    await Promise.all(consoles.splice(0).map((c) => c.kill()));
    for (const n of pinned) await ipmitoolAt(n, ['power', 'off']);
  }, BOOT_TEST_TIMEOUT_MS);

  it('a node whose container is killed comes back on the same host with its disk', async () => {
    const n = spread[0]!;
    const host = hostNamed(n.host);
    expect((await ipmitoolAt(n, ['user', 'set', 'name', '5', 'diskprobe'])).status).toBe(0);
    const containerOf = async (): Promise<string> =>
      (await swarm.dockerOk(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${n.spec.ref}`])).trim();
    const before = await containerOf();
    expect(before).not.toBe('');
    await swarm.dockerOk(host, ['kill', before]);
    const after = await pollUntil(containerOf, (id) => id !== '' && id !== before, { attempts: 120, timeoutMs: 120_000, intervalMs: 1_000 });
    expect(after).not.toBe(before);
    await waitForBmc(n);
    expect((await ipmitoolAt(n, ['user', 'list', '1'])).stdout).toContain('diskprobe');
    expect((await runtime.observe(n.spec.ref))?.host).toBe(n.host);
  });

  it('a runtime started anew on the same manager (the orchestrator restarted) lists the same fleet', async () => {
    const listed = await waitAllRunning(newRuntime());
    const expected = [...spread, ...pinned].map((n) => ({ ref: n.spec.ref, nodeId: n.spec.nodeId, host: n.host })).sort((a, b) => a.ref.localeCompare(b.ref));
    expect(listed.map((o) => ({ ref: o.ref, nodeId: o.nodeId, host: o.host })).sort((a, b) => a.ref.localeCompare(b.ref))).toEqual(expected);
    expect(listed.every((o) => o.state === 'running')).toBe(true);
  });

  it('purge removes a node\'s volume on its host; keep leaves it there', async () => {
    const [purged, kept] = [spread[1]!, spread[2]!];
    expect(await volumesOn(hostNamed(purged.host))).toContain(volumeNameOf(purged.spec.ref));
    await runtime.remove({ id: purged.spec.nodeId, name: purged.spec.name, ref: purged.spec.ref, host: purged.host }, 'purge');
    await runtime.remove({ id: kept.spec.nodeId, name: kept.spec.name, ref: kept.spec.ref, host: kept.host }, 'keep');
    expect(await volumesOn(hostNamed(purged.host))).not.toContain(volumeNameOf(purged.spec.ref));
    expect(await volumesOn(hostNamed(kept.host))).toContain(volumeNameOf(kept.spec.ref));
    expect((await runtime.list()).map((o) => o.ref)).not.toEqual(expect.arrayContaining([purged.spec.ref]));
    // No volume job is left behind.
    expect((await swarm.dockerOk(swarm.manager, ['service', 'ls', '--format', '{{.Name}}'])).split('\n').filter((s) => s.includes('-rmvol-'))).toEqual([]);
  });

  it('a host that dies leaves its nodes unreachable, pinned there, nothing re-created elsewhere', async () => {
    const victim = swarm.hosts[2]!;
    const remaining = new Set((await runtime.list()).map((o) => o.ref));
    const onVictim = [...spread, ...pinned].filter((n) => n.host === victim.name && remaining.has(n.spec.ref));
    expect(onVictim.length).toBeGreaterThan(0);
    await swarm.killHost(victim);
    await swarm.waitForNodeState(victim, 'down');
    const listed = await waitAllRunning(runtime, victim.name);
    for (const n of onVictim) expect(listed.find((o) => o.ref === n.spec.ref)).toMatchObject({ state: 'unreachable', host: victim.name });
    for (const o of listed.filter((x) => x.host !== victim.name)) expect(o.state).toBe('running');
    // No task of theirs runs on another host.
    for (const n of onVictim) {
      const tasks = await swarm.dockerOk(swarm.manager, ['service', 'ps', '--format', '{{.Node}} {{.CurrentState}}', n.spec.ref]);
      for (const line of tasks.split('\n').filter((l) => /^\S+ Running/.test(l))) expect(line.startsWith(victim.name)).toBe(true);
    }
  });
});

/**
 * DockerodeAdapter against the real Docker engine and the real node image (bmcfleet/node:latest,
 * MACHINE=sim: the agent without QEMU, so nodes start in a second): what it creates (labels, env,
 * published ports, volume, devices, capability, restart policy, as the engine reports them), that
 * every call is idempotent, that 50 concurrent creates succeed, how conflicts and busy ports are
 * reported, networks, and the node image build through the Engine API.
 *
 * The node image build runs for real (the repository context, node-image/Dockerfile, throwaway tag):
 * with the layer cache of the image scripts/build-image.sh built from the same tree it takes seconds,
 * and without it a few minutes at most, which the test allows. scripts/build-image.sh then builds
 * the same tree under another throwaway tag: the API build must sit on exactly that image (only its
 * LABEL step on top), which shows the context is what the CLI sends, so both share the cache. A
 * failing build uses a two-line Dockerfile through the same stream path (runImageBuild).
 *
 * Ownership: everything made here carries bmcfleet.test=1 and this run's bmcfleet.test.run label
 * (containers, volumes, networks); afterAll removes by that label, plus the image tags of the run.
 * Without an engine the suite is skipped loudly, and fails under CI=true.
 */
import { Logger } from '@nestjs/common';
import Dockerode from 'dockerode';
import { randomBytes } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceId, IpmiClient } from '../../node-image/src/client';
import { freeUdpPort } from '../../node-image/test/support/agent-process';
import { run } from '../../node-image/test/support/tools';
import { NODE_IMAGE } from '../../node-image/test/e2e/node-container';
import { DockerAdapterError, LABELS, NodeContainerSpec } from '../../src/docker/docker-adapter';
import { DockerodeAdapter } from '../../src/docker/dockerode-adapter';
import { packContext, runImageBuild } from '../../src/docker/image-build';
import { nodeLimits } from '../../src/nodes/node-spec';
import { containerLimits, nodeLabels } from '../../src/runtime/docker/container-spec';

const TEST_LABEL_KEY = 'bmcfleet.test';
const RUN_LABEL_KEY = 'bmcfleet.test.run';
const RUN_ID = `it-${process.pid}-${randomBytes(3).toString('hex')}`;
const FLEET_ID = `fleet-${RUN_ID}`;
const OTHER_FLEET_ID = `other-${RUN_ID}`;
const IPMI_USER = 'admin';
const IPMI_PASS = 'it-secret-pass';
const MISSING_IMAGE = 'bmcfleet/no-such-image:missing';
const BUILD_TAG = `bmcfleet/node-it:${RUN_ID}`;
const CLI_BUILD_TAG = `bmcfleet/node-it-cli:${RUN_ID}`;
const FAILED_BUILD_TAG = `bmcfleet/node-it-fail:${RUN_ID}`;
const BUILD_SCRIPT = join(__dirname, '..', '..', 'scripts', 'build-image.sh');
/** Creates at once in the concurrency test (a fleet's worth). */
const CONCURRENT_NODES = 50;
/** Host ports of nodes that are created but never started (nothing binds them). */
const UNSTARTED_PORT_BASE = 41000;
const STOP_TIMEOUT_S = 10;

/** Bounds: the machine is shared and has 2 cores. */
const AGENT_ANSWER_TIMEOUT_MS = 60_000;
const IPMI_TRY_TIMEOUT_MS = 1000;
const POLL_MS = 500;
const TEST_TIMEOUT_MS = 180_000;
/** A full node image build without any cache downloads Node.js and QEMU's packages. */
const IMAGE_BUILD_TIMEOUT_MS = 900_000;

jest.setTimeout(TEST_TIMEOUT_MS);

/** `describe`, or `describe.skip` with a loud message when no engine answers (an error under CI=true). */
function describeWithDockerEngine(): jest.Describe {
  const version = run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  if (version.status === 0) return describe;
  const msg = `NO DOCKER ENGINE (${(version.stderr || 'docker CLI missing').trim()}): the Docker adapter integration tests are SKIPPED. Start one with "bash scripts/docker-engine.sh".`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

let seq = 0;

interface TestNode {
  readonly spec: NodeContainerSpec;
  readonly nodeId: string;
}

/** A node spec of this run: MACHINE=sim, the ports given (or free ones), test labels on everything. */
async function testNode(opts: { fleetId?: string; nodeId?: string; name?: string; ipmiPort?: number; vncPort?: number; image?: string } = {}): Promise<TestNode> {
  const n = ++seq;
  const nodeName = opts.name ?? `n${n}`;
  const nodeId = opts.nodeId ?? `id-${RUN_ID}-${n}`;
  const ipmiPort = opts.ipmiPort ?? (await freeUdpPort());
  const vncPort = opts.vncPort ?? (await freeTcpPort());
  const containerName = `bmcfleet-${RUN_ID}-${nodeName}`;
  return {
    nodeId,
    spec: {
      name: containerName,
      image: opts.image ?? NODE_IMAGE,
      labels: { ...nodeLabels(opts.fleetId ?? FLEET_ID, { id: nodeId, name: nodeName }), [TEST_LABEL_KEY]: '1', [RUN_LABEL_KEY]: RUN_ID },
      env: {
        NODE_NAME: nodeName,
        MACHINE: 'sim',
        IPMI_USER,
        IPMI_PASS,
        IPMI_PORT: String(ipmiPort),
        VNC_PORT: String(vncPort),
      },
      ipmi: { hostIp: '127.0.0.1', port: ipmiPort, containerPort: ipmiPort },
      vnc: { hostIp: '127.0.0.1', port: vncPort, containerPort: vncPort },
      redfish: null,
      volumeName: `${containerName}-vm`,
      readOnlyBinds: [],
      devices: ['/dev/net/tun'],
      capDrop: ['ALL'],
      capAdd: ['NET_ADMIN', 'NET_BIND_SERVICE'],
      securityOpt: ['no-new-privileges:true'],
      limits: containerLimits(nodeLimits({ machine: 'sim', memoryMiB: 256, cpus: 1 })),
    },
  };
}

/** Get Device ID over RMCP+ through the published port, polled (bounded) until the agent answers. */
async function deviceIdThrough(port: number): Promise<DeviceId> {
  const deadline = Date.now() + AGENT_ANSWER_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    let client: IpmiClient | undefined;
    try {
      client = await IpmiClient.connect({ host: '127.0.0.1', port, user: IPMI_USER, password: IPMI_PASS, timeoutMs: IPMI_TRY_TIMEOUT_MS, retries: 1 });
      return await client.getDeviceId();
    } catch (error) {
      last = error;
    } finally {
      await client?.close().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`the agent did not answer Get Device ID on 127.0.0.1:${port} within ${AGENT_ANSWER_TIMEOUT_MS} ms: ${String(last)}`);
}

/** The rejection of `promise`, which must be a DockerAdapterError. */
async function adapterError(promise: Promise<unknown>): Promise<DockerAdapterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DockerAdapterError) return error;
    throw new Error(`expected a DockerAdapterError, got ${String(error)}`);
  }
  throw new Error('expected a DockerAdapterError, the call succeeded');
}

const runLabelFilter = { label: [`${RUN_LABEL_KEY}=${RUN_ID}`] };

describeWithDockerEngine()('DockerodeAdapter (real engine, node image, MACHINE=sim)', () => {
  const docker = new Dockerode();
  const sut = new DockerodeAdapter(docker);

  beforeAll(async () => {
    // The adapter's debug lines (one per Docker call) would drown the test output.
    Logger.overrideLogger(['warn', 'error']);
    if (!(await sut.imageExists(NODE_IMAGE))) {
      throw new Error(`the node image ${NODE_IMAGE} is missing: run "npm run build:image" (or "bash scripts/setup.sh")`);
    }
  });

  afterAll(async () => {
    const containers = await docker.listContainers({ all: true, filters: runLabelFilter });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
    const { Volumes: volumes } = await docker.listVolumes({ filters: runLabelFilter });
    await Promise.all((volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
    const networks = await docker.listNetworks({ filters: runLabelFilter });
    await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
    for (const tag of [BUILD_TAG, CLI_BUILD_TAG, FAILED_BUILD_TAG]) await docker.getImage(tag).remove().catch(() => undefined);
  }, TEST_TIMEOUT_MS);

  it('answers ping and tells present images from missing ones', async () => {
    await expect(sut.ping()).resolves.toBe(true);
    await expect(sut.imageExists(NODE_IMAGE)).resolves.toBe(true);
    await expect(sut.imageExists(MISSING_IMAGE)).resolves.toBe(false);
  });

  describe('a node through its life', () => {
    let node: TestNode;
    let id: string;

    beforeAll(async () => {
      node = await testNode();
    });

    it('creates the volume (labelled) and the container, and a second create returns the same container', async () => {
      id = await sut.createNodeContainer(node.spec);
      await expect(sut.createNodeContainer(node.spec)).resolves.toBe(id);
      const volume = await docker.getVolume(node.spec.volumeName).inspect();
      expect(volume.Labels).toEqual(node.spec.labels);
    });

    it('creates it as the engine reports: ports on 127.0.0.1 with host = container port, /vm volume, tun, NET_ADMIN, unless-stopped', async () => {
      const raw = await docker.getContainer(id).inspect();
      const ipmi = node.spec.ipmi!; const vnc = node.spec.vnc!;
      expect(raw.HostConfig.PortBindings).toEqual({
        [`${ipmi.port}/udp`]: [{ HostIp: '127.0.0.1', HostPort: String(ipmi.port) }],
        [`${vnc.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(vnc.port) }],
      });
      expect(raw.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: node.spec.volumeName, Destination: '/vm', RW: true })]);
      expect(raw.HostConfig.Devices).toEqual([{ PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' }]);
      expect(raw.HostConfig.CapDrop).toEqual(['ALL']);
      expect(raw.HostConfig.CapAdd).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE']);
      expect(raw.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
      expect(raw.HostConfig).toMatchObject({ Memory: node.spec.limits.memoryBytes, MemorySwap: node.spec.limits.memoryBytes, PidsLimit: node.spec.limits.pids });
      expect(raw.HostConfig.NanoCpus).toBeGreaterThan(0);
      expect(raw.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
      expect(raw.HostConfig.Privileged).toBe(false);
      expect(raw.HostConfig.RestartPolicy).toEqual(expect.objectContaining({ Name: 'unless-stopped' }));
    });

    it('inspects it as an InspectedContainer', async () => {
      const inspected = await sut.inspectContainer(node.spec.name);
      expect(inspected).toEqual({
        id,
        name: node.spec.name,
        state: 'created',
        labels: node.spec.labels,
        env: expect.objectContaining(node.spec.env),
        image: NODE_IMAGE,
        publishedPorts: { [`${node.spec.ipmi!.port}/udp`]: node.spec.ipmi!.port, [`${node.spec.vnc!.port}/tcp`]: node.spec.vnc!.port },
        networks: ['bridge'],
        // A created container has no address on its network yet.
        addresses: {},
        // Nor an exit: it never ran.
        exit: null,
      });
    });

    it('starts it (twice is fine) and its agent answers IPMI on the published port', async () => {
      await sut.startContainer(node.spec.name);
      await sut.startContainer(node.spec.name);
      const running = await sut.inspectContainer(node.spec.name);
      expect(running?.state).toBe('running');
      expect(running?.addresses).toEqual({ bridge: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) });
      const deviceId = await deviceIdThrough(node.spec.ipmi!.port);
      expect(deviceId.ipmiVersion).toBe('2.0');
    });

    it('runs a process in it with its environment: exit code, stdout and stderr apart, output capped', async () => {
      const limits = { timeoutMs: 30_000, maxOutputBytes: 64 };
      const ok = await sut.exec(node.spec.name, ['sh', '-c', 'echo "node=$NODE_NAME"; echo oops >&2; exit 3'], limits);
      expect(ok).toEqual({ exitCode: 3, stdout: `node=${node.spec.env['NODE_NAME']}\n`, stderr: 'oops\n' });
      const long = await sut.exec(node.spec.name, ['sh', '-c', 'head -c 1000 /dev/zero | tr "\\0" x'], limits);
      expect(long.stdout).toBe('x'.repeat(64));
      await expect(sut.exec(`${node.spec.name}-missing`, ['true'], limits)).rejects.toMatchObject({ kind: 'not-found' });
      await expect(sut.exec(node.spec.name, ['sleep', '30'], { timeoutMs: 500, maxOutputBytes: 64 })).rejects.toThrow(/no end within 500 ms/);
    });

    it('stops it (twice is fine), removes it (twice is fine), then its volume (twice is fine)', async () => {
      await sut.stopContainer(node.spec.name, STOP_TIMEOUT_S);
      await sut.stopContainer(node.spec.name, STOP_TIMEOUT_S);
      const stopped = await sut.inspectContainer(node.spec.name);
      expect(stopped?.state).toBe('exited');
      expect(stopped?.exit).toEqual({ code: expect.any(Number), at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), outOfMemory: false });

      await sut.removeContainer(node.spec.name);
      await sut.removeContainer(node.spec.name);
      await expect(sut.inspectContainer(node.spec.name)).resolves.toBeNull();
      await sut.stopContainer(node.spec.name, STOP_TIMEOUT_S);

      await sut.removeVolume(node.spec.volumeName);
      await sut.removeVolume(node.spec.volumeName);
      const volumes = await docker.listVolumes({ filters: { name: [node.spec.volumeName] } });
      expect((volumes.Volumes ?? []).map((v) => v.Name)).not.toContain(node.spec.volumeName);
    });
  });

  it('keeps the volume of a removed node and gives it to the re-created node', async () => {
    const node = await testNode();
    await sut.createNodeContainer(node.spec);
    await sut.removeContainer(node.spec.name);
    expect((await docker.getVolume(node.spec.volumeName).inspect()).Name).toBe(node.spec.volumeName);
    await sut.createNodeContainer(node.spec);
    const raw = await docker.getContainer(node.spec.name).inspect();
    expect(raw.Mounts.map((m) => m.Name)).toEqual([node.spec.volumeName]);
  });

  it(`creates ${CONCURRENT_NODES} nodes at once, and the same node five times at once, without a spurious failure`, async () => {
    const nodes = await Promise.all(
      Array.from({ length: CONCURRENT_NODES }, (_, i) => testNode({ ipmiPort: UNSTARTED_PORT_BASE + 2 * i, vncPort: UNSTARTED_PORT_BASE + 2 * i + 1 })),
    );
    const ids = await Promise.all(nodes.map((node) => sut.createNodeContainer(node.spec)));
    expect(new Set(ids).size).toBe(CONCURRENT_NODES);

    const twin = await testNode({ ipmiPort: UNSTARTED_PORT_BASE + 2 * CONCURRENT_NODES, vncPort: UNSTARTED_PORT_BASE + 2 * CONCURRENT_NODES + 1 });
    const twinIds = await Promise.all(Array.from({ length: 5 }, () => sut.createNodeContainer(twin.spec)));
    expect(new Set(twinIds).size).toBe(1);

    const all = [...nodes, twin];
    await Promise.all(all.map((node) => sut.removeContainer(node.spec.name)));
    await Promise.all(all.map((node) => sut.removeVolume(node.spec.volumeName)));
    const left = await docker.listContainers({ all: true, filters: { name: all.map((node) => node.spec.name) } });
    expect(left.filter((c) => all.some((node) => c.Names.includes(`/${node.spec.name}`)))).toEqual([]);
  });

  describe('name conflicts', () => {
    it('refuses a name held by another node (another node id), naming both', async () => {
      const first = await testNode({ name: 'taken' });
      await sut.createNodeContainer(first.spec);
      const second = await testNode({ name: 'taken', nodeId: `id-${RUN_ID}-other` });
      const error = await adapterError(sut.createNodeContainer({ ...second.spec, name: first.spec.name }));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain(first.spec.name);
      expect(error.message).toContain(first.nodeId);
      expect(error.message).toContain(`id-${RUN_ID}-other`);
    });

    it('refuses a name held by a container that is not a bmcfleet node', async () => {
      const node = await testNode();
      await docker.createContainer({ name: node.spec.name, Image: NODE_IMAGE, Labels: { [TEST_LABEL_KEY]: '1', [RUN_LABEL_KEY]: RUN_ID } });
      const error = await adapterError(sut.createNodeContainer(node.spec));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain('not a bmcfleet node');
    });

    it("refuses a volume of another fleet as the node's disk", async () => {
      const node = await testNode();
      const stranger = await testNode({ fleetId: OTHER_FLEET_ID });
      await docker.createVolume({ Name: node.spec.volumeName, Labels: stranger.spec.labels });
      const error = await adapterError(sut.createNodeContainer(node.spec));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain(OTHER_FLEET_ID);
    });

    it('calls removing a volume that a container still mounts a conflict', async () => {
      const node = await testNode();
      await sut.createNodeContainer(node.spec);
      const error = await adapterError(sut.removeVolume(node.spec.volumeName));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain(node.spec.volumeName);
    });
  });

  describe('busy host ports', () => {
    it('says port-in-use when a host process holds the IPMI port (the container stays, created)', async () => {
      const holder: Socket = createSocket('udp4');
      await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', () => resolve()));
      try {
        const node = await testNode({ ipmiPort: holder.address().port });
        await sut.createNodeContainer(node.spec);
        const error = await adapterError(sut.startContainer(node.spec.name));
        expect(error.kind).toBe('port-in-use');
        expect(error.message).toContain(node.spec.name);
        expect(error.message).toMatch(/address already in use/);
        expect((await sut.inspectContainer(node.spec.name))?.state).toBe('created');
      } finally {
        await new Promise<void>((resolve) => holder.close(() => resolve()));
      }
    });

    it('says port-in-use when another container published the VNC port', async () => {
      const first = await testNode();
      const second = await testNode({ vncPort: first.spec.vnc!.port });
      await sut.createNodeContainer(first.spec);
      await sut.startContainer(first.spec.name);
      await sut.createNodeContainer(second.spec);
      const error = await adapterError(sut.startContainer(second.spec.name));
      expect(error.kind).toBe('port-in-use');
      expect(error.message).toMatch(/port is already allocated/);
    });
  });

  it("says image-missing, with the container's name and the image, when the image does not exist", async () => {
    const node = await testNode({ image: MISSING_IMAGE });
    const error = await adapterError(sut.createNodeContainer(node.spec));
    expect(error.kind).toBe('image-missing');
    expect(error.message).toContain(node.spec.name);
    expect(error.message).toContain(MISSING_IMAGE);
    await expect(sut.inspectContainer(node.spec.name)).resolves.toBeNull();
  });

  it("says not-found when starting a container that does not exist", async () => {
    const error = await adapterError(sut.startContainer(`bmcfleet-${RUN_ID}-nobody`));
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain(`bmcfleet-${RUN_ID}-nobody`);
  });

  it("lists the fleet's containers, running or not, and not another fleet's", async () => {
    const a = await testNode();
    const b = await testNode();
    const stranger = await testNode({ fleetId: OTHER_FLEET_ID });
    for (const node of [a, b, stranger]) await sut.createNodeContainer(node.spec);
    await sut.startContainer(a.spec.name);

    const listed = await sut.listFleetContainers(FLEET_ID);
    const byName = new Map(listed.map((c) => [c.name, c]));
    expect(byName.get(a.spec.name)).toEqual(expect.objectContaining({ state: 'running', labels: a.spec.labels }));
    expect(byName.get(b.spec.name)).toEqual(expect.objectContaining({ state: 'created', labels: b.spec.labels }));
    expect(byName.has(stranger.spec.name)).toBe(false);
    expect(listed.every((c) => c.labels[LABELS.fleet] === FLEET_ID && c.labels[LABELS.managed] === 'true')).toBe(true);
    expect((await sut.listFleetContainers(OTHER_FLEET_ID)).map((c) => c.name)).toEqual([stranger.spec.name]);
  });

  describe('networks', () => {
    const labels = { [TEST_LABEL_KEY]: '1', [RUN_LABEL_KEY]: RUN_ID };
    // Names sort after "bridge" and the non-internal one is IPv4-only, so the node's published ports
    // stay on the default network (node-image/test/e2e/support-network.ts).
    const lanName = `vmlan-${RUN_ID}-lan`;
    const internalName = `vmlan-${RUN_ID}-internal`;
    const v6Name = `vmlan-${RUN_ID}-v6`;

    beforeAll(async () => {
      await docker.createNetwork({ Name: lanName, Driver: 'bridge', Labels: labels, CheckDuplicate: true });
      await docker.createNetwork({ Name: internalName, Driver: 'bridge', Internal: true, Labels: labels, CheckDuplicate: true });
      await docker.createNetwork({
        Name: v6Name,
        Driver: 'bridge',
        Internal: true,
        EnableIPv6: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: `fd${randomBytes(5).toString('hex').replace(/^(..)(....)(....)$/, '$1:$2:$3')}::/64` }] },
        Labels: labels,
        CheckDuplicate: true,
      });
    });

    it('inspects flags, and null for a missing network', async () => {
      await expect(sut.inspectNetwork(lanName)).resolves.toEqual({ name: lanName, id: expect.any(String), internal: false, ipv6: false });
      await expect(sut.inspectNetwork(internalName)).resolves.toEqual(expect.objectContaining({ internal: true, ipv6: false }));
      await expect(sut.inspectNetwork(v6Name)).resolves.toEqual(expect.objectContaining({ internal: true, ipv6: true }));
      await expect(sut.inspectNetwork(`vmlan-${RUN_ID}-missing`)).resolves.toBeNull();
    });

    it('connects a running node (twice is fine), in order, and its agent still answers on the published port', async () => {
      const node = await testNode();
      await sut.createNodeContainer(node.spec);
      await sut.startContainer(node.spec.name);
      await deviceIdThrough(node.spec.ipmi!.port);

      await sut.connectNetwork(node.spec.name, lanName);
      await sut.connectNetwork(node.spec.name, internalName);
      await sut.connectNetwork(node.spec.name, lanName);
      expect([...((await sut.inspectContainer(node.spec.name))?.networks ?? [])].sort()).toEqual(['bridge', internalName, lanName].sort());
      const deviceId = await deviceIdThrough(node.spec.ipmi!.port);
      expect(deviceId.ipmiVersion).toBe('2.0');
    });

    it('says not-found for a missing network or container', async () => {
      const node = await testNode();
      await sut.createNodeContainer(node.spec);
      const noNetwork = await adapterError(sut.connectNetwork(node.spec.name, `vmlan-${RUN_ID}-missing`));
      expect(noNetwork.kind).toBe('not-found');
      expect(noNetwork.message).toContain(`vmlan-${RUN_ID}-missing`);
      const noContainer = await adapterError(sut.connectNetwork(`bmcfleet-${RUN_ID}-nobody`, lanName));
      expect(noContainer.kind).toBe('not-found');
    });
  });

  describe('image builds', () => {
    it(
      'builds the node image from the repository under a throwaway tag, streaming progress, labelled as managed',
      async () => {
        const lines: string[] = [];
        await sut.buildNodeImage(BUILD_TAG, (line) => lines.push(line));
        expect(lines.some((line) => /^Step 1\/\d+ : ARG BASE_IMAGE/.test(line))).toBe(true);
        expect(lines).toContain(`Successfully tagged ${BUILD_TAG}`);
        const image = await docker.getImage(BUILD_TAG).inspect();
        expect(image.Config.Labels).toEqual(expect.objectContaining({ [LABELS.managed]: 'true' }));
        const node = await docker.getImage(NODE_IMAGE).inspect();
        expect(image.Config.Entrypoint).toEqual(node.Config.Entrypoint);
      },
      IMAGE_BUILD_TIMEOUT_MS,
    );

    it(
      'builds layer for layer what scripts/build-image.sh builds from the same tree (the context is packed as the CLI packs it)',
      async () => {
        const cli = run('bash', [BUILD_SCRIPT], { timeoutMs: IMAGE_BUILD_TIMEOUT_MS, env: { ...process.env, IMAGE_TAG: CLI_BUILD_TAG } });
        expect({ status: cli.status, stdout: cli.stdout, stderr: cli.stderr }).toMatchObject({ status: 0 });
        const cliImage = await docker.getImage(CLI_BUILD_TAG).inspect();
        const apiImage = await docker.getImage(BUILD_TAG).inspect();
        // The API build adds only its LABEL step on top of the very image the CLI built.
        expect(apiImage.Parent).toBe(cliImage.Id);
      },
      IMAGE_BUILD_TIMEOUT_MS,
    );

    it("fails a build with Docker's error text", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-it-build-'));
      try {
        writeFileSync(join(dir, 'Dockerfile'), `FROM ${NODE_IMAGE}\nRUN exit 3\n`);
        const lines: string[] = [];
        const error = await adapterError(
          runImageBuild(docker, packContext(dir, ['Dockerfile']), { tag: FAILED_BUILD_TAG, dockerfile: 'Dockerfile', buildArgs: {}, labels: { [RUN_LABEL_KEY]: RUN_ID } }, (line) => lines.push(line)),
        );
        expect(error.kind).toBe('engine');
        expect(error.message).toContain(FAILED_BUILD_TAG);
        expect(error.message).toContain('returned a non-zero code: 3');
        expect(lines.some((line) => line.includes('RUN exit 3'))).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('fails a build whose Dockerfile is not in the context, saying so', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-it-build-'));
      try {
        writeFileSync(join(dir, 'other.txt'), 'x');
        const error = await adapterError(
          runImageBuild(docker, packContext(dir, ['other.txt']), { tag: FAILED_BUILD_TAG, dockerfile: 'Dockerfile', buildArgs: {}, labels: {} }, () => undefined),
        );
        expect(error.message).toMatch(/Dockerfile/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

/**
 * A real Docker Swarm of three hosts for tests, each host a Docker engine inside a container
 * (test/support/swarm-host/): the first host inits the swarm, the others join as workers, every
 * image the test names is loaded into every host (`docker save` once, `docker load` on each), and
 * the test reaches
 *
 * - each host's engine through its Unix socket, seen from this machine at
 *   `/proc/<pid of the host's dockerd>/root/run/docker.sock` (no TCP port, no TLS to manage), and
 * - each host's advertised address: the host container's address on the harness's own bridge
 *   network, routable from this machine, so a port a swarm task publishes in host mode answers at
 *   `<host address>:<port>` exactly as on a physical host.
 *
 * The hosts run "almost privileged" (every capability but SYS_RESOURCE, no seccomp or AppArmor
 * profile, every device allowed): `--privileged` needs capabilities not every test machine's
 * bounding set has. Their inner engines keep their images and volumes in an anonymous volume that
 * stop() removes with them.
 *
 * Ownership: the network and the host containers carry bmcfleet.test=1 and this run's label; stop()
 * removes exactly those (also after a failed start), whatever state the swarm is in.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync, sleep } from '../../node-image/test/support/ipmitool-runner';
import type { RunResult } from '../../node-image/test/support/tools';

export const SWARM_HOST_IMAGE = 'bmcfleet/test-swarm-host:latest';
const SWARM_HOST_CONTEXT = join(__dirname, 'swarm-host');
const TEST_LABEL = 'bmcfleet.test=1';
const RUN_LABEL_KEY = 'bmcfleet.test.run';
const DOCKER_TIMEOUT_MS = 60_000;
/** A cold build installs Debian's docker.io (about a minute); a cached one takes a second. */
const BUILD_TIMEOUT_MS = 600_000;
const LOAD_TIMEOUT_MS = 300_000;
const ENGINE_READY_ATTEMPTS = 120;
const ENGINE_POLL_MS = 500;

export interface SwarmHost {
  /** Container name and host name, e.g. "sw1a2b3c-h1". */
  readonly name: string;
  /** The address other hosts and this machine reach it at (the swarm's advertise address). */
  readonly address: string;
  /** Its engine's socket as seen from this machine. */
  readonly socketPath: string;
  /** Its swarm node id. */
  readonly nodeId: string;
}

export interface SwarmHarnessOptions {
  /** How many hosts (default 3); the first is the manager, all of them run tasks. */
  readonly hosts?: number;
  /** Images of this machine's engine to load into every host. */
  readonly images?: readonly string[];
  /** Build context of the host image (default: test/support/swarm-host next to this file). */
  readonly hostImageContext?: string;
}

/** `docker ARGS` on this machine's engine, failing with Docker's text. */
async function dockerOk(args: string[], timeoutMs = DOCKER_TIMEOUT_MS): Promise<string> {
  const r = await runAsync('docker', args, { timeoutMs });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}${r.stdout.trim()}`);
  return r.stdout;
}

export class SwarmHarness {
  readonly runId = `sw${randomBytes(3).toString('hex')}`;
  readonly network = `${this.runId}-net`;
  private readonly hostList: SwarmHost[] = [];
  /** How long each start-up phase took (ms), for the docs' measurements. */
  readonly timings: Record<string, number> = {};

  private constructor() {}

  get hosts(): readonly SwarmHost[] {
    return this.hostList;
  }

  get manager(): SwarmHost {
    const first = this.hostList[0];
    if (first === undefined) throw new Error('the swarm has no hosts');
    return first;
  }

  /** Starts the hosts, forms the swarm and loads the images; on any failure removes what it made and throws. */
  static async start(options: SwarmHarnessOptions = {}): Promise<SwarmHarness> {
    const harness = new SwarmHarness();
    try {
      await harness.bringUp(options.hosts ?? 3, options.images ?? [], options.hostImageContext ?? SWARM_HOST_CONTEXT);
      return harness;
    } catch (err) {
      await harness.stop();
      throw err;
    }
  }

  /** `docker ARGS` against one host's engine (the manager's for swarm-wide commands). */
  docker(host: SwarmHost, args: string[], timeoutMs = DOCKER_TIMEOUT_MS): Promise<RunResult> {
    return runAsync('docker', ['-H', `unix://${host.socketPath}`, ...args], { timeoutMs });
  }

  async dockerOk(host: SwarmHost, args: string[], timeoutMs = DOCKER_TIMEOUT_MS): Promise<string> {
    const r = await this.docker(host, args, timeoutMs);
    if (r.status !== 0) throw new Error(`docker (${host.name}) ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}${r.stdout.trim()}`);
    return r.stdout;
  }

  hostByNodeId(nodeId: string): SwarmHost | undefined {
    return this.hostList.find((h) => h.nodeId === nodeId);
  }

  /** The host dies: its container stops (engine, tasks and all); the manager later marks it down. */
  async killHost(host: SwarmHost): Promise<void> {
    if (host === this.manager) throw new Error('killing the manager would end the swarm');
    await dockerOk(['kill', host.name]);
  }

  /** Waits until the manager reports the host's swarm node in `state` (e.g. "down"); bounded. */
  async waitForNodeState(host: SwarmHost, state: string, attempts = 120): Promise<void> {
    for (let i = 0; i < attempts; i += 1) {
      const r = await this.docker(this.manager, ['node', 'inspect', '--format', '{{.Status.State}}', host.nodeId]);
      if (r.status === 0 && r.stdout.trim() === state) return;
      await sleep(1_000);
    }
    throw new Error(`swarm node ${host.name} never became ${state}`);
  }

  /**
   * Removes the hosts (with their inner engines' data) and the network; never throws. Each host is
   * removed on its own and tried again once (a busy engine may refuse a removal in progress); what
   * still holds the run's label afterwards is reported on stderr.
   */
  async stop(): Promise<void> {
    const listRun = async (): Promise<string[]> => {
      const ids = await runAsync('docker', ['ps', '-aq', '--filter', `label=${RUN_LABEL_KEY}=${this.runId}`], { timeoutMs: DOCKER_TIMEOUT_MS });
      return ids.stdout.split('\n').filter((s) => s.length > 0);
    };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const containers = await listRun();
      if (containers.length === 0) break;
      await Promise.all(containers.map((id) => runAsync('docker', ['rm', '-f', '-v', id], { timeoutMs: 120_000 })));
    }
    const left = await listRun();
    if (left.length > 0) process.stderr.write(`swarm harness ${this.runId}: containers left behind: ${left.join(' ')}\n`);
    await runAsync('docker', ['network', 'rm', this.network], { timeoutMs: DOCKER_TIMEOUT_MS });
  }

  private async bringUp(count: number, images: readonly string[], hostImageContext: string): Promise<void> {
    const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      const result = await work();
      this.timings[name] = Date.now() - started;
      return result;
    };
    await phase('build host image', () => dockerOk(['build', '-q', '-t', SWARM_HOST_IMAGE, hostImageContext], BUILD_TIMEOUT_MS));
    await dockerOk(['network', 'create', '--label', TEST_LABEL, '--label', `${RUN_LABEL_KEY}=${this.runId}`, this.network]);
    const started = await phase('start hosts', () => Promise.all(Array.from({ length: count }, (_, i) => this.startHost(`${this.runId}-h${i + 1}`))));
    // Saved once to a file, then loaded by every host at the same time.
    await phase('load images', () => this.loadImages(started.map((s) => s.name), images));
    await phase('form swarm', () => this.formSwarm(started));
  }

  private async startHost(name: string): Promise<{ name: string; address: string; socketPath: string }> {
    await dockerOk([
      'run', '-d', '--name', name, '--hostname', name, '--network', this.network,
      '--label', TEST_LABEL, '--label', `${RUN_LABEL_KEY}=${this.runId}`,
      '-v', '/var/lib/docker',
      '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
      '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined',
      '--device-cgroup-rule', 'a *:* rwm',
      SWARM_HOST_IMAGE,
    ]);
    const [pid, address] = (await dockerOk(['inspect', '--format', `{{.State.Pid}} {{(index .NetworkSettings.Networks "${this.network}").IPAddress}}`, name])).trim().split(' ');
    if (!pid || !address) throw new Error(`cannot inspect swarm host ${name}`);
    const socketPath = `/proc/${pid}/root/run/docker.sock`;
    for (let i = 0; i < ENGINE_READY_ATTEMPTS; i += 1) {
      const r = await runAsync('docker', ['-H', `unix://${socketPath}`, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
      if (r.status === 0) return { name, address, socketPath };
      await sleep(ENGINE_POLL_MS);
    }
    const logs = await runAsync('docker', ['logs', '--tail', '20', name]);
    throw new Error(`the engine in swarm host ${name} never answered:\n${logs.stderr}${logs.stdout}`);
  }

  private async loadImages(hosts: string[], images: readonly string[]): Promise<void> {
    if (images.length === 0) return;
    const dir = mkdtempSync(join(tmpdir(), `${this.runId}-images-`));
    try {
      const archive = join(dir, 'images.tar');
      await dockerOk(['save', '-o', archive, ...images], LOAD_TIMEOUT_MS);
      await Promise.all(hosts.map((host) => dockerOk(['cp', archive, `${host}:/images.tar`], LOAD_TIMEOUT_MS)));
      await Promise.all(hosts.map(async (host) => {
        await dockerOk(['exec', host, 'docker', 'load', '-q', '-i', '/images.tar'], LOAD_TIMEOUT_MS);
        await dockerOk(['exec', host, 'rm', '-f', '/images.tar']);
      }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async formSwarm(hosts: { name: string; address: string; socketPath: string }[]): Promise<void> {
    const run = (socketPath: string, args: string[]): Promise<string> => dockerOk(['-H', `unix://${socketPath}`, ...args]);
    const [first, ...rest] = hosts;
    if (first === undefined) throw new Error('a swarm needs at least one host');
    await run(first.socketPath, ['swarm', 'init', '--advertise-addr', first.address, '--listen-addr', `${first.address}:2377`]);
    const token = (await run(first.socketPath, ['swarm', 'join-token', '-q', 'worker'])).trim();
    await Promise.all(rest.map((h) => run(h.socketPath, ['swarm', 'join', '--advertise-addr', h.address, '--token', token, `${first.address}:2377`])));
    for (const h of hosts) {
      const nodeId = (await run(h.socketPath, ['info', '--format', '{{.Swarm.NodeID}}'])).trim();
      if (nodeId === '') throw new Error(`swarm host ${h.name} has no swarm node id after joining`);
      this.hostList.push({ ...h, nodeId });
    }
    // Every host ready in the manager's view before the test schedules anything.
    for (let i = 0; i < ENGINE_READY_ATTEMPTS; i += 1) {
      const states = (await run(first.socketPath, ['node', 'ls', '--format', '{{.Status}}'])).split('\n').filter((s) => s.length > 0);
      if (states.length === hosts.length && states.every((s) => s === 'Ready')) return;
      await sleep(ENGINE_POLL_MS);
    }
    throw new Error('the swarm hosts never all became Ready');
  }
}

/**
 * The Swarm part of `npm run bench`: on a three-host Docker-in-Docker swarm (test/support/swarm-harness.ts),
 * 12 QEMU nodes created through SwarmNodeRuntime.ensure against the same 12 services created with
 * `docker service create` by hand, rounds of each side interleaved (swarm-bench-report.ts says how the
 * rounds are timed and renders them).
 *
 * It reaches outside node-image (the runtime in src/, the harness in test/support), so `npm run
 * build:bench` bundles it with esbuild into dist-bench/bench/swarm-bench.js instead of compiling it with
 * the rest of the bench; run-bench.ts loads that file. Everything it makes lives inside the harness's
 * hosts, removed at the end (also after a failure); every wait is bounded.
 */
import Dockerode from 'dockerode';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { NodeSpec } from '../../src/runtime/node-runtime';
import { NODE_HEALTH_CHECK, nodeLabels, volumeNameOf } from '../../src/runtime/swarm/service-spec';
import { SwarmNodeRuntime } from '../../src/runtime/swarm/swarm-node-runtime';
import { SwarmHarness, type SwarmHost } from '../../test/support/swarm-harness';
import { runAsync } from '../test/support/ipmitool-runner';
import { waitForBmc } from './processes';
import { SWARM_NODES, type SwarmBenchOptions, type SwarmBenchResult, type SwarmRound, type SwarmSide } from './swarm-bench-report';

const MIB = 1024 * 1024;
/** What the orchestrator's node spec keeps (src/nodes: NODE_CAPABILITIES). */
const NODE_CAPABILITIES = ['NET_ADMIN', 'NET_BIND_SERVICE'];
const IPMI_BASE_PORT = 16_100;
const REDFISH_BASE_PORT = 17_100;
/** Bound of one round (12 nodes ready) and of the clean-up after it. */
const ROUND_TIMEOUT_MS = 300_000;
const CLEANUP_TIMEOUT_MS = 180_000;
/** The CLI side polls `docker service ls` as often as the runtime polls its tasks (its default pollMs). */
const CLI_POLL_MS = 500;
const NS_PER_S = 1e9;

/** Node i of a round: a QEMU node under TCG, powered off at start, as the orchestrator writes it. */
export function benchNodeSpec(fleet: string, i: number, image: string): NodeSpec {
  const name = `n${i + 1}`;
  const ipmi = IPMI_BASE_PORT + i;
  const redfish = REDFISH_BASE_PORT + i;
  return {
    nodeId: `${fleet}-id${i + 1}`, name, ref: `${fleet}-${name}`, image,
    env: {
      NODE_NAME: name, MACHINE: 'qemu', ENABLE_KVM: 'false', VM_MEMORY: '256', VM_CPUS: '1', VM_DISK_SIZE: '1G',
      POWER_ON_AT_START: 'false', IPMI_USER: 'admin', IPMI_PASS: 'password', IPMI_PORT: String(ipmi), REDFISH_PORT: String(redfish), VNC_PORT: 'none',
    },
    ports: [
      { name: 'ipmi', inside: ipmi, outside: ipmi, protocol: 'udp', address: '0.0.0.0' },
      { name: 'redfish', inside: redfish, outside: redfish, protocol: 'tcp', address: '0.0.0.0' },
    ],
    diskPath: '/vm', files: [], devices: ['tun'], capabilities: [...NODE_CAPABILITIES], noNewPrivileges: true, networks: [],
    limits: { memoryBytes: (256 + 512) * MIB, cpus: 1.5, pids: 513 }, host: null,
  };
}

/**
 * The `docker service create` arguments a user types for the service serviceSpecOf makes from `spec`
 * (src/runtime/swarm/service-spec.ts), pinned to swarm node `nodeId`; --detach: the command returns once
 * the service exists (the bench then watches `docker service ls`).
 */
export function cliCreateArgs(spec: NodeSpec, fleetId: string, nodeId: string, nodesNetwork: string): string[] {
  const labels = Object.entries(nodeLabels(fleetId, spec)).map(([k, v]) => `${k}=${v}`);
  const caps = [...new Set([...spec.capabilities, ...(spec.devices.includes('tun') ? ['MKNOD'] : [])])];
  const s = (ns: number): string => `${ns / NS_PER_S}s`;
  return [
    'service', 'create', '--detach', '--quiet', '--name', spec.ref,
    ...labels.flatMap((l) => ['--label', l, '--container-label', l]),
    '--hostname', spec.name,
    ...Object.entries(spec.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    '--mount', [`type=volume,source=${volumeNameOf(spec.ref)},target=${spec.diskPath}`, ...labels.map((l) => `volume-label=${l}`)].join(','),
    '--cap-drop', 'ALL', ...caps.flatMap((c) => ['--cap-add', c]),
    '--stop-grace-period', '30s',
    '--health-cmd', 'node /opt/bmcfleet/agent/healthcheck.js',
    '--health-interval', s(NODE_HEALTH_CHECK.Interval), '--health-timeout', s(NODE_HEALTH_CHECK.Timeout),
    '--health-retries', String(NODE_HEALTH_CHECK.Retries), '--health-start-period', s(NODE_HEALTH_CHECK.StartPeriod),
    '--limit-memory', String(spec.limits.memoryBytes), '--limit-cpu', String(spec.limits.cpus), '--limit-pids', String(spec.limits.pids),
    '--restart-condition', 'any', '--restart-delay', '2s',
    '--constraint', `node.id==${nodeId}`,
    '--network', nodesNetwork,
    '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3',
    '--replicas', '1', '--endpoint-mode', 'dnsrr',
    ...spec.ports.map((p) => ['--publish', `mode=host,target=${p.inside},published=${p.outside},protocol=${p.protocol}`]).flat(),
    spec.image,
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSwarmBench(o: SwarmBenchOptions): Promise<SwarmBenchResult> {
  const docker = await runAsync('docker', ['image', 'inspect', '--format', '{{.Id}}', o.image], { timeoutMs: 30_000 });
  if (docker.status !== 0) return { skipped: `image ${o.image} is not on this machine's engine (npm run build:image): ${docker.stderr.trim()}`, rounds: [] };
  let swarm: SwarmHarness | undefined;
  try {
    o.progress('swarm: starting a three-host Docker-in-Docker swarm and loading the node image on every host');
    swarm = await SwarmHarness.start({ images: [o.image], hostImageContext: join(o.repoRoot, 'test', 'support', 'swarm-host') });
    const bench = new SwarmRounds(swarm, o);
    return await bench.run();
  } catch (err) {
    return { skipped: `the Swarm part failed: ${err instanceof Error ? err.message : String(err)}`, rounds: [] };
  } finally {
    await swarm?.stop();
  }
}

class SwarmRounds {
  private readonly fleetId = `bench-${randomBytes(3).toString('hex')}`;
  private readonly nodesNetwork = `${this.fleetId}-nodes`;
  private readonly hosts: SwarmHost[];
  private readonly runtime: SwarmNodeRuntime;
  private round = 0;

  constructor(private readonly swarm: SwarmHarness, private readonly o: SwarmBenchOptions) {
    this.hosts = [...swarm.hosts].sort((a, b) => a.name.localeCompare(b.name));
    this.runtime = new SwarmNodeRuntime({ docker: new Dockerode({ socketPath: swarm.manager.socketPath }), fleetId: this.fleetId, jobImage: o.image, nodesNetwork: this.nodesNetwork });
  }

  async run(): Promise<SwarmBenchResult> {
    await this.runtime.prepare();
    const engine = (await this.swarm.dockerOk(this.swarm.manager, ['version', '--format', '{{.Server.Version}}'])).trim();
    this.o.progress('swarm: warm-up round (3 nodes by hand: the fleet overlay on every host)');
    await this.cliRound(3);
    const rounds: SwarmRound[] = [];
    for (let pair = 0; pair < this.o.runs; pair++) {
      const order: SwarmSide[] = pair % 2 === 0 ? ['runtime', 'cli'] : ['cli', 'runtime'];
      for (const side of order) {
        this.o.progress(`swarm: round ${rounds.length + 1} of ${this.o.runs * 2}: ${SWARM_NODES} nodes through ${side === 'runtime' ? 'the Swarm runtime' : 'docker service create'}`);
        const r = side === 'runtime' ? await this.runtimeRound() : await this.cliRound(SWARM_NODES);
        this.o.progress(`swarm: ${side}: all ready in ${Math.max(...r.readyMs, 0)} ms, ${r.failures.length} failed`);
        rounds.push(r);
      }
    }
    const example = cliCreateArgs(benchNodeSpec(`${this.fleetId}-rX`, 0, this.o.image), this.fleetId, this.hosts[0]!.nodeId, this.nodesNetwork);
    return { image: this.o.image, engine, hosts: this.hosts.length, harnessMs: { ...this.swarm.timings }, rounds, cliExample: `docker ${example.map(quoteArg).join(' ').replace(/ (?=--)/g, ' \\\n  ')}` };
  }

  private specs(count: number): NodeSpec[] {
    const fleet = `${this.fleetId}-r${++this.round}`;
    return Array.from({ length: count }, (_, i) => benchNodeSpec(fleet, i, this.o.image));
  }

  private addressOf(hostName: string): string {
    const host = this.hosts.find((h) => h.name === hostName || h.nodeId === hostName);
    if (host === undefined) throw new Error(`no swarm host ${hostName}`);
    return host.address;
  }

  /** Each node through the runtime's ensure (all at once), then its BMC. */
  private async runtimeRound(): Promise<SwarmRound> {
    const specs = this.specs(SWARM_NODES);
    const t0 = Date.now();
    const deadline = t0 + ROUND_TIMEOUT_MS;
    const createdMs: number[] = [];
    const readyMs: number[] = [];
    const failures: string[] = [];
    await Promise.all(specs.map(async (spec) => {
      try {
        const ensured = await this.runtime.ensure(spec);
        createdMs.push(Date.now() - t0);
        if (await waitForBmc(spec.ports[0]!.outside, Math.max(0, deadline - Date.now()), this.addressOf(ensured.host))) readyMs.push(Date.now() - t0);
        else failures.push(`${spec.ref}: its BMC did not answer in time`);
      } catch (err) {
        failures.push(`${spec.ref}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }));
    await this.cleanUp(specs);
    return { side: 'runtime', readyMs, createdMs, failures };
  }

  /** `docker service create --detach` for each node (all at once), `docker service ls` until 1/1, then its BMC. */
  private async cliRound(count: number): Promise<SwarmRound> {
    const specs = this.specs(count);
    const t0 = Date.now();
    const deadline = t0 + ROUND_TIMEOUT_MS;
    const createdMs: number[] = [];
    const readyMs: number[] = [];
    const failures: string[] = [];
    const created = await Promise.all(specs.map(async (spec, i) => {
      const host = this.hosts[i % this.hosts.length]!;
      const r = await this.swarm.docker(this.swarm.manager, cliCreateArgs(spec, this.fleetId, host.nodeId, this.nodesNetwork));
      if (r.status !== 0) {
        failures.push(`${spec.ref}: docker service create failed: ${r.stderr.trim()}`);
        return null;
      }
      createdMs.push(Date.now() - t0);
      return { spec, host };
    }));
    const waiting = new Map(created.filter((c) => c !== null).map((c) => [c.spec.ref, c]));
    const probes: Promise<void>[] = [];
    while (waiting.size > 0 && Date.now() < deadline) {
      const ls = await this.swarm.docker(this.swarm.manager, ['service', 'ls', '--filter', `label=io.bmcfleet.fleet=${this.fleetId}`, '--format', '{{.Name}} {{.Replicas}}']);
      for (const row of ls.stdout.split('\n')) {
        const [name, replicas] = row.trim().split(/\s+/);
        const c = name === undefined ? undefined : waiting.get(name);
        if (c === undefined || replicas !== '1/1') continue;
        waiting.delete(name!);
        probes.push(waitForBmc(c.spec.ports[0]!.outside, Math.max(0, deadline - Date.now()), c.host.address).then((ok) => {
          if (ok) readyMs.push(Date.now() - t0);
          else failures.push(`${c.spec.ref}: its BMC did not answer in time`);
        }));
      }
      if (waiting.size > 0) await sleep(CLI_POLL_MS);
    }
    for (const ref of waiting.keys()) failures.push(`${ref}: its task did not run within ${ROUND_TIMEOUT_MS} ms`);
    await Promise.all(probes);
    await this.cleanUp(specs);
    return { side: 'cli', readyMs, createdMs, failures };
  }

  /** Removes the round's services, waits (bounded) until their containers are gone on every host, removes their volumes. */
  private async cleanUp(specs: readonly NodeSpec[]): Promise<void> {
    await this.swarm.docker(this.swarm.manager, ['service', 'rm', ...specs.map((s) => s.ref)]);
    const deadline = Date.now() + CLEANUP_TIMEOUT_MS;
    for (const host of this.hosts) {
      for (;;) {
        const ps = await this.swarm.docker(host, ['ps', '-aq', '--filter', `label=io.bmcfleet.fleet=${this.fleetId}`, '--filter', 'label=io.bmcfleet.role=node']);
        if (ps.stdout.trim() === '' || Date.now() > deadline) break;
        await sleep(1_000);
      }
      const volumes = (await this.swarm.docker(host, ['volume', 'ls', '-q', '--filter', `label=io.bmcfleet.fleet=${this.fleetId}`])).stdout.split('\n').filter((v) => v.length > 0);
      if (volumes.length > 0) await this.swarm.docker(host, ['volume', 'rm', ...volumes]);
    }
  }
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * NodeRuntime on a Docker Swarm (RUNTIME=swarm), through a manager's Engine API (dockerode's service
 * API): a node is a service named after its ref with one replica pinned to one swarm node (its /vm
 * volume `<ref>-vm` lives there), ports published in host mode on that host's address. Placement
 * spreads the fleet's nodes over the schedulable hosts unless the spec names one. A host that goes
 * down leaves its nodes "unreachable": they stay pinned there (never re-created empty elsewhere).
 * docs/swarm.md tells how to run a fleet this way.
 */
import Dockerode from 'dockerode';
import { randomBytes } from 'node:crypto';
import { LABELS } from '../../docker/docker-adapter';
import {
  DiskPolicy, EnsuredNode, ExecResult, NodeRef, NodeRuntime, NodeSpec, ObservedNode, OwnedNode, RuntimeHost,
} from '../node-runtime';
import {
  ImageMissingError, NameTakenError, NetworkRefusedError, NodeNotFoundError, PortInUseError, RuntimeError, RuntimeUnavailableError,
} from '../runtime-errors';
import { jobOutcomeOf, volumeRemovalJob } from './host-jobs';
import { chooseHost, pinnedNodeId, refuseUnrunnable, serviceSpecOf, SwarmHostInfo, swarmHostOf, volumeNameOf } from './service-spec';
import { exitOf, isImageMissing, isPortInUse, nodeStateOf, taskProblem, type TaskJson } from './task-state';

export interface SwarmRuntimeOptions {
  /** A manager's engine. */
  readonly docker: Dockerode;
  readonly fleetId: string;
  /** Image of the jobs that work on a host (the node image: it has Node.js). */
  readonly jobImage: string;
  /**
   * The fleet's overlay network, every node's first (eth0): made by prepare() when missing, so the
   * spec's networks are eth1, eth2, … inside as on a plain engine.
   */
  readonly nodesNetwork: string;
  /** Bound of waiting for a new node's task to run, and for a job to end (ms). */
  readonly startTimeoutMs?: number;
  readonly pollMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_POLL_MS = 500;

interface ServiceJson {
  ID: string;
  Version?: { Index?: number };
  Spec?: Dockerode.ServiceSpec & { Labels?: Record<string, string> };
}

export class SwarmNodeRuntime extends NodeRuntime {
  readonly kind = 'swarm';
  private readonly docker: Dockerode;
  private readonly startTimeoutMs: number;
  private readonly pollMs: number;
  /** Nodes being placed right now, per swarm node id: concurrent creates spread too. */
  private readonly placing = new Map<string, number>();
  private prepared: Promise<void> | undefined;

  constructor(private readonly options: SwarmRuntimeOptions) {
    super();
    this.docker = options.docker;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Checks the engine is a manager and makes the fleet's network; one preparation at a time, once. */
  prepare(): Promise<void> {
    this.prepared ??= this.prepareOnce().catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  private async prepareOnce(): Promise<void> {
    const info = (await this.engine(() => this.docker.info(), 'engine info')) as { Swarm?: { ControlAvailable?: boolean; LocalNodeState?: string } };
    if (info.Swarm?.ControlAvailable !== true) {
      throw new RuntimeUnavailableError(`RUNTIME=swarm needs a swarm manager's engine; this one is ${info.Swarm?.LocalNodeState ?? 'not in a swarm'} (docker swarm init, or point DOCKER_HOST at a manager)`);
    }
    const name = this.options.nodesNetwork;
    const exists = async (): Promise<boolean> => (await this.engineOrNull(() => this.docker.getNetwork(name).inspect(), `network ${name}`)) !== null;
    if (await exists()) return;
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { [LABELS.managed]: 'true', [LABELS.fleet]: this.options.fleetId } });
    } catch (err) {
      // Made meanwhile by another orchestrator process: swarm says "name conflicts" (not always a 409).
      if (!(await exists())) throw this.wrap(err, `network ${name}`);
    }
  }

  async hosts(): Promise<RuntimeHost[]> {
    return (await this.swarmHosts()).map((h) => ({
      name: h.name, id: h.nodeId, address: h.address === '' ? null : h.address, accepting: h.schedulable, memoryBytes: h.memoryBytes, cpus: h.cpus, kvm: false,
    }));
  }

  /** Every swarm node with its address (for the node view and the tests). */
  async swarmHosts(): Promise<SwarmHostInfo[]> {
    return (await this.engine(() => this.docker.listNodes(), 'swarm nodes')).map(swarmHostOf);
  }

  async checkNetwork(name: string): Promise<void> {
    const info = (await this.engineOrNull(() => this.docker.getNetwork(name).inspect(), `network ${name}`)) as { Scope?: string; Driver?: string } | null;
    if (info === null) throw new NetworkRefusedError(name, `network ${name} does not exist; create it on the manager first (docker network create -d overlay --attachable ${name})`);
    if (info.Scope !== 'swarm') throw new NetworkRefusedError(name, `network ${name} is a ${info.Driver ?? 'local'} network of one engine; swarm nodes need a swarm-scoped one (docker network create -d overlay --attachable ${name})`);
  }

  async ensure(spec: NodeSpec): Promise<EnsuredNode> {
    refuseUnrunnable(spec);
    await this.prepare();
    const hosts = await this.swarmHosts();
    const existing = await this.service(spec.ref);
    if (existing !== null) {
      this.checkOwner(existing, spec.nodeId, spec.ref);
      if ((existing.Spec?.Mode?.Replicated?.Replicas ?? 1) === 0) await this.scale(existing, 1);
      return { runtimeId: existing.ID, host: this.hostNameOf(existing, hosts) };
    }
    const counts = await this.nodesPerHost();
    for (const [id, n] of this.placing) counts.set(id, (counts.get(id) ?? 0) + n);
    const host = chooseHost(hosts, counts, spec.host);
    this.placing.set(host.nodeId, (this.placing.get(host.nodeId) ?? 0) + 1);
    try {
      let id: string;
      try {
        id = (await this.docker.createService(serviceSpecOf(spec, this.options.fleetId, host.nodeId, this.options.nodesNetwork))).id as string;
      } catch (err) {
        if (statusOf(err) !== 409) throw this.wrap(err, `service ${spec.ref}`);
        // Created meanwhile by a concurrent ensure: fine when it is this node's.
        const raced = await this.service(spec.ref);
        if (raced === null) throw this.wrap(err, `service ${spec.ref}`);
        this.checkOwner(raced, spec.nodeId, spec.ref);
        return { runtimeId: raced.ID, host: this.hostNameOf(raced, hosts) };
      }
      await this.waitUntilRunning(spec.ref, spec.image);
      return { runtimeId: id, host: host.name };
    } finally {
      this.placing.set(host.nodeId, (this.placing.get(host.nodeId) ?? 1) - 1);
    }
  }

  async stop(node: NodeRef): Promise<void> {
    const service = await this.ownService(node);
    if (service !== null) await this.scale(service, 0);
  }

  async remove(node: NodeRef, disk: DiskPolicy): Promise<void> {
    const service = await this.ownService(node);
    const hosts = await this.swarmHosts();
    let swarmNodeId = service === null ? null : pinnedNodeId(service.Spec?.TaskTemplate?.Placement?.Constraints);
    if (service !== null) await this.engineOrNull(() => this.docker.getService(service.ID).remove(), `service ${node.ref}`);
    if (disk === 'keep') return;
    swarmNodeId ??= hosts.find((h) => h.name === node.host || h.nodeId === node.host)?.nodeId ?? null;
    if (swarmNodeId === null) return; // never placed: it has no volume anywhere
    await this.removeVolumeOnHost(node, disk, swarmNodeId);
  }

  async removeInstance(instance: OwnedNode): Promise<void> {
    await this.engineOrNull(() => this.docker.getService(instance.runtimeId).remove(), `service ${instance.ref}`);
  }

  async observe(ref: string): Promise<ObservedNode | null> {
    const service = await this.service(ref);
    if (service === null) return null;
    const [hosts, tasks, networks] = await Promise.all([this.swarmHosts(), this.tasksOf([service.ID]), this.networkNames()]);
    const owned = this.ownedOf(service, hosts, tasks);
    const host = hosts.find((h) => h.nodeId === pinnedNodeId(service.Spec?.TaskTemplate?.Placement?.Constraints));
    const container = service.Spec?.TaskTemplate && 'ContainerSpec' in service.Spec.TaskTemplate ? service.Spec.TaskTemplate.ContainerSpec : undefined;
    const published: Record<string, number> = {};
    for (const p of service.Spec?.EndpointSpec?.Ports ?? []) {
      if (p.TargetPort !== undefined && p.PublishedPort !== undefined) published[`${p.TargetPort}/${p.Protocol ?? 'tcp'}`] = p.PublishedPort;
    }
    const env: Record<string, string> = {};
    for (const e of container?.Env ?? []) {
      const at = e.indexOf('=');
      if (at > 0) env[e.slice(0, at)] = e.slice(at + 1);
    }
    return {
      ...owned,
      image: (container?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
      env,
      published,
      // The first is the fleet's own network (the node's default one), left out as Docker's bridge is.
      networks: (service.Spec?.TaskTemplate?.Networks ?? []).slice(1).map((n) => networks.get(n.Target ?? '') ?? n.Target ?? ''),
      // Reached at its host's address (hostAddress); the fleet's overlay is not routed to the orchestrator.
      address: null,
      addresses: {},
      hostAddress: host?.address ?? '',
      exit: exitOf(tasks),
    };
  }

  async list(): Promise<OwnedNode[]> {
    const services = (await this.engine(() => this.docker.listServices({ filters: { label: [`${LABELS.fleet}=${this.options.fleetId}`, `${LABELS.role}=node`] } }), 'services')) as ServiceJson[];
    if (services.length === 0) return [];
    const [hosts, tasks] = await Promise.all([this.swarmHosts(), this.tasksOf(services.map((s) => s.ID))]);
    return services.map((s) => this.ownedOf(s, hosts, tasks.filter((t) => t.ServiceID === s.ID)));
  }

  async readFile(): Promise<Buffer | null> {
    // A node's files are on its host, out of the manager's reach; nothing reads them on a swarm yet.
    return null;
  }

  /**
   * Refused: a swarm node's container runs on its host's engine, which the manager's API does not
   * reach (no exec through a service); the message names the host to run it on by hand.
   */
  async exec(ref: string): Promise<ExecResult> {
    const node = await this.observe(ref);
    if (node === null) throw new NodeNotFoundError(ref, `service ${ref} does not exist`);
    throw new RuntimeUnavailableError(`running a program inside ${ref} is not available on a swarm: its container is on host ${node.host || 'unknown'}, out of the manager's reach (run docker exec on that host)`);
  }

  private ownedOf(service: ServiceJson, hosts: readonly SwarmHostInfo[], tasks: readonly TaskJson[]): OwnedNode {
    const labels = service.Spec?.Labels ?? {};
    const host = hosts.find((h) => h.nodeId === pinnedNodeId(service.Spec?.TaskTemplate?.Placement?.Constraints));
    return {
      runtimeId: service.ID,
      ref: service.Spec?.Name ?? '',
      nodeId: labels[LABELS.nodeId] ?? null,
      nodeName: labels[LABELS.node] ?? null,
      state: nodeStateOf(service.Spec?.Mode?.Replicated?.Replicas ?? 1, tasks, host === undefined || host.down),
      host: host?.name ?? '',
    };
  }

  /** Waits (bounded) for the new service's task to run; a port or image problem removes it and throws. */
  private async waitUntilRunning(ref: string, image: string): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let problem = '';
    for (;;) {
      const service = await this.service(ref);
      if (service === null) throw new NodeNotFoundError(ref, `service ${ref} was removed while it started`);
      const tasks = await this.tasksOf([service.ID]);
      if (nodeStateOf(1, tasks, false) === 'running') return;
      problem = taskProblem(tasks) || problem;
      if (isPortInUse(problem) || isImageMissing(problem) || Date.now() > deadline) {
        await this.engineOrNull(() => this.docker.getService(service.ID).remove(), `service ${ref}`);
        if (isPortInUse(problem)) throw new PortInUseError(null, `service ${ref}: a published port is in use on its host (${problem})`);
        if (isImageMissing(problem)) throw new ImageMissingError(image, `service ${ref}: image ${image} is not on its host (${problem}); load it on every swarm host`);
        throw new RuntimeUnavailableError(`service ${ref} did not start within ${this.startTimeoutMs} ms${problem ? ` (${problem})` : ''}`);
      }
      await sleep(this.pollMs);
    }
  }

  private async removeVolumeOnHost(node: NodeRef, policy: 'purge' | 'discard', swarmNodeId: string): Promise<void> {
    const jobName = `${node.ref}-rmvol-${randomBytes(3).toString('hex')}`;
    const job = await this.engine(() => this.docker.createService(volumeRemovalJob({
      jobName, image: this.options.jobImage, fleetId: this.options.fleetId, nodeId: node.id, volume: volumeNameOf(node.ref), policy, swarmNodeId,
    })), `volume job ${jobName}`);
    const jobId = job.id as string;
    try {
      const deadline = Date.now() + this.startTimeoutMs;
      for (;;) {
        const outcome = jobOutcomeOf(await this.tasksOf([jobId]));
        if (outcome === 'complete') return;
        if (outcome === 'failed' || Date.now() > deadline) {
          const tasks = await this.tasksOf([jobId]);
          throw new RuntimeUnavailableError(`volume ${volumeNameOf(node.ref)} of node ${node.name} was not removed on its host: ${taskProblem(tasks) || 'the job did not end in time'}`);
        }
        await sleep(this.pollMs);
      }
    } finally {
      await this.engineOrNull(() => this.docker.getService(jobId).remove(), `volume job ${jobName}`);
    }
  }

  private async scale(service: ServiceJson, replicas: number): Promise<void> {
    const spec = { ...service.Spec, Mode: { Replicated: { Replicas: replicas } } };
    await this.engine(() => this.docker.getService(service.ID).update({ ...spec, version: service.Version?.Index ?? 0 }), `service ${service.Spec?.Name ?? service.ID}`);
  }

  private checkOwner(service: ServiceJson, nodeId: string, ref: string): void {
    const labels = service.Spec?.Labels ?? {};
    if (labels[LABELS.fleet] !== this.options.fleetId || labels[LABELS.nodeId] !== nodeId) {
      throw new NameTakenError(ref, `service ${ref} exists and is not this node's (fleet ${labels[LABELS.fleet] ?? 'none'}, node id ${labels[LABELS.nodeId] ?? 'none'}); it is left alone`);
    }
  }

  /** The node's own service, or null (gone, or a name now held by something else: left alone). */
  private async ownService(node: NodeRef): Promise<ServiceJson | null> {
    const service = await this.service(node.ref);
    if (service === null) return null;
    const labels = service.Spec?.Labels ?? {};
    return labels[LABELS.fleet] === this.options.fleetId && labels[LABELS.nodeId] === node.id ? service : null;
  }

  private async service(ref: string): Promise<ServiceJson | null> {
    return (await this.engineOrNull(() => this.docker.getService(ref).inspect(), `service ${ref}`)) as ServiceJson | null;
  }

  private async tasksOf(serviceIds: readonly string[]): Promise<TaskJson[]> {
    return (await this.engine(() => this.docker.listTasks({ filters: { service: [...serviceIds] } }), 'tasks')) as TaskJson[];
  }

  private async nodesPerHost(): Promise<Map<string, number>> {
    const services = (await this.engine(() => this.docker.listServices({ filters: { label: [`${LABELS.fleet}=${this.options.fleetId}`, `${LABELS.role}=node`] } }), 'services')) as ServiceJson[];
    const counts = new Map<string, number>();
    for (const s of services) {
      const id = pinnedNodeId(s.Spec?.TaskTemplate?.Placement?.Constraints);
      if (id !== null) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  private async networkNames(): Promise<Map<string, string>> {
    const list = (await this.engine(() => this.docker.listNetworks(), 'networks')) as { Id: string; Name: string }[];
    return new Map(list.map((n) => [n.Id, n.Name]));
  }

  private hostNameOf(service: ServiceJson, hosts: readonly SwarmHostInfo[]): string {
    const id = pinnedNodeId(service.Spec?.TaskTemplate?.Placement?.Constraints);
    return hosts.find((h) => h.nodeId === id)?.name ?? id ?? '';
  }

  private async engine<T>(work: () => Promise<T>, what: string): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.wrap(err, what);
    }
  }

  /** The same, with null for "no such object". */
  private async engineOrNull<T>(work: () => Promise<T>, what: string): Promise<T | null> {
    try {
      return await work();
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw this.wrap(err, what);
    }
  }

  private wrap(err: unknown, what: string): RuntimeError {
    if (err instanceof RuntimeError) return err;
    const text = engineText(err);
    if (statusOf(err) === 404) return new NodeNotFoundError(what, `${what}: ${text}`);
    return new RuntimeUnavailableError(`swarm ${what}: ${text}`);
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? (err as { statusCode?: number }).statusCode : undefined;
}

function engineText(err: unknown): string {
  const json = typeof err === 'object' && err !== null && 'json' in err ? (err as { json?: { message?: string } }).json : undefined;
  return json?.message ?? (err instanceof Error ? err.message : String(err));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

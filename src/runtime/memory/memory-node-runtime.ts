/**
 * NodeRuntime kept in memory: runtime nodes, disks, hosts and published ports as plain data, with
 * the same contracts as an engine adapter (idempotent ensure, ownership by node id, a held port is a
 * PortInUseError and leaves the node made but stopped, as Docker's failed start does). For fast
 * tests of the nodes service and the reconciler, and as the reference an adapter is read against.
 * The controls below the interface methods play what happens outside the fleet: a port taken by
 * another program, a stranger's node of the same name, a node stopped or paused by hand, a host gone.
 */
import {
  DiskPolicy, EnsuredNode, ExecOptions, ExecResult, NodeRef, NodeRuntime, NodeSpec, ObservedNode, OwnedNode, RuntimeHost, RuntimeNodeState,
} from '../node-runtime';
import { NameTakenError, NetworkRefusedError, NodeNotFoundError, NodeSpecRefusedError, PortInUseError, RuntimeUnavailableError } from '../runtime-errors';

interface Instance {
  runtimeId: string;
  readonly ref: string;
  /** null: a stranger's (not marked as the fleet's). */
  readonly nodeId: string | null;
  readonly nodeName: string | null;
  state: RuntimeNodeState;
  readonly host: string;
  readonly spec: NodeSpec | null;
  readonly address: string;
  readonly files: Map<string, Buffer>;
}

/** A disk, marked with the node id that made it (null: a stranger's). */
export interface MemoryDisk {
  readonly ref: string;
  readonly nodeId: string | null;
  readonly host: string;
}

/** A host as a test describes it: what hosts() reports of it is derived (id = name, accepting while up). */
export type MemoryHostSpec = Pick<RuntimeHost, 'name' | 'memoryBytes' | 'cpus' | 'kvm'> & { readonly address?: string | null };

export const MEMORY_HOST: MemoryHostSpec = { name: 'memory-host', memoryBytes: 64 * 1024 ** 3, cpus: 16, kvm: false };

export class MemoryNodeRuntime extends NodeRuntime {
  readonly kind = 'memory';
  private readonly instances = new Map<string, Instance>();
  private readonly disks = new Map<string, MemoryDisk>();
  /** "*|udp/16230" (every host) or "<host>|udp/16230": ports held by programs outside the fleet. */
  private readonly heldOutside = new Set<string>();
  /** Network name → why a node cannot use it (null: usable). */
  private readonly networks = new Map<string, string | null>();
  private readonly hostsDown = new Set<string>();
  private engineDown = false;
  private serial = 0;
  /** Every ensure call's spec, in order (what the callers asked for). */
  readonly ensured: NodeSpec[] = [];

  constructor(private readonly hostList: readonly MemoryHostSpec[] = [MEMORY_HOST]) {
    super();
  }

  async prepare(): Promise<void> {
    this.answer();
  }

  async hosts(): Promise<RuntimeHost[]> {
    this.answer();
    return this.hostList.map((host) => ({
      name: host.name, id: host.name, address: host.address ?? null, accepting: !this.hostsDown.has(host.name), memoryBytes: host.memoryBytes, cpus: host.cpus, kvm: host.kvm,
    }));
  }

  async checkNetwork(name: string): Promise<void> {
    this.answer();
    if (!this.networks.has(name)) throw new NetworkRefusedError(name, `network ${name} does not exist`);
    const refusal = this.networks.get(name);
    if (refusal !== null && refusal !== undefined) throw new NetworkRefusedError(name, refusal);
  }

  async ensure(spec: NodeSpec): Promise<EnsuredNode> {
    this.answer();
    this.ensured.push(spec);
    let instance = this.instances.get(spec.ref);
    if (instance !== undefined && instance.nodeId !== spec.nodeId) {
      throw new NameTakenError(spec.ref, `${spec.ref} exists and is not node ${spec.name}'s (node id ${instance.nodeId ?? 'none'})`);
    }
    if (instance === undefined) {
      const host = this.place(spec);
      if (spec.devices.includes('kvm') && !host.kvm) throw new NodeSpecRefusedError(`host ${host.name} has no /dev/kvm; create the node with enableKvm false or auto`);
      if (!this.disks.has(spec.ref)) this.disks.set(spec.ref, { ref: spec.ref, nodeId: spec.nodeId, host: host.name });
      this.serial += 1;
      instance = {
        runtimeId: `mem-${String(this.serial).padStart(6, '0')}`,
        ref: spec.ref,
        nodeId: spec.nodeId,
        nodeName: spec.name,
        state: 'stopped',
        host: host.name,
        spec,
        address: `10.88.${Math.floor(this.serial / 250)}.${(this.serial % 250) + 2}`,
        files: new Map(),
      };
      this.instances.set(spec.ref, instance);
    }
    if (this.hostsDown.has(instance.host)) throw new RuntimeUnavailableError(`host ${instance.host} does not answer`);
    if (instance.state === 'broken') throw new RuntimeUnavailableError(`${spec.ref} is broken; remove it first`);
    if (instance.state !== 'running' && instance.state !== 'paused') {
      const held = this.heldPort(instance);
      if (held !== null) throw new PortInUseError(held, `${spec.ref}: port ${held} is already in use on ${instance.host}`);
    }
    instance.state = 'running';
    return { runtimeId: instance.runtimeId, host: instance.host };
  }

  async stop(node: NodeRef): Promise<void> {
    this.answer();
    const instance = this.own(node);
    if (instance !== null && instance.state !== 'broken') instance.state = 'stopped';
  }

  async remove(node: NodeRef, disk: DiskPolicy): Promise<void> {
    this.answer();
    const instance = this.own(node);
    if (instance !== null) this.instances.delete(instance.ref);
    const found = this.disks.get(node.ref);
    if (found === undefined || found.nodeId === null) return;
    if (disk === 'purge' || (disk === 'discard' && found.nodeId === node.id)) this.disks.delete(node.ref);
  }

  async removeInstance(target: OwnedNode): Promise<void> {
    this.answer();
    for (const [ref, instance] of this.instances) {
      if (instance.runtimeId === target.runtimeId) this.instances.delete(ref);
    }
  }

  async observe(ref: string): Promise<ObservedNode | null> {
    this.answer();
    const instance = this.instances.get(ref);
    if (instance === undefined) return null;
    const spec = instance.spec;
    const running = this.stateOf(instance) === 'running';
    return {
      ...this.owned(instance),
      image: spec?.image ?? 'stranger:latest',
      env: { ...(spec?.env ?? {}) },
      published: Object.fromEntries((spec?.ports ?? []).map((port) => [`${port.inside}/${port.protocol}`, port.outside])),
      networks: [...(spec?.networks ?? [])],
      address: running ? instance.address : null,
      addresses: {},
      hostAddress: this.hostList.find((host) => host.name === instance.host)?.address ?? instance.host,
      exit: instance.state === 'stopped' ? { code: 0, at: null, outOfMemory: false } : null,
    };
  }

  async list(): Promise<OwnedNode[]> {
    this.answer();
    return [...this.instances.values()].filter((instance) => instance.nodeId !== null).map((instance) => this.owned(instance));
  }

  async readFile(ref: string, path: string, maxBytes: number): Promise<Buffer | null> {
    this.answer();
    const file = this.instances.get(ref)?.files.get(path);
    return file === undefined ? null : file.subarray(0, maxBytes);
  }

  async exec(ref: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    this.answer();
    const instance = this.instances.get(ref);
    if (instance === undefined) throw new NodeNotFoundError(ref, `no runtime node ${ref}`);
    if (this.stateOf(instance) !== 'running') throw new RuntimeUnavailableError(`${ref} is ${this.stateOf(instance)}, not running`);
    const result = this.execHandler?.(ref, argv) ?? { exitCode: 127, stdout: '', stderr: `${argv[0] ?? ''}: not found in the memory runtime` };
    const cap = (text: string): string => Buffer.from(text).subarray(0, options.maxOutputBytes).toString();
    return { exitCode: result.exitCode, stdout: cap(result.stdout), stderr: cap(result.stderr) };
  }

  /** What a process run by exec answers (null: no such program, exit 127). */
  execHandler: ((ref: string, argv: readonly string[]) => ExecResult) | null = null;

  // What happens outside the fleet.

  /** Another program takes a port on one host, or on every host when none is named. */
  holdPort(port: number, protocol: 'udp' | 'tcp', host?: string): void {
    this.heldOutside.add(`${host ?? '*'}|${protocol}/${port}`);
  }

  releasePort(port: number, protocol: 'udp' | 'tcp', host?: string): void {
    this.heldOutside.delete(`${host ?? '*'}|${protocol}/${port}`);
  }

  /** A network nodes may use, or one the runtime refuses with `refusal`. */
  addNetwork(name: string, refusal: string | null = null): void {
    this.networks.set(name, refusal);
  }

  /** A runtime node of that name that is not the fleet's (nodeId null) or an earlier node's. */
  placeForeign(ref: string, nodeId: string | null, nodeName: string | null = null, state: RuntimeNodeState = 'running'): OwnedNode {
    this.serial += 1;
    const instance: Instance = {
      runtimeId: `mem-${String(this.serial).padStart(6, '0')}`, ref, nodeId, nodeName, state,
      host: this.hostList[0]?.name ?? MEMORY_HOST.name, spec: null, address: '10.99.0.1', files: new Map(),
    };
    this.instances.set(ref, instance);
    return this.owned(instance);
  }

  /** A stranger's disk under a node's name. */
  placeForeignDisk(ref: string): void {
    this.disks.set(ref, { ref, nodeId: null, host: this.hostList[0]?.name ?? MEMORY_HOST.name });
  }

  /** Someone stops, pauses or breaks a runtime node by hand. */
  setState(ref: string, state: Exclude<RuntimeNodeState, 'unreachable'>): void {
    const instance = this.instances.get(ref);
    if (instance === undefined) throw new Error(`no runtime node ${ref}`);
    instance.state = state;
  }

  /** A runtime node vanishes (removed by hand), its disk stays. */
  vanish(ref: string): void {
    this.instances.delete(ref);
  }

  /** A host stops answering (its nodes list as unreachable) or comes back. */
  setHostDown(host: string, down: boolean): void {
    if (down) this.hostsDown.add(host);
    else this.hostsDown.delete(host);
  }

  /** The whole engine stops answering (every call a RuntimeUnavailableError) or comes back. */
  setEngineDown(down: boolean): void {
    this.engineDown = down;
  }

  writeFile(ref: string, path: string, content: string): void {
    const instance = this.instances.get(ref);
    if (instance === undefined) throw new Error(`no runtime node ${ref}`);
    instance.files.set(path, Buffer.from(content));
  }

  /** The address a host's published ports answer at (null: where they were published). */
  hostAddress(host: string): string | null {
    return this.hostList.find((candidate) => candidate.name === host)?.address ?? null;
  }

  instance(ref: string): OwnedNode | null {
    const instance = this.instances.get(ref);
    return instance === undefined ? null : this.owned(instance);
  }

  disk(ref: string): MemoryDisk | null {
    return this.disks.get(ref) ?? null;
  }

  /** The spec the runtime node of that ref was made with. */
  specOf(ref: string): NodeSpec | null {
    return this.instances.get(ref)?.spec ?? null;
  }

  private answer(): void {
    if (this.engineDown) throw new RuntimeUnavailableError('memory engine: does not answer');
  }

  private stateOf(instance: Instance): RuntimeNodeState {
    return this.hostsDown.has(instance.host) ? 'unreachable' : instance.state;
  }

  private owned(instance: Instance): OwnedNode {
    return { runtimeId: instance.runtimeId, ref: instance.ref, nodeId: instance.nodeId, nodeName: instance.nodeName, state: this.stateOf(instance), host: instance.host };
  }

  /** Only the node's own runtime node (its node id); anything else under that ref is left alone. */
  private own(node: NodeRef): Instance | null {
    const instance = this.instances.get(node.ref);
    return instance !== undefined && instance.nodeId === node.id ? instance : null;
  }

  /** The spec's host, else the answering host with the fewest nodes. */
  private place(spec: NodeSpec): MemoryHostSpec {
    const up = this.hostList.filter((host) => !this.hostsDown.has(host.name));
    if (spec.host !== null) {
      const named = this.hostList.find((host) => host.name === spec.host);
      if (named === undefined) throw new NodeSpecRefusedError(`host ${spec.host} is not one of ${this.hostList.map((host) => host.name).join(', ')}`);
      return named;
    }
    const count = (host: MemoryHostSpec): number => [...this.instances.values()].filter((instance) => instance.host === host.name).length;
    const chosen = [...up].sort((a, b) => count(a) - count(b))[0];
    if (chosen === undefined) throw new RuntimeUnavailableError('no host answers');
    return chosen;
  }

  /** A port of the instance held outside the fleet or by another running node on its host. */
  private heldPort(instance: Instance): number | null {
    for (const port of instance.spec?.ports ?? []) {
      const key = `${port.protocol}/${port.outside}`;
      if (this.heldOutside.has(`*|${key}`) || this.heldOutside.has(`${instance.host}|${key}`)) return port.outside;
      for (const other of this.instances.values()) {
        if (other === instance || other.host !== instance.host || other.state !== 'running') continue;
        if (other.spec?.ports.some((candidate) => `${candidate.protocol}/${candidate.outside}` === key)) return port.outside;
      }
    }
    return null;
  }
}

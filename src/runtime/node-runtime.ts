/**
 * The fleet's one door to whatever runs its nodes (docs/architecture.md, "The runtime"). The nodes
 * service, the reconciler and containerlab speak these terms only; each engine has one adapter
 * (src/runtime/docker/ for a plain Docker engine, src/runtime/memory/ for tests). Nothing here names
 * an engine: a node is a *runtime node* (a Docker container, a Swarm service, a Kubernetes
 * StatefulSet) with a *disk* mounted at /vm (a Docker volume, a PersistentVolumeClaim).
 *
 * Contracts every adapter keeps:
 * - Idempotent: `ensure` of what already runs as specified, `remove` of what is gone, succeed.
 * - Ownership: an adapter marks what it makes with the fleet's id and the node's id, and touches
 *   only runtime nodes and disks marked so; anything else holding a name is left alone and logged.
 * - Errors are the RuntimeError subclasses below (runtime-errors.ts), never an engine's own error.
 */
/** Transport of a published port. */
export type PortProtocol = 'udp' | 'tcp';

/** One port of the node's agent reachable from outside the runtime. */
export interface PortToPublish {
  /** What the port serves (a lease kind: "ipmi", "vnc", "redfish"); unique within a spec. */
  readonly name: string;
  /** Where the agent listens inside the runtime node. */
  readonly inside: number;
  /** The port clients use on the node's host address (the leased port). */
  readonly outside: number;
  readonly protocol: PortProtocol;
  /** Host address to publish on (PUBLISH_ADDRESS); an adapter may replace it by the host's own. */
  readonly address: string;
}

/**
 * Host devices a node asks for. tun: tap devices for VM networks (always wanted; an adapter may let
 * the agent create it). kvm: hardware virtualization; an adapter that cannot give it refuses a spec
 * that requires it (NodeSpecRefusedError).
 */
export type NodeDevice = 'tun' | 'kvm';

/** A host file shown read-only inside the node (an ISO of ISO_DIR). */
export interface ReadOnlyFile {
  readonly hostPath: string;
  readonly path: string;
}

/** What one node may use of its host. */
export interface NodeLimits {
  readonly memoryBytes: number;
  /** CPUs, fractions allowed (2.5); an adapter caps it at what its host has. */
  readonly cpus: number;
  /** Processes and threads. */
  readonly pids: number;
}

/**
 * A node as it must run, in no engine's terms (built from the node's row by nodeSpec(),
 * src/nodes/node-spec.ts). Everything the agent needs is in `env`; an adapter adds nothing the
 * agent reads.
 */
export interface NodeSpec {
  /** The node's database id: marks the runtime node and its disk as this node's. */
  readonly nodeId: string;
  /** The node's API name (a DNS label). */
  readonly name: string;
  /** The runtime node's name, unique in the fleet (`<FLEET_NAME>-<name>`); see NodeRef.ref. */
  readonly ref: string;
  readonly image: string;
  /** The agent's environment (design.md section 1). Holds IPMI_PASS: never log it. */
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly PortToPublish[];
  /** Mount point of the node's persistent disk (disk, NVRAM, BMC state): "/vm". */
  readonly diskPath: string;
  readonly files: readonly ReadOnlyFile[];
  readonly devices: readonly NodeDevice[];
  /** Linux capabilities the node keeps (all others are dropped), e.g. NET_ADMIN. */
  readonly capabilities: readonly string[];
  /** Whether the node's processes may gain privileges (setuid): false for every node. */
  readonly noNewPrivileges: boolean;
  /** Extra networks, in order (they become eth1, eth2, … inside the node); the default one is implied. */
  readonly networks: readonly string[];
  readonly limits: NodeLimits;
  /**
   * Host to place the node on (RuntimeHost.name or id; the orchestrator chooses it before leasing the
   * ports, which are per host); null lets the runtime choose (an adapter with one host ignores it).
   */
  readonly host: string | null;
  /**
   * The program to run instead of the image's own (argv, no shell), e.g. the managed farm's entry;
   * absent: the image's.
   */
  readonly entrypoint?: readonly string[];
  /**
   * The node shares its host's network: it binds its ports at the host's addresses itself, nothing
   * is published (`ports` empty) and no network is attached. For a farm of thousands of BMCs, each
   * on its own leased port, which publishing one by one does not scale to. An adapter that cannot
   * give it refuses the spec (NodeSpecRefusedError).
   */
  readonly hostNetwork?: boolean;
}

/**
 * Which runtime node a row means: its id, name and ref (NodeRow.runtimeRef), and, when known, the
 * host it was placed on (NodeRow.host), which pins the disk for runtimes whose disks live on a host.
 */
export interface NodeRef {
  readonly id: string;
  readonly name: string;
  readonly ref: string;
  readonly host: string | null;
}

/**
 * running: its processes run. stopped: made or exited, can be started again. paused: frozen
 * (ensure resumes it). changing: the runtime itself is busy with it (restarting, being removed);
 * look again later. broken: cannot be started again (remove it, ensure anew). unreachable: its host
 * does not answer; its disk may be there still, so nothing may be re-created elsewhere.
 */
export type RuntimeNodeState = 'running' | 'stopped' | 'paused' | 'changing' | 'broken' | 'unreachable';

/** One runtime node the fleet owns, as listed. */
export interface OwnedNode {
  /** The runtime's own id of this instance (a container id); changes when it is made anew. */
  readonly runtimeId: string;
  /** Its name (what NodeRef.ref names). */
  readonly ref: string;
  /** The node id and name it carries as its owner marks; null when a mark is missing. */
  readonly nodeId: string | null;
  readonly nodeName: string | null;
  readonly state: RuntimeNodeState;
  /** Name of the host it runs on. */
  readonly host: string;
}

/** How a runtime node ended its last run. */
export interface ExitInfo {
  readonly code: number;
  /** ISO 8601; null when the runtime does not say. */
  readonly at: string | null;
  /** Killed for using more memory than its limit. */
  readonly outOfMemory: boolean;
}

/** A runtime node as observed: what adoption and the consoles need beyond the listing. */
export interface ObservedNode extends OwnedNode {
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  /** Published ports: inside port and protocol → outside port ("623/udp" → 16230). */
  readonly published: Readonly<Record<string, number>>;
  /** Extra networks attached, in attach order (the default network left out). */
  readonly networks: readonly string[];
  /** The node's own address on its default network while it runs (where the orchestrator reaches it). */
  readonly address: string | null;
  /** Its own address on each extra network while it runs, by network. */
  readonly addresses: Readonly<Record<string, string>>;
  /** Address of its host where its published ports answer. */
  readonly hostAddress: string;
  /** null while it never exited. */
  readonly exit: ExitInfo | null;
}

/** What ensure leaves behind, for the row. */
export interface EnsuredNode {
  readonly runtimeId: string;
  readonly host: string;
}

/** A host of the runtime, with what it can give one node. */
export interface RuntimeHost {
  /** How the runtime names it (a host name); what NodeSpec.host, NodeRef.host and OwnedNode.host hold. */
  readonly name: string;
  /** The runtime's own id of it (a swarm node id); the name where the runtime has no other. */
  readonly id: string;
  /**
   * Where the ports published on it answer: a swarm host's advertised address (or its
   * io.bmcfleet.address label). null: at the address they were published on (PortToPublish.address).
   */
  readonly address: string | null;
  /** Whether new nodes may go there (up and taking work); a host that is down stays listed. */
  readonly accepting: boolean;
  readonly memoryBytes: number;
  readonly cpus: number;
  /** Whether nodes on it can have /dev/kvm. */
  readonly kvm: boolean;
}

/**
 * What remove does with the node's disk. keep: stays for a later node of that name. purge: goes
 * when it is this fleet's. discard: goes only when this node (by id) made it, for undoing a create
 * that did not finish (a kept disk of an earlier node, or a stranger's, stays).
 */
export type DiskPolicy = 'keep' | 'purge' | 'discard';

/** The abstract class is the DI token; methods reject with RuntimeError subclasses only. */
export abstract class NodeRuntime {
  /** The engine's name for logs and the node view ("docker"). */
  abstract readonly kind: string;

  /**
   * Makes ready what every node needs (Docker: builds the node image when it is missing). ensure
   * calls it too; idempotent, one preparation at a time, cheap once done.
   */
  abstract prepare(): Promise<void>;

  /**
   * Every host of the runtime (those down too: their nodes' addresses are still theirs), with what
   * each can give one node and whether it takes new nodes. RuntimeUnavailableError when the engine
   * does not answer.
   */
  abstract hosts(): Promise<RuntimeHost[]>;

  /**
   * Refuses a network a node cannot use (NetworkRefusedError naming it and the fix: missing, or one
   * the engine would route the node's published ports through). Called before a node is stored.
   */
  abstract checkNetwork(name: string): Promise<void>;

  /**
   * Makes the node exist and run exactly as `spec` says: its disk (made if missing, marked as this
   * node's), the runtime node (made if missing; a stopped one started, a paused one resumed), its
   * networks attached in order. Idempotent: safe at any point of a node's life and from two callers
   * at once. A runtime node of that ref that is not this node's is a NameTakenError (never touched);
   * a published port held by something else is a PortInUseError (nothing of this call left running);
   * a missing image ImageMissingError; a spec the runtime cannot run NodeSpecRefusedError.
   * Settings of an existing runtime node are not changed (re-create it with remove + ensure).
   */
  abstract ensure(spec: NodeSpec): Promise<EnsuredNode>;

  /**
   * Stops the node's runtime node (graceful, then forced after timeoutSeconds), keeping it and its
   * disk; succeeds when it is gone or not this node's (left alone).
   */
  abstract stop(node: NodeRef, timeoutSeconds: number): Promise<void>;

  /**
   * Removes the node's runtime node (running or not) when its marks say it is this node's, and its
   * disk as `disk` says; succeeds when they are already gone.
   */
  abstract remove(node: NodeRef, disk: DiskPolicy): Promise<void>;

  /**
   * Removes one listed instance (by its runtimeId, not its name: a name can change hands), never a
   * disk: a stray or broken copy the reconciler found. Succeeds when it is gone.
   */
  abstract removeInstance(instance: OwnedNode): Promise<void>;

  /** The runtime node holding that ref (whoever owns it: check nodeId), or null when there is none. */
  abstract observe(ref: string): Promise<ObservedNode | null>;

  /** Every runtime node marked as this fleet's, running or not, on every host. */
  abstract list(): Promise<OwnedNode[]>;

  /**
   * The content of one regular file inside the node (e.g. its agent's certificate), at most
   * maxBytes; null when the node or the file does not exist.
   */
  abstract readFile(ref: string, path: string, maxBytes: number): Promise<Buffer | null>;

  /**
   * Runs argv (no shell) inside the running node, with its environment, and waits for it: exit code
   * and output, each stream capped at maxOutputBytes (e.g. the agent's fault control client).
   * NodeNotFoundError when there is no such node; RuntimeUnavailableError when it does not run or
   * the process outlives timeoutMs.
   */
  abstract exec(ref: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult>;
}

export interface ExecOptions {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

/** What a process run in a node left behind. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

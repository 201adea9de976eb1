/**
 * The orchestrator's one door to the Docker engine. Everything else speaks in these terms; only
 * DockerodeAdapter (dockerode-adapter.ts) knows the Engine API. Every call is idempotent where the
 * Engine allows it: creating what exists with our labels returns it, removing what is gone succeeds.
 */

/** Labels that mark what the orchestrator owns. */
export const LABELS = {
  /** "true" on every container, volume and image build the orchestrator makes. */
  managed: 'io.bmcfleet.managed',
  /** The fleet's id (the Fleet row): two fleets on one engine never touch each other's objects. */
  fleet: 'io.bmcfleet.fleet',
  /** The node's name (API name, not the container name). */
  node: 'io.bmcfleet.node',
  /** The node's database id: tells a re-created node from an old container of the same name. */
  nodeId: 'io.bmcfleet.node-id',
  /** "node" for node containers (lab UIs group by it). */
  role: 'io.bmcfleet.role',
} as const;

export interface PublishedPort {
  /** Host address the port is published on (PUBLISH_ADDRESS). */
  readonly hostIp: string;
  /** Host port (the leased one). */
  readonly port: number;
  /**
   * Port inside the container, where the agent listens. Node specs use the host port (same-port); a
   * different one needs IPMI_SOL_PORT for IPMI (ipmiPortEnvironment, src/nodes/node-container-spec.ts).
   */
  readonly containerPort: number;
}

export interface NodeContainerSpec {
  /** Container name, e.g. "bmcfleet-node1". */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The agent's environment (design.md section 1). */
  readonly env: Readonly<Record<string, string>>;
  /** Published as `<containerPort>/udp` on hostIp:port; null with hostNetwork. */
  readonly ipmi: PublishedPort | null;
  /** Published as `<containerPort>/tcp` on hostIp:port; null with hostNetwork. */
  readonly vnc: PublishedPort | null;
  /** Published as `<containerPort>/tcp` on hostIp:port; null for a node made before Redfish ports. */
  readonly redfish: PublishedPort | null;
  /** Named volume mounted at /vm (disk, NVRAM, BMC state); created with the same labels if missing. */
  readonly volumeName: string;
  /** Extra read-only binds, e.g. an ISO: host path → container path. */
  readonly readOnlyBinds: readonly { readonly hostPath: string; readonly containerPath: string }[];
  /** Host devices passed through, e.g. /dev/net/tun, /dev/kvm. */
  readonly devices: readonly string[];
  /** Capabilities dropped, then added back (capDrop ["ALL"], capAdd what the node needs). */
  readonly capDrop: readonly string[];
  readonly capAdd: readonly string[];
  /** Docker security options, e.g. no-new-privileges:true. */
  readonly securityOpt: readonly string[];
  readonly limits: ContainerLimits;
  /** The container's program instead of the image's entrypoint (argv); null: the image's. */
  readonly entrypoint?: readonly string[] | null;
  /** Docker's host network mode: nothing published, no health check (it probes one BMC at 623). */
  readonly hostNetwork?: boolean;
}

/** What one node container may use of the host. */
export interface ContainerLimits {
  /** Memory (and memory + swap: no swap on top) in bytes. */
  readonly memoryBytes: number;
  /** CPU time in billionths of a CPU; the adapter caps it at the engine's CPU count. */
  readonly nanoCpus: number;
  readonly pids: number;
  /** json-file log rotation: size of one file (Docker's units, e.g. "10m") and how many are kept. */
  readonly logMaxSize: string;
  readonly logMaxFiles: number;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** What the orchestrator needs to know about one of its containers. */
export interface ManagedContainer {
  readonly id: string;
  /** Without Docker's leading slash. */
  readonly name: string;
  readonly state: ContainerState;
  readonly labels: Readonly<Record<string, string>>;
}

/** A container as inspected: adds what adoption needs (environment and published ports). */
export interface InspectedContainer extends ManagedContainer {
  readonly env: Readonly<Record<string, string>>;
  readonly image: string;
  /** Host ports published, keyed "623/udp" → host port. */
  readonly publishedPorts: Readonly<Record<string, number>>;
  /** Names of the networks the container is attached to. */
  readonly networks: readonly string[];
  /** The container's IPv4 address on each attached network (while it runs), by network name. */
  readonly addresses?: Readonly<Record<string, string>>;
  /** How its last run ended (null or absent: it never finished one). */
  readonly exit?: ContainerExit | null;
}

/** State.ExitCode, FinishedAt and OOMKilled of an inspected container. */
export interface ContainerExit {
  readonly code: number;
  readonly at: string;
  readonly outOfMemory: boolean;
}

/** A named volume as inspected: enough to tell whose it is. */
export interface VolumeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NetworkInfo {
  readonly name: string;
  readonly id: string;
  readonly internal: boolean;
  readonly ipv6: boolean;
}

/** What the engine's host can give one node (Engine API GET /info: MemTotal, NCPU). */
export interface HostCapacity {
  /** The engine's host name (GET /info: Name). */
  readonly name: string;
  readonly memoryBytes: number;
  readonly cpus: number;
}

/** What a process run in a container (DockerAdapter.exec) left behind. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Progress of an image build, one line at a time (Docker's stream output). */
export type ProgressListener = (line: string) => void;

/**
 * Why a Docker operation failed, for callers that react to it: 'port-in-use' (a published host port
 * is held by something else: lease another), 'image-missing' (build it or fix NODE_IMAGE),
 * 'conflict' (a name taken by an object that is not ours, a volume in use), 'not-found' (the
 * container or network is gone), 'engine' (anything else, including an engine that does not answer).
 */
export type DockerAdapterErrorKind = 'not-found' | 'conflict' | 'port-in-use' | 'image-missing' | 'engine';

/** Every failure of a DockerAdapter method; the message names the operation, the object and Docker's text. */
export class DockerAdapterError extends Error {
  constructor(
    readonly kind: DockerAdapterErrorKind,
    message: string,
    /** HTTP status of the Engine API answer, when there was one. */
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'DockerAdapterError';
  }
}

/** Methods throw DockerAdapterError (never a raw dockerode error). */
export abstract class DockerAdapter {
  /** Whether the engine answers (for /healthz and clear start-up errors). */
  abstract ping(): Promise<boolean>;
  abstract imageExists(image: string): Promise<boolean>;
  /**
   * Builds the node image through the Engine API from the repository (node-image/Dockerfile with the
   * root .dockerignore as context), reporting progress; throws with Docker's error text on failure.
   */
  abstract buildNodeImage(image: string, onProgress: ProgressListener): Promise<void>;
  /**
   * Creates the volume (if missing) and the container (if missing); returns the container's id. A
   * container of that name carrying the same LABELS.nodeId counts as created (concurrent creates);
   * one that belongs to something else is a 'conflict'; a missing image is 'image-missing'.
   */
  abstract createNodeContainer(spec: NodeContainerSpec): Promise<string>;
  /** Starts it if not running; a published host port held elsewhere is 'port-in-use'. */
  abstract startContainer(name: string): Promise<void>;
  /** Stops it if running (SIGTERM, then SIGKILL after timeoutSeconds); succeeds when it does not exist. */
  abstract stopContainer(name: string, timeoutSeconds: number): Promise<void>;
  /** Starts a paused container's processes again; succeeds when it is not paused. */
  abstract unpauseContainer(name: string): Promise<void>;
  /**
   * Removes it (forcefully, running or not); succeeds when it does not exist. Pass the id from a
   * listing or inspection whose labels were checked, never a name alone: a name can change hands.
   */
  abstract removeContainer(idOrName: string): Promise<void>;
  /**
   * Succeeds when it does not exist; a volume still mounted by a container is a 'conflict'. Only for
   * a volume whose labels were just checked (inspectVolume).
   */
  abstract removeVolume(name: string): Promise<void>;
  /** null when no such volume. */
  abstract inspectVolume(name: string): Promise<VolumeInfo | null>;
  /** null when no such container. */
  abstract inspectContainer(name: string): Promise<InspectedContainer | null>;
  /** Every container (running or not) carrying LABELS.managed=true and LABELS.fleet=fleetId. */
  abstract listFleetContainers(fleetId: string): Promise<ManagedContainer[]>;
  /** Memory and CPUs of the engine's host (not of this process's host: the engine may be remote). */
  abstract hostCapacity(): Promise<HostCapacity>;
  /** null when no such network. */
  abstract inspectNetwork(name: string): Promise<NetworkInfo | null>;
  /** Connects a running container to a network; succeeds when already connected. */
  abstract connectNetwork(containerName: string, networkName: string): Promise<void>;
  /**
   * The content of one regular file inside a container (the Engine's archive endpoint: no exec, no
   * process in the container); null when the container or the file does not exist. At most maxBytes.
   */
  abstract readContainerFile(containerName: string, path: string, maxBytes: number): Promise<Buffer | null>;
  /**
   * Runs argv (no shell) in a running container as its default user with its environment, and waits
   * for it: its exit code and output (each stream capped at maxOutputBytes). 'not-found' when the
   * container does not exist; 'engine' when it is not running or the process outlives timeoutMs (the
   * Engine API cannot kill it: it is left to end by itself).
   */
  abstract exec(containerName: string, argv: readonly string[], options: { readonly timeoutMs: number; readonly maxOutputBytes: number }): Promise<ExecResult>;
}

/**
 * The orchestrator's validated configuration (design.md section 3), as one typed, immutable tree.
 * The abstract class is both the type and the DI token: inject `AppConfig` anywhere.
 * Values come only from `parseAppConfig` (env.schema.ts); nothing else reads process.env.
 */

/** Log levels of the Nest logger, most verbose first. */
export const LOG_LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['text', 'json'] as const;

/** What runs the nodes (RUNTIME): one Docker engine, or a Docker Swarm through a manager (docs/swarm.md). */
export const RUNTIMES = ['docker', 'swarm'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** An inclusive range of host ports, e.g. 16230-16999. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export interface HttpConfig {
  /** TCP port of the API; 0 picks a free port (tests). */
  readonly port: number;
  /** IP address the API listens on. */
  readonly bindAddress: string;
  /** Bearer token the API requires; null means no token (allowed only on loopback). */
  readonly apiToken: string | null;
}

export interface FleetRedfishConfig {
  readonly port: number;
}

export interface LogConfig {
  /** Least severe level that is printed. */
  readonly level: LogLevelName;
  readonly format: LogFormat;
}

export abstract class AppConfig {
  abstract readonly http: HttpConfig;
  /** Absolute path of the data directory (SQLite database, node volumes). */
  abstract readonly dataDir: string;
  /**
   * Absolute path of the only directory whose regular files the API attaches as a node's CD-ROM
   * (ISO_DIR, default DATA_DIR/iso). The Docker engine binds the same path on its host.
   */
  abstract readonly isoDir: string;
  /** Largest disk (GiB) the API gives a node (MAX_DISK_GIB); qcow2 disks grow as the guest writes. */
  abstract readonly maxDiskGiB: number;
  /** Host address the nodes' IPMI, VNC and Redfish ports are published on. */
  abstract readonly publishAddress: string;
  /** Host UDP ports leased to nodes' IPMI. */
  abstract readonly ipmiPortRange: PortRange;
  /** Host TCP ports leased to nodes' VNC. */
  abstract readonly vncPortRange: PortRange;
  /** Host TCP ports leased to nodes' Redfish (HTTPS), same port inside the container (REDFISH_PORT_RANGE). */
  abstract readonly redfishPortRange: PortRange;
  /** The fleet-wide Redfish endpoint (HTTPS on BIND_ADDRESS); null: FLEET_REDFISH_PORT=none. Port 0 picks a free one. */
  abstract readonly fleetRedfish: FleetRedfishConfig | null;
  /** Image new nodes are created from. */
  abstract readonly nodeImage: string;
  /** Agent environment given to every new node, from NODE_DEFAULTS_<NAME> (key is NAME). */
  abstract readonly nodeDefaults: Readonly<Record<string, string>>;
  abstract readonly log: LogConfig;
  /** Prefix of the node containers' and volumes' names (`<fleetName>-<node>`), from FLEET_NAME. */
  abstract readonly fleetName: string;
  /** What runs the nodes (RUNTIME); the engine is DOCKER_HOST's (a swarm manager's for swarm). */
  abstract readonly runtime: RuntimeName;
  /** Milliseconds between reconciler runs (RECONCILE_INTERVAL_S); 0 turns the periodic run off. */
  abstract readonly reconcileIntervalMs: number;
  /** Where `machine: sim` nodes go (SIM_PLACEMENT): BMCs in farms, or a runtime node each. */
  abstract readonly simPlacement: 'farm' | 'container';
  /** BMCs per farm at most (FARM_CAPACITY); a farm that is full makes the next farm. */
  abstract readonly farmCapacity: number;
}

/**
 * The orchestrator's HTTP API (design.md section 3) as the CLI sees it: the requests and answers in the
 * CLI's terms, and the abstract client the commands depend on (HttpFleetApi speaks HTTP; unit specs
 * hand in a stub). Types only come from the node model, so the CLI loads nothing of the server.
 */
import { TOPOLOGY_MODES, type TopologyMode } from '../containerlab/topology-nodes';
import type { ExportQuery } from '../exports/export-client';
import type { ExportFormat } from '../exports/exports.paths';
import type { BootMode, KvmMode, MachineKind, NodeView, PowerActionName, PowerState } from '../nodes/node.model';

export { TOPOLOGY_MODES, type TopologyMode };

/** POST /api/v1/nodes body. */
export interface CreateNodeRequest {
  readonly name: string;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  readonly diskSizeGiB?: number;
  readonly cdrom?: string;
  readonly bootMode?: BootMode;
  readonly bootMenuTimeoutMs?: number;
  readonly ipmiUser?: string;
  readonly ipmiPassword?: string;
  readonly networks?: readonly string[];
  readonly labInterfaces?: readonly string[];
  readonly powerOnAtStart?: boolean;
  readonly machine?: MachineKind;
  readonly enableKvm?: KvmMode;
  readonly keepBmcUsers?: boolean;
  /** The host to place the node on (a swarm node's name or id). */
  readonly host?: string;
}

/** The create answer: the node, and the BMC password once when the orchestrator generated it. */
export interface CreatedNode extends NodeView {
  readonly generatedIpmiPassword?: string;
}

/** GET /api/v1/nodes filters (name is a prefix) and page; without limit and cursor the answer is a plain list. */
export interface NodeListQuery {
  readonly name?: string;
  readonly machine?: MachineKind;
  readonly powerState?: PowerState;
  readonly limit?: number;
  readonly cursor?: string;
}

/** GET /api/v1/nodes with limit or cursor: one page, and the cursor of the next (null on the last). */
export interface NodePage {
  readonly items: NodeView[];
  readonly nextCursor: string | null;
}

/** POST /api/v1/node-batches body: `count` simulated nodes named <namePrefix>-<n>. */
export interface CreateNodeBatchRequest {
  readonly namePrefix: string;
  readonly count: number;
  readonly machine: 'sim';
  readonly firstIndex?: number;
  readonly ipmiUser?: string;
  readonly ipmiPassword?: string;
  readonly powerOnAtStart?: boolean;
}

/** One node of a created batch: its name and addresses. */
export interface BatchNode {
  readonly id: string;
  readonly name: string;
  readonly ipmi: { readonly host: string; readonly port: number; readonly user: string };
  readonly redfish: { readonly host: string; readonly port: number } | null;
}

/** POST /api/v1/node-batches answer (201): every node, in name order. */
export interface CreatedNodeBatch {
  readonly namePrefix: string;
  readonly count: number;
  readonly machine: string;
  readonly nodes: readonly BatchNode[];
  /** Only when the password was generated: every node of the batch has it. */
  readonly generatedIpmiPassword?: string;
}

/** POST and GET /api/v1/nodes/:name/power answers. */
export interface PowerResult {
  readonly name?: string;
  readonly action?: string;
  readonly powerState: PowerState;
}

/** GET /api/v1/nodes/:name/vnc answer: the VNC console and its password (null: none set yet). */
export interface VncAccess {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly password: string | null;
}

/** GET /api/v1/containerlab/topology query parameters; absent ones are left to the orchestrator. */
export interface TopologyQuery {
  readonly nodes?: readonly string[];
  readonly mode?: TopologyMode;
  /** containerlab lab name (the orchestrator's default: the fleet name). */
  readonly name?: string;
  /** The compact links text, e.g. node1:eth1,switch:eth1;node2:eth1,switch:eth2. */
  readonly links?: string;
}

/** One fault rule as GET /api/v1/nodes/:name/faults lists it (src/faults/fault-report.ts). */
export interface FaultRuleView {
  readonly id: string;
  readonly match: Readonly<Record<string, unknown>> & { readonly protocol: string };
  readonly action: Readonly<Record<string, unknown>> & { readonly kind: string };
  readonly when: Readonly<Record<string, unknown>>;
  readonly addedAt: string;
  readonly matches: number;
  readonly applied: number;
  readonly status: string;
}

/** GET (and, without totals, POST) /api/v1/nodes/:name/faults answer. */
export interface NodeFaults {
  readonly name: string;
  readonly rules: readonly FaultRuleView[];
  readonly totals?: Readonly<Record<string, number>>;
}

export abstract class FleetApi {
  /** GET /api/v1/nodes without a page: every node (matching the filters). */
  abstract listNodes(filters?: Omit<NodeListQuery, 'limit' | 'cursor'>): Promise<NodeView[]>;
  /** GET /api/v1/nodes with limit and/or cursor: one page. */
  abstract listNodePage(query: NodeListQuery): Promise<NodePage>;
  abstract createNodeBatch(request: CreateNodeBatchRequest): Promise<CreatedNodeBatch>;
  abstract getNode(name: string): Promise<NodeView>;
  abstract createNode(request: CreateNodeRequest): Promise<CreatedNode>;
  abstract deleteNode(name: string, purge: boolean): Promise<void>;
  abstract power(name: string, action: PowerActionName): Promise<PowerResult>;
  abstract powerStatus(name: string): Promise<PowerResult>;
  abstract vnc(name: string): Promise<VncAccess>;
  /** GET /api/v1/nodes/:name/screenshot.png: the screen as PNG, shrunk to `width` when given. */
  abstract screenshot(name: string, width?: number): Promise<Buffer>;
  /** The containerlab topology as YAML text. */
  abstract topology(query: TopologyQuery): Promise<string>;
  abstract listFaults(name: string): Promise<NodeFaults>;
  /** POST /api/v1/nodes/:name/faults with { rules }: all are added or none. */
  abstract addFaults(name: string, rules: readonly unknown[]): Promise<NodeFaults>;
  /** DELETE one rule (by id) or all; resolves with how many went. */
  abstract clearFaults(name: string, ruleId?: string): Promise<number>;
  /** GET /api/v1/exports/<format>: the answer's text (YAML for metal3, JSON otherwise). */
  abstract export(format: ExportFormat, query: ExportQuery): Promise<string>;
}

/** The orchestrator answered with an HTTP error; the message is the API's own. */
export class FleetApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'FleetApiError';
  }
}

/** No HTTP answer at all: nothing listens at the URL, the host is unknown, or it stayed silent. */
export class OrchestratorUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrchestratorUnreachableError';
  }
}

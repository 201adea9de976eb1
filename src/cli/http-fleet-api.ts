/**
 * FleetApi over HTTP with Node's fetch: the only file of the CLI that talks to the orchestrator.
 * Sends the API token as `Authorization: Bearer`, turns Nest's error bodies ({statusCode, message,
 * error}) into FleetApiError with the API's own message, and a request that gets no HTTP answer into
 * OrchestratorUnreachableError saying why (nothing listening, unknown host, no answer in time).
 * The topology request is built by the containerlab module's own client helper (GET, or POST for
 * long link lists; a malformed links text throws its ContainerlabError before any request).
 */
import { topologyHttpRequest } from '../containerlab/topology-client';
import { exportRequestPath, type ExportQuery } from '../exports/export-client';
import type { ExportFormat } from '../exports/exports.paths';
import type { NodeView, PowerActionName } from '../nodes/node.model';
import { CreatedNode, CreatedNodeBatch, CreateNodeBatchRequest, CreateNodeRequest, FleetApi, FleetApiError, NodeFaults, NodeListQuery, NodePage, OrchestratorUnreachableError, PowerResult, TopologyQuery, VncAccess } from './fleet-api';

/** A create waits for the node's BMC to answer (up to 90 s on a loaded host): room for that and more. */
export const REQUEST_TIMEOUT_MS = 300_000;
const API_PREFIX = '/api/v1';

type FetchFunction = typeof fetch;

export interface HttpFleetApiOptions {
  /** e.g. http://127.0.0.1:8080 (no trailing slash needed). */
  readonly url: string;
  readonly token: string | null;
  readonly timeoutMs?: number;
  readonly fetch?: FetchFunction;
}

interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Under /api/v1, unless `fullPath` is given. */
  readonly path: string;
  /** The path from the server's root, query string included. */
  readonly fullPath?: string;
  readonly query?: URLSearchParams;
  readonly body?: unknown;
}

export class HttpFleetApi extends FleetApi {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: FetchFunction;

  constructor(private readonly options: HttpFleetApiOptions) {
    super();
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
  }

  async listNodes(filters: Omit<NodeListQuery, 'limit' | 'cursor'> = {}): Promise<NodeView[]> {
    const query = listQuery(filters);
    const answer = await this.json({ method: 'GET', path: '/nodes', ...(query ? { query } : {}) });
    if (!Array.isArray(answer)) throw new FleetApiError(200, `the orchestrator at ${this.base} answered GET ${API_PREFIX}/nodes with something that is not a list of nodes`);
    return answer as NodeView[];
  }

  async listNodePage(query: NodeListQuery): Promise<NodePage> {
    if (query.limit === undefined && query.cursor === undefined) throw new Error('listNodePage needs a limit or a cursor');
    const answer = (await this.json({ method: 'GET', path: '/nodes', query: listQuery(query) ?? new URLSearchParams() })) as Partial<NodePage> | null;
    if (answer === null || !Array.isArray(answer.items) || (answer.nextCursor !== null && typeof answer.nextCursor !== 'string')) {
      throw new FleetApiError(200, `the orchestrator at ${this.base} answered GET ${API_PREFIX}/nodes?limit= without { items, nextCursor } (an orchestrator older than paged lists?)`);
    }
    return { items: answer.items, nextCursor: answer.nextCursor };
  }

  async createNodeBatch(request: CreateNodeBatchRequest): Promise<CreatedNodeBatch> {
    return (await this.json({ method: 'POST', path: '/node-batches', body: request })) as CreatedNodeBatch;
  }

  async screenshot(name: string, width?: number): Promise<Buffer> {
    const query = width === undefined ? undefined : new URLSearchParams({ width: String(width) });
    const response = await this.send({ method: 'GET', path: `/nodes/${encodeURIComponent(name)}/screenshot.png`, ...(query ? { query } : {}) });
    return Buffer.from(await response.arrayBuffer());
  }

  async getNode(name: string): Promise<NodeView> {
    return (await this.json({ method: 'GET', path: `/nodes/${encodeURIComponent(name)}` })) as NodeView;
  }

  async createNode(request: CreateNodeRequest): Promise<CreatedNode> {
    return (await this.json({ method: 'POST', path: '/nodes', body: request })) as CreatedNode;
  }

  async deleteNode(name: string, purge: boolean): Promise<void> {
    const query = purge ? new URLSearchParams({ purge: 'true' }) : undefined;
    await this.send({ method: 'DELETE', path: `/nodes/${encodeURIComponent(name)}`, ...(query ? { query } : {}) });
  }

  async power(name: string, action: PowerActionName): Promise<PowerResult> {
    return (await this.json({ method: 'POST', path: `/nodes/${encodeURIComponent(name)}/power`, body: { action } })) as PowerResult;
  }

  async powerStatus(name: string): Promise<PowerResult> {
    return (await this.json({ method: 'GET', path: `/nodes/${encodeURIComponent(name)}/power` })) as PowerResult;
  }

  async vnc(name: string): Promise<VncAccess> {
    return (await this.json({ method: 'GET', path: `/nodes/${encodeURIComponent(name)}/vnc` })) as VncAccess;
  }

  async topology(query: TopologyQuery): Promise<string> {
    const request = topologyHttpRequest({ ...query, format: 'yaml' });
    const response = await this.send({ method: request.method, path: request.path, fullPath: request.path, ...(request.method === 'POST' ? { body: request.body } : {}) });
    return response.text();
  }

  async listFaults(name: string): Promise<NodeFaults> {
    return (await this.json({ method: 'GET', path: `/nodes/${encodeURIComponent(name)}/faults` })) as NodeFaults;
  }

  async addFaults(name: string, rules: readonly unknown[]): Promise<NodeFaults> {
    return (await this.json({ method: 'POST', path: `/nodes/${encodeURIComponent(name)}/faults`, body: { rules } })) as NodeFaults;
  }

  async clearFaults(name: string, ruleId?: string): Promise<number> {
    const path = `/nodes/${encodeURIComponent(name)}/faults${ruleId === undefined ? '' : `/${encodeURIComponent(ruleId)}`}`;
    return ((await this.json({ method: 'DELETE', path })) as { removed: number }).removed;
  }

  async export(format: ExportFormat, query: ExportQuery): Promise<string> {
    const path = exportRequestPath(format, query);
    return (await this.send({ method: 'GET', path, fullPath: path })).text();
  }

  private async json(spec: RequestSpec): Promise<unknown> {
    const response = await this.send(spec);
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new FleetApiError(response.status, `the orchestrator at ${this.base} answered ${spec.method} ${API_PREFIX}${spec.path} with something that is not JSON`);
    }
  }

  /** One request; resolves with a 2xx response, throws FleetApiError or OrchestratorUnreachableError. */
  private async send(spec: RequestSpec): Promise<Response> {
    const query = spec.query && spec.query.toString() !== '' ? `?${spec.query.toString()}` : '';
    const url = spec.fullPath !== undefined ? `${this.base}${spec.fullPath}` : `${this.base}${API_PREFIX}${spec.path}${query}`;
    const headers: Record<string, string> = { accept: 'application/json, application/yaml, text/plain' };
    if (this.options.token !== null) headers['authorization'] = `Bearer ${this.options.token}`;
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: spec.method,
        headers,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new OrchestratorUnreachableError(describeFetchFailure(this.base, err, this.timeoutMs));
    }
    if (!response.ok) {
      throw new FleetApiError(response.status, apiErrorMessage(response.status, response.statusText, await response.text().catch(() => '')));
    }
    return response;
  }
}

/**
 * The message of an HTTP error: Nest's `message` (a string, or the validation pipe's list), else
 * the status line. A 401 also says how to give the token.
 */
export function apiErrorMessage(status: number, statusText: string, body: string): string {
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') message = parsed.message;
    else if (Array.isArray(parsed.message)) message = parsed.message.filter((m): m is string => typeof m === 'string').join('; ');
  } catch {
    const text = body.trim();
    if (text !== '' && text.length <= 500 && !text.startsWith('<')) message = text;
  }
  const statusLine = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  const text = message ? `${message} (${statusLine})` : statusLine;
  return status === 401 ? `${text}: give the orchestrator's API token with --token or BMCFLEET_API_TOKEN` : text;
}

/** Error codes of the connection (undici puts them on `cause`, or on each of `cause.errors`). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (typeof e !== 'object' || e === null || depth > 3) return;
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    visit(cause, depth + 1);
  };
  visit(err, 0);
  return codes;
}

/** Why fetch got no HTTP answer from the orchestrator at `url`, in words a user can act on. */
export function describeFetchFailure(url: string, err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer from the orchestrator at ${url} within ${Math.round(timeoutMs / 1000)} s`;
  const codes = errorCodes(err);
  if (codes.includes('ECONNREFUSED')) return `the orchestrator is not running at ${url} (connection refused); start it with "npm start" or give its address with --url or BMCFLEET_URL`;
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return `cannot resolve the host of the orchestrator URL ${url}`;
  if (codes.some((c) => c === 'ETIMEDOUT' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH')) {
    return `cannot reach the orchestrator at ${url} (${codes.join(', ')})`;
  }
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause?.message;
  const detail = typeof cause === 'string' ? cause : err instanceof Error ? err.message : String(err);
  return `cannot reach the orchestrator at ${url}: ${detail}`;
}

/** The query string of GET /api/v1/nodes (only the fields given); undefined when there are none. */
function listQuery(q: NodeListQuery): URLSearchParams | undefined {
  const query = new URLSearchParams();
  for (const key of ['name', 'machine', 'powerState', 'limit', 'cursor'] as const) {
    const value = q[key];
    if (value !== undefined) query.set(key, String(value));
  }
  return query.toString() === '' ? undefined : query;
}

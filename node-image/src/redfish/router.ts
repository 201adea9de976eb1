/**
 * The Redfish service as a pure function: request (method, path, headers, body, remote) →
 * response (status, headers, JSON body). No sockets: the HTTPS transport (https-server.ts) only
 * moves bytes. Handles, in order (DSP0266 sections 13.3 and 8):
 *   path normalisation (a trailing slash is the same resource) → route → authentication (Basic or
 *   X-Auth-Token; none for the service root, its OData documents and session creation) → method
 *   (405 with Allow) → privilege (403) → If-Match (412 when stale, on PATCH and POST) → handler.
 * Every failure is a Redfish error body (errors.ts); an unexpected exception is a 500 GeneralError.
 */
import { createHash } from 'node:crypto';
import type { Role } from '../core/accounts';
import type { Json, JsonObject, RedfishRequest, RedfishResponse } from './http-types';
import { insufficientPrivilege, methodNotAllowed, notFound, preconditionFailed, RedfishError, unauthorized } from './errors';
import type { RedfishSession } from './session-table';

/** Redfish privileges (DSP0266 section 13.4, Privilege registry). */
export type RedfishPrivilege = 'Login' | 'ConfigureComponents' | 'ConfigureManager' | 'ConfigureUsers' | 'ConfigureSelf';

export const ROLE_PRIVILEGES: Readonly<Record<Role, readonly RedfishPrivilege[]>> = {
  'administrator': ['Login', 'ConfigureComponents', 'ConfigureManager', 'ConfigureUsers', 'ConfigureSelf'],
  'operator': ['Login', 'ConfigureComponents', 'ConfigureSelf'],
  'read-only': ['Login', 'ConfigureSelf'],
};

export interface Principal {
  readonly userId: number;
  readonly userName: string;
  readonly role: Role;
  /** Present when the request carried X-Auth-Token. */
  readonly session: RedfishSession | undefined;
}

export interface RouteContext {
  readonly req: RedfishRequest;
  /** The `{…}` segments of the route's path, in order. */
  readonly params: readonly string[];
  /** The path as routed (no trailing slash). */
  readonly path: string;
  readonly principal: Principal | undefined;
  readonly now: number;
  /** The body as a JSON object ({} when empty); a MalformedJSON error otherwise. */
  json(): JsonObject;
}

export interface Operation {
  /** 'none': no authentication (the service root, OData documents, session creation). */
  readonly privilege: RedfishPrivilege | 'none';
  handle(ctx: RouteContext): Promise<RedfishResponse> | RedfishResponse;
  /** The resource an If-Match on this operation is checked against. */
  readonly etagOf?: (ctx: RouteContext) => Promise<JsonObject> | JsonObject;
}

export type Method = 'GET' | 'PATCH' | 'POST' | 'DELETE' | 'PUT';

export interface Route {
  /** e.g. /redfish/v1/Systems/{id}; `{…}` matches one segment. */
  readonly path: string;
  /** What it serves: a versioned schema (ComputerSystem.v1_27_0), a collection type or an action; for docs. */
  readonly schema: string;
  readonly ops: Partial<Record<Method, Operation>>;
}

export interface Authenticator {
  /** Basic credentials → principal, or a RedfishError (401). */
  basic(user: string, password: string, remote: string, now: number): Principal;
  /** X-Auth-Token → principal, or a RedfishError (401). */
  token(token: string, now: number): Principal;
}

const METHODS: readonly Method[] = ['GET', 'PATCH', 'POST', 'DELETE', 'PUT'];

interface CompiledRoute {
  readonly route: Route;
  readonly regex: RegExp;
}

export class RedfishRouter {
  private readonly routes: CompiledRoute[];
  private readonly exact = new Map<string, CompiledRoute>();

  constructor(routes: readonly Route[], private readonly auth: Authenticator) {
    this.routes = routes.map((route) => ({ route, regex: compile(route.path) }));
    // Paths without parameters, found without trying every pattern (when no earlier pattern takes them).
    this.routes.forEach((r, i) => {
      if (!r.route.path.includes('{') && !this.exact.has(r.route.path) && !this.routes.slice(0, i).some((e) => e.regex.test(r.route.path))) this.exact.set(r.route.path, r);
    });
  }

  async handle(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    try {
      return await this.dispatch(req, now);
    } catch (err) {
      const e = err instanceof RedfishError ? err : new RedfishError(500, 'GeneralError', 'A general error has occurred. See Resolution for information on how to resolve the error.');
      return { status: e.status, headers: { ...e.headers }, body: e.body() };
    }
  }

  private async dispatch(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    const path = normalise(req.path);
    const method = (req.method === 'HEAD' ? 'GET' : req.method) as Method;
    let params: string[] = [];
    const found = this.exact.get(path) ?? this.routes.find((r) => {
      const m = r.regex.exec(path);
      const decoded = m ? m.slice(1).map(decodeSegment) : [];
      // A segment that is not valid percent-encoding names no resource.
      if (!m || decoded.some((d) => d === undefined)) return false;
      params = decoded as string[];
      return true;
    });
    const op = found?.route.ops[method];
    const principal = op?.privilege === 'none' ? undefined : this.authenticate(req, path, now);
    if (!found) throw notFound(path);
    if (!op) throw methodNotAllowed(req.method, path, METHODS.filter((m) => found.route.ops[m]));
    if (op.privilege !== 'none' && !ROLE_PRIVILEGES[principal!.role].includes(op.privilege)) throw insufficientPrivilege();
    let parsed: JsonObject | undefined;
    const ctx: RouteContext = {
      req, params, path, principal, now,
      json: () => (parsed ??= parseBody(req)),
    };
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && op.etagOf && (method === 'PATCH' || method === 'POST')) {
      if (!etagMatches(ifMatch, etagOf(await op.etagOf(ctx)))) throw preconditionFailed();
    }
    return op.handle(ctx);
  }

  private authenticate(req: RedfishRequest, path: string, now: number): Principal {
    const token = req.headers['x-auth-token'];
    if (token !== undefined && token !== '') return this.auth.token(token, now);
    const authorization = req.headers['authorization'];
    const basic = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
    if (basic) {
      const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) return this.auth.basic(text.slice(0, colon), text.slice(colon + 1), req.remote, now);
    }
    throw unauthorized(path);
  }
}

/**
 * Plain 200 answers recently made, by content: a resource read again while its state is unchanged
 * gets the same response object back (no new hash; the transport reuses its serialized bytes).
 * Responses are never modified after they are made, so sharing them is safe.
 */
const RECENT_LIMIT = 64;
/** Larger answers (a full SEL) are not kept: at most RECENT_LIMIT × this many characters are held. */
const RECENT_MAX_CONTENT = 16 * 1024;
const recent = new Map<string, RedfishResponse>();

/** A JSON resource with its ETag (DSP0266 section 7.5.1: header and @odata.etag are the same tag). */
export function resourceResponse(body: JsonObject, status = 200, headers: Record<string, string> = {}): RedfishResponse {
  const content = contentOf(body);
  const cacheable = status === 200 && Object.keys(headers).length === 0 && content.length <= RECENT_MAX_CONTENT;
  if (cacheable) {
    const hit = recent.get(content);
    if (hit) return hit;
  }
  const tag = tagOf(content);
  const response: RedfishResponse = { status, headers: { ETag: tag, ...headers }, body: { ...body, '@odata.etag': tag } };
  if (cacheable) {
    if (recent.size >= RECENT_LIMIT) recent.delete(recent.keys().next().value!);
    recent.set(content, response);
  }
  return response;
}

/** A weak ETag over the resource's content (without its own @odata.etag). */
export function etagOf(body: JsonObject): string {
  return tagOf(contentOf(body));
}

function contentOf(body: JsonObject): string {
  if (!('@odata.etag' in body)) return JSON.stringify(body);
  const { ['@odata.etag']: _ignored, ...content } = body;
  return JSON.stringify(content);
}

const tagOf = (content: string): string => `W/"${createHash('sha256').update(content).digest('hex').slice(0, 16)}"`;

/** If-Match: `*`, or a list of tags; weak and strong forms of the same tag match (sushy retries strong). */
export function etagMatches(header: string, current: string): boolean {
  const bare = (t: string): string => t.trim().replace(/^W\//, '');
  const want = bare(current);
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === want);
}

export const noContent = (headers: Record<string, string> = {}): RedfishResponse => ({ status: 204, headers });

export const idRef = (path: string): JsonObject => ({ '@odata.id': path });

export function collection(path: string, type: string, name: string, members: readonly string[]): JsonObject {
  return {
    '@odata.id': path,
    '@odata.type': `#${type}.${type}`,
    Name: name,
    Members: members.map(idRef),
    'Members@odata.count': members.length,
  };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function normalise(path: string): string {
  if (path !== '' && !path.endsWith('/')) return path;
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function compile(template: string): RegExp {
  const escaped = template.split(/(\{[^}]+\})/).map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${escaped}$`);
}

function parseBody(req: RedfishRequest): JsonObject {
  const text = req.body.toString('utf8').trim();
  if (text === '') return {};
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new RedfishError(415, 'UnsupportedMediaType', `The request specifies a Content-Type '${type}' that is not supported; send application/json.`, [type]);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    throw new RedfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RedfishError(400, 'MalformedJSON', 'The request body must be one JSON object.');
  }
  return value;
}

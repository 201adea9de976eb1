/**
 * The fleet Redfish endpoint (README "Fleet Redfish endpoint"): every node's system, manager and
 * chassis under one service root, as `/redfish/v1/Systems/<node id>`, answered by proxying to the
 * node's own agent over HTTPS (its pinned certificate). Credentials are per node: a caller sees and
 * reaches only the nodes whose BMC user and password it holds (docs/security.md, "Fleet Redfish
 * endpoint"); no request goes to a node without them. Sessions are the fleet's own.
 */
import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Json, JsonObject, RedfishRequest, RedfishResponse } from '../../node-image/src/redfish/http-types';
import { methodNotAllowed, notFound, RedfishError, typeError } from '../../node-image/src/redfish/errors';
import { noContent, resourceResponse } from '../../node-image/src/redfish/router';
import { metadataXml } from '../../node-image/src/redfish/resources/service-root';
import { PrismaService } from '../database/prisma.service';
import { FleetIdentity } from '../nodes/fleet-context';
import { leasePortOrNull, type NodeWithLeases } from '../nodes/node.model';
import { messageOf } from '../common/errors/message-of';
import { basicAuthorization, callerAuthOf, credentialsMatch, type BmcCredentials } from './fleet-credentials';
import { fleetLocationOf, routeFleetPath, rewriteNodeBody, type FleetRoute, type NodeCollection } from './fleet-paths';
import { fleetServiceRoot, nodeCollection, odataServiceDocument, sessionCollection, sessionResource, sessionServiceResource } from './fleet-resources';
import { FleetSessions } from './fleet-sessions';
import { LoginLimiter } from '../common/auth/login-limiter';
import { CertificateNotReady, certificateOwnerOf, NodeCertificates, type FarmRuntime } from './node-certificates';
import { NodeRedfishClient, NodeRedfishUnreachable, type NodeHttpResponse } from './node-redfish-client';
import { HostAddresses } from '../nodes/host-addresses.service';

/** Request headers a node gets from the caller (credentials are the fleet's translation, never copied). */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'if-match', 'if-none-match', 'accept', 'odata-version', 'odata-maxversion'] as const;
/** Response headers the caller gets from the node (Location rewritten; X-Auth-Token never). */
const FORWARDED_RESPONSE_HEADERS: ReadonlyArray<[string, string]> = [
  ['etag', 'ETag'], ['allow', 'Allow'], ['www-authenticate', 'WWW-Authenticate'], ['retry-after', 'Retry-After'], ['link', 'Link'],
];
const NODE_METHODS = new Set(['GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'DELETE']);
const RETRY_AFTER_S = '5';

type Caller = { readonly credentials: BmcCredentials; readonly sessionId: string | null } | null;

function unavailable(message: string): RedfishError {
  return new RedfishError(503, 'ServiceTemporarilyUnavailable', message, [RETRY_AFTER_S], { 'Retry-After': RETRY_AFTER_S });
}

function unauthorized(path: string, reason: 'NoValidSession' | 'ResourceAtUriUnauthorized'): RedfishError {
  const message = reason === 'NoValidSession'
    ? `There is no valid session established with the implementation for '${path}'.`
    : `While accessing the resource at '${path}', the service received an authorization error: the credentials are not this node's BMC credentials.`;
  return new RedfishError(401, reason, message, reason === 'NoValidSession' ? [] : [path, 'unauthorized'], { 'WWW-Authenticate': 'Basic realm="Redfish"' });
}

function only(method: string, path: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) throw methodNotAllowed(method, path, allowed);
}

@Injectable()
export class FleetRedfishService {
  private readonly logger = new Logger('FleetRedfish');
  readonly sessions = new FleetSessions((bytes) => randomBytes(bytes));
  private readonly limiter = new LoginLimiter();

  constructor(
    private readonly prisma: PrismaService,
    private readonly fleet: FleetIdentity,
    private readonly certificates: NodeCertificates,
    private readonly client: NodeRedfishClient,
    private readonly addresses: HostAddresses,
  ) {}

  async handle(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    const route = routeFleetPath(req.path);
    const method = req.method.toUpperCase();
    if (route.kind === 'not-found') throw notFound(req.path);
    const open = this.openDocument(route.kind);
    if (open !== null) {
      only(method, req.path, ['GET', 'HEAD']);
      return open;
    }
    if (route.kind === 'sessions' && method === 'POST') return this.login(req, now);
    const caller = this.callerOf(req, now);
    switch (route.kind) {
      case 'sessions':
        only(method, req.path, ['GET', 'HEAD', 'POST']);
        return resourceResponse(sessionCollection(this.sessions.ofUser(this.required(caller, req.path).credentials.user, now).map((s) => s.id)));
      case 'session':
        return this.session(route.id, method, req.path, this.required(caller, req.path), now);
      case 'sessionService':
        this.required(caller, req.path);
        only(method, req.path, ['GET', 'HEAD']);
        return resourceResponse(sessionServiceResource(this.sessions.timeoutMs / 1000));
      case 'collection':
        only(method, req.path, ['GET', 'HEAD']);
        return resourceResponse(nodeCollection(route.collection, await this.visibleNodeIds(this.required(caller, req.path), req)));
      case 'node':
        return this.proxy(route, method, req, this.required(caller, req.path));
      default:
        throw notFound(req.path);
    }
  }

  /** The documents every client may read before it logs in (DSP0266 sections 9.2 and 13.3.1). */
  private openDocument(kind: FleetRoute['kind']): RedfishResponse | null {
    switch (kind) {
      case 'versions': return { status: 200, headers: {}, body: { v1: '/redfish/v1/' } };
      case 'root': return resourceResponse(fleetServiceRoot(this.fleet.fleetId));
      case 'odata': return { status: 200, headers: {}, body: odataServiceDocument() };
      case 'metadata': return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: metadataXml() };
      default: return null;
    }
  }

  /** POST to the Sessions collection: the credentials must be the BMC credentials of at least one node. */
  private async login(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}');
    } catch {
      throw new RedfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.');
    }
    const fields = (body ?? {}) as Record<string, unknown>;
    for (const name of ['UserName', 'Password']) {
      if (fields[name] === undefined) throw new RedfishError(400, 'PropertyMissing', `The property ${name} is a required property and must be included in the request.`, [name]);
      if (typeof fields[name] !== 'string') throw typeError(fields[name], name);
    }
    const credentials = { user: fields['UserName'] as string, password: fields['Password'] as string };
    this.refuseIfLocked(credentials, req);
    if ((await this.visibleNodeIds({ credentials, sessionId: null }, req, false)).length === 0) {
      this.refused(credentials, req, 'not the BMC credentials of any node');
    }
    this.limiter.succeeded(credentials.user, req.remote);
    const session = this.sessions.create(credentials, req.remote, now);
    if (session === undefined) throw new RedfishError(503, 'SessionLimitExceeded', 'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.');
    const location = `${req.path.replace(/\/$/, '')}/${session.id}`;
    return resourceResponse(sessionResource({ ...session, userName: credentials.user }), 201, { 'X-Auth-Token': session.token, Location: location });
  }

  private session(id: string, method: string, path: string, caller: NonNullable<Caller>, now: number): RedfishResponse {
    only(method, path, ['GET', 'HEAD', 'DELETE']);
    const session = this.sessions.get(id, now);
    // Another user's session does not exist for this caller.
    if (session === undefined || session.credentials.user !== caller.credentials.user) throw notFound(path);
    if (method === 'DELETE') {
      this.sessions.delete(id);
      return noContent();
    }
    return resourceResponse(sessionResource({ ...session, userName: session.credentials.user }));
  }

  private callerOf(req: RedfishRequest, now: number): Caller {
    const auth = callerAuthOf(req.headers);
    switch (auth.kind) {
      case 'none':
        return null;
      case 'malformed':
        throw unauthorized(req.path, 'NoValidSession');
      case 'basic':
        return { credentials: auth.credentials, sessionId: null };
      case 'token': {
        const session = this.sessions.authenticate(auth.token, now);
        if (session === undefined) throw unauthorized(req.path, 'NoValidSession');
        return { credentials: session.credentials, sessionId: session.id };
      }
    }
  }

  private required(caller: Caller, path: string): NonNullable<Caller> {
    if (caller === null) throw unauthorized(path, 'NoValidSession');
    return caller;
  }

  /** Nodes whose BMC credentials the caller holds; none at all is a 401 (unless only asked). */
  private async visibleNodeIds(caller: NonNullable<Caller>, req: RedfishRequest, refuseNone = true): Promise<string[]> {
    if (refuseNone) this.refuseIfLocked(caller.credentials, req);
    const rows = await this.prisma.node.findMany({ where: { state: { in: ['running', 'failed'] } }, select: { id: true, ipmiUser: true, ipmiPassword: true } });
    const ids = rows.filter((row) => credentialsMatch(caller.credentials, { user: row.ipmiUser, password: row.ipmiPassword })).map((row) => row.id);
    if (ids.length === 0 && refuseNone) this.refused(caller.credentials, req, 'not the BMC credentials of any node');
    if (ids.length > 0) this.limiter.succeeded(caller.credentials.user, req.remote);
    return ids;
  }

  /** A user name locked out from this address gets the same 401 as wrong credentials, unchecked. */
  private refuseIfLocked(credentials: BmcCredentials, req: RedfishRequest): void {
    if (this.limiter.isLocked(credentials.user, req.remote, Date.now())) throw unauthorized(req.path, 'ResourceAtUriUnauthorized');
  }

  private refused(credentials: BmcCredentials, req: RedfishRequest, why: string): never {
    this.limiter.failed(credentials.user, req.remote, Date.now());
    this.logger.warn(`fleet redfish login refused for user ${JSON.stringify(credentials.user)} from ${req.remote}: ${why}`);
    throw unauthorized(req.path, 'ResourceAtUriUnauthorized');
  }

  private async proxy(route: Extract<FleetRoute, { kind: 'node' }>, method: string, req: RedfishRequest, caller: NonNullable<Caller>): Promise<RedfishResponse> {
    const node = await this.prisma.node.findUnique({ where: { id: route.nodeId }, include: { leases: true, farm: { select: { runtimeRef: true, runtimeId: true } } } });
    if (node === null) throw notFound(req.path);
    this.refuseIfLocked(caller.credentials, req);
    if (!credentialsMatch(caller.credentials, { user: node.ipmiUser, password: node.ipmiPassword })) this.refused(caller.credentials, req, `not the BMC credentials of node ${node.name}`);
    this.limiter.succeeded(caller.credentials.user, req.remote);
    if (!NODE_METHODS.has(method)) throw methodNotAllowed(method, req.path, [...NODE_METHODS]);
    const port = this.usablePort(node);
    const headers: Record<string, string> = { Authorization: basicAuthorization(caller.credentials) };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const outgoing = { method, path: route.nodePath, headers, body: req.body };
    let answer: NodeHttpResponse;
    try {
      answer = await this.ask(node, port, outgoing);
    } catch (error) {
      if (error instanceof CertificateNotReady) throw unavailable(error.message);
      if (error instanceof NodeRedfishUnreachable) {
        this.logger.warn(`node ${node.name}: Redfish request ${method} ${route.nodePath} failed: ${error.message}`);
        throw unavailable(`The BMC of node ${node.name} does not answer on its Redfish port ${await this.addresses.of(node.host)}:${port} (${error.message}).`);
      }
      throw error;
    }
    return this.relay(answer, route.nodeId, node.name);
  }

  /** A certificate refusal forgets the pin and asks once more with the one read back now (the agent may have made a new one). */
  private async ask(node: NodeWithLeases & { farm: FarmRuntime | null }, port: number, outgoing: { method: string; path: string; headers: Record<string, string>; body: Buffer }): Promise<NodeHttpResponse> {
    const host = await this.addresses.of(node.host);
    const target = async () => ({ host, port, certificatePem: await this.certificates.pinned(certificateOwnerOf(node)) });
    try {
      return await this.client.request(await target(), outgoing);
    } catch (error) {
      if (!(error instanceof NodeRedfishUnreachable) || error.reason !== 'certificate') throw error;
      this.certificates.forget(node.id);
      return this.client.request(await target(), outgoing);
    }
  }

  private usablePort(node: NodeWithLeases): number {
    if (node.state === 'creating') throw unavailable(`Node ${node.name} is still being created.`);
    if (node.state === 'deleting') throw unavailable(`Node ${node.name} is being deleted.`);
    const port = leasePortOrNull(node, 'redfish');
    if (port === null) throw unavailable(`Node ${node.name} was made before Redfish ports: it gets one when its container is made anew (delete and create it again, keeping its disk).`);
    return port;
  }

  private relay(answer: NodeHttpResponse, nodeId: string, nodeName: string): RedfishResponse {
    const headers: Record<string, string> = {};
    for (const [name, shown] of FORWARDED_RESPONSE_HEADERS) {
      const value = answer.headers[name];
      if (value !== undefined) headers[shown] = value;
    }
    const location = answer.headers['location'];
    if (location !== undefined) headers['Location'] = fleetLocationOf(location, nodeId);
    if (answer.body.length === 0) return { status: answer.status, headers };
    const type = answer.headers['content-type'] ?? '';
    if (!/json/i.test(type)) return { status: answer.status, headers: { ...headers, 'Content-Type': type.replace(/;.*$/, '') || 'text/plain' }, body: answer.body.toString('utf8') };
    let body: Json;
    try {
      body = JSON.parse(answer.body.toString('utf8')) as Json;
    } catch (error) {
      throw new RedfishError(502, 'GeneralError', `Node ${nodeName} answered malformed JSON: ${messageOf(error)}.`);
    }
    return { status: answer.status, headers, body: rewriteNodeBody(body, nodeId) as JsonObject };
  }
}

export type { NodeCollection };

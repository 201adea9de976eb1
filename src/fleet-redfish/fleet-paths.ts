/**
 * The fleet Redfish endpoint's URIs (pure): which request path names which resource, and the
 * translation between a node's own URIs (one system, manager and chassis, each with Id "1": the
 * agent's node-image/src/redfish/resources/paths.ts) and the fleet's, where the node's id takes the
 * place of "1": `/redfish/v1/Systems/1/...` on a node is `/redfish/v1/Systems/<node id>/...` here.
 */
import type { Json } from '../../node-image/src/redfish/http-types';
import { CHASSIS_ID, MANAGER_ID, ROOT, SYSTEM_ID } from '../../node-image/src/redfish/resources/paths';

export { ROOT };
/** The collections whose members are the nodes' own resources. */
export const NODE_COLLECTIONS = ['Systems', 'Managers', 'Chassis'] as const;
export type NodeCollection = (typeof NODE_COLLECTIONS)[number];

/** The member id each node's agent uses in that collection. */
const AGENT_MEMBER_ID: Readonly<Record<NodeCollection, string>> = { Systems: SYSTEM_ID, Managers: MANAGER_ID, Chassis: CHASSIS_ID };

export const FLEET_PATHS = {
  versions: '/redfish',
  root: ROOT,
  odata: `${ROOT}/odata`,
  metadata: `${ROOT}/$metadata`,
  sessionService: `${ROOT}/SessionService`,
  sessions: `${ROOT}/SessionService/Sessions`,
} as const;

export type FleetRoute =
  | { readonly kind: 'versions' | 'root' | 'odata' | 'metadata' | 'sessionService' | 'sessions' }
  | { readonly kind: 'session'; readonly id: string }
  | { readonly kind: 'collection'; readonly collection: NodeCollection }
  /** A node's resource: `nodePath` is the same resource's path on the node's agent. */
  | { readonly kind: 'node'; readonly nodeId: string; readonly collection: NodeCollection; readonly nodePath: string }
  | { readonly kind: 'not-found' };

/** Node ids are the orchestrator's UUIDs; anything else names no node (and never reaches a query). */
const NODE_ID = /^[A-Za-z0-9-]{1,64}$/;
/** A path segment forwarded to a node: RFC 3986 unreserved characters and a few sub-delims Redfish uses. */
const SAFE_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;

function segmentsOf(path: string): string[] | null {
  if (!path.startsWith('/')) return null;
  // A trailing slash names the same resource, as on the agent.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const raw = trimmed.split('/').slice(1);
  const segments: string[] = [];
  for (const part of raw) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return null;
    }
    // Never "." or "..", never an encoded "/" or anything outside the safe set: such a path names nothing.
    if (decoded === '' || decoded === '.' || decoded === '..' || !SAFE_SEGMENT.test(decoded)) return null;
    segments.push(decoded);
  }
  return segments;
}

export function routeFleetPath(path: string): FleetRoute {
  const segments = segmentsOf(path);
  if (segments === null) return { kind: 'not-found' };
  const joined = `/${segments.join('/')}`;
  switch (joined) {
    case FLEET_PATHS.versions: return { kind: 'versions' };
    case FLEET_PATHS.root: return { kind: 'root' };
    case FLEET_PATHS.odata: return { kind: 'odata' };
    case FLEET_PATHS.metadata: return { kind: 'metadata' };
    case FLEET_PATHS.sessionService: return { kind: 'sessionService' };
    case FLEET_PATHS.sessions: return { kind: 'sessions' };
  }
  const [redfish, v1, top, id, ...rest] = segments;
  if (redfish !== 'redfish' || v1 !== 'v1' || top === undefined) return { kind: 'not-found' };
  if (top === 'SessionService' && id === 'Sessions' && rest.length === 1 && rest[0] !== undefined) return { kind: 'session', id: rest[0] };
  const collection = NODE_COLLECTIONS.find((name) => name === top);
  if (collection === undefined) return { kind: 'not-found' };
  if (id === undefined) return { kind: 'collection', collection };
  if (!NODE_ID.test(id)) return { kind: 'not-found' };
  const nodePath = [ROOT, collection, AGENT_MEMBER_ID[collection], ...rest.map(encodeURIComponent)].join('/');
  return { kind: 'node', nodeId: id, collection, nodePath };
}

/** The fleet URI of a node's resource: its own URI with the node's id for the member id. */
export function fleetUriOf(nodeUri: string, nodeId: string): string {
  for (const collection of NODE_COLLECTIONS) {
    const own = `${ROOT}/${collection}/${AGENT_MEMBER_ID[collection]}`;
    const within = nodeUri.startsWith(own) && (nodeUri.length === own.length || '/#?'.includes(nodeUri.charAt(own.length)));
    if (within) {
      return `${ROOT}/${collection}/${nodeId}${nodeUri.slice(own.length)}`;
    }
  }
  return nodeUri;
}

/** The path part of a Location header (absolute URL or path), mapped to the fleet. */
export function fleetLocationOf(location: string, nodeId: string): string {
  const path = location.replace(/^https?:\/\/[^/]+/i, '');
  return fleetUriOf(path, nodeId);
}

/**
 * A node's JSON body as the fleet serves it: every string that is one of the node's own URIs
 * (`@odata.id`, `target`, `@Redfish.ActionInfo`, Location-like values, …) names the fleet's URI
 * instead, and the `Id` of the node's system, manager or chassis itself becomes the node's id.
 */
export function rewriteNodeBody(body: Json, nodeId: string): Json {
  if (typeof body === 'string') return fleetUriOf(body, nodeId);
  if (Array.isArray(body)) return body.map((item) => rewriteNodeBody(item, nodeId));
  if (body === null || typeof body !== 'object') return body;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(body)) out[key] = rewriteNodeBody(value, nodeId);
  const ownId = body['@odata.id'];
  if (typeof ownId === 'string' && typeof body['Id'] === 'string') {
    const isMemberItself = NODE_COLLECTIONS.some((collection) => ownId === `${ROOT}/${collection}/${AGENT_MEMBER_ID[collection]}`);
    if (isMemberItself) out['Id'] = nodeId;
  }
  return out;
}

/**
 * Links a user asks for (pure): the compact text of the `links` query parameter and CLI option, and
 * the `endpoints` pairs of the JSON body, both into LinkRequest. Only the syntax is checked here; which
 * nodes and interfaces a link may use is the renderer's business (topology.ts).
 *
 * Compact syntax: links separated by ";", a link's two endpoints by ",", an endpoint is node:interface
 * (split at the first ":", as containerlab does). White space around each part is ignored, and so is
 * an empty link (a trailing ";"):
 *
 *   node1:eth1,switch:eth1;node2:eth1,switch:eth2
 */
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';

export interface LinkEndpointRef {
  /** A fleet node's API name or container name, or a node the user adds to the lab themselves. */
  readonly node: string;
  readonly interface: string;
}

export interface LinkRequest {
  readonly endpoints: readonly [LinkEndpointRef, LinkEndpointRef];
}

export const LINK_SEPARATOR = ';';
export const ENDPOINT_SEPARATOR = ',';
export const NODE_INTERFACE_SEPARATOR = ':';
export const LINKS_EXAMPLE = 'node1:eth1,switch:eth1;node2:eth1,switch:eth2';
export const LINKS_SYNTAX = `links separated by "${LINK_SEPARATOR}", each two endpoints node:interface separated by "${ENDPOINT_SEPARATOR}", e.g. ${LINKS_EXAMPLE}`;
const ENDPOINTS_PER_LINK = 2;

/** "node:interface" → its parts; `where` names the link in the message (e.g. 'link 2'). */
export function parseEndpoint(text: string, where: string): LinkEndpointRef {
  const trimmed = text.trim();
  const at = trimmed.indexOf(NODE_INTERFACE_SEPARATOR);
  const node = at < 0 ? '' : trimmed.slice(0, at).trim();
  const iface = at < 0 ? '' : trimmed.slice(at + 1).trim();
  if (node.length === 0 || iface.length === 0) {
    throw new ContainerlabError(ContainerlabErrorCode.InvalidLink, `${where}: endpoint "${trimmed}" must be node${NODE_INTERFACE_SEPARATOR}interface, e.g. node1:eth1`);
  }
  return { node, interface: iface };
}

/** Two endpoint strings (the JSON body's `endpoints`) → a link. */
export function linkFromEndpoints(endpoints: readonly string[], where: string): LinkRequest {
  if (endpoints.length !== ENDPOINTS_PER_LINK) {
    throw new ContainerlabError(ContainerlabErrorCode.InvalidLink, `${where}: a link has exactly ${ENDPOINTS_PER_LINK} endpoints, got ${endpoints.length}`);
  }
  const [a, b] = endpoints as readonly [string, string];
  return { endpoints: [parseEndpoint(a, where), parseEndpoint(b, where)] };
}

/** The compact text → links, in the order given. */
export function parseLinks(text: string): LinkRequest[] {
  const links: LinkRequest[] = [];
  text.split(LINK_SEPARATOR).forEach((part, index) => {
    if (part.trim().length === 0) return;
    const where = `link ${index + 1} ("${part.trim()}")`;
    const endpoints = part.split(ENDPOINT_SEPARATOR);
    if (endpoints.length !== ENDPOINTS_PER_LINK) {
      throw new ContainerlabError(ContainerlabErrorCode.InvalidLink, `${where}: a link is two endpoints separated by "${ENDPOINT_SEPARATOR}"; links: ${LINKS_SYNTAX}`);
    }
    links.push(linkFromEndpoints(endpoints, where));
  });
  return links;
}

/** Links → the compact text (what a client puts in the `links` query parameter). */
export function formatLinks(links: readonly LinkRequest[]): string {
  return links
    .map((link) => link.endpoints.map((e) => `${e.node}${NODE_INTERFACE_SEPARATOR}${e.interface}`).join(ENDPOINT_SEPARATOR))
    .join(LINK_SEPARATOR);
}

/**
 * The HTTP request a client (the CLI) sends for a topology (pure): GET with a query string, or the
 * same options as a JSON POST body when the links would make the query too long. The links text is
 * parsed here first, so a malformed one is refused with the server's own message before any request.
 */
import { CONTAINERLAB_TOPOLOGY_PATH } from './containerlab.paths';
import type { TopologyFormat } from './dto/topology-options';
import { formatLinks, parseLinks } from './links';
import type { TopologyMode } from './topology-nodes';

export interface TopologyClientOptions {
  readonly nodes?: readonly string[];
  readonly mode?: TopologyMode;
  /** Lab name; default (server side): the fleet name. */
  readonly name?: string;
  /** The compact links text: node1:eth1,switch:eth1;node2:eth1,switch:eth2 */
  readonly links?: string;
  readonly format?: TopologyFormat;
}

export interface TopologyRequestBody {
  readonly nodes?: string[];
  readonly mode?: TopologyMode;
  readonly name?: string;
  readonly links?: Array<{ endpoints: [string, string] }>;
  readonly format?: TopologyFormat;
}

/** Longer URLs go as POST: well inside Node's 16 KiB limit on request headers, and the server's on links. */
export const MAX_GET_PATH_LENGTH = 8192;

export type TopologyHttpRequest =
  | { readonly method: 'GET'; readonly path: string }
  | { readonly method: 'POST'; readonly path: string; readonly body: TopologyRequestBody };

/** Throws ContainerlabError (code InvalidLink) for a malformed links text. */
export function topologyHttpRequest(options: TopologyClientOptions): TopologyHttpRequest {
  const links = options.links === undefined ? [] : parseLinks(options.links);
  const query = new URLSearchParams();
  if (options.nodes !== undefined && options.nodes.length > 0) query.set('nodes', options.nodes.join(','));
  if (options.mode !== undefined) query.set('mode', options.mode);
  if (options.name !== undefined) query.set('name', options.name);
  if (links.length > 0) query.set('links', formatLinks(links));
  if (options.format !== undefined) query.set('format', options.format);
  const text = query.toString();
  const path = text.length > 0 ? `${CONTAINERLAB_TOPOLOGY_PATH}?${text}` : CONTAINERLAB_TOPOLOGY_PATH;
  if (path.length <= MAX_GET_PATH_LENGTH) return { method: 'GET', path };
  return {
    method: 'POST',
    path: CONTAINERLAB_TOPOLOGY_PATH,
    body: {
      ...(options.nodes === undefined || options.nodes.length === 0 ? {} : { nodes: [...options.nodes] }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.name === undefined ? {} : { name: options.name }),
      links: links.map((link) => ({ endpoints: [`${link.endpoints[0].node}:${link.endpoints[0].interface}`, `${link.endpoints[1].node}:${link.endpoints[1].interface}`] })),
      ...(options.format === undefined ? {} : { format: options.format }),
    },
  };
}

/**
 * Where the orchestrator reaches a node's agent over HTTPS (its Redfish service and host consoles),
 * in one place (pure):
 * - a node with a leased Redfish port: that port on PUBLISH_ADDRESS (published on the same port
 *   inside and out);
 * - otherwise the runtime node's address on its default network (else its first), on the agent's
 *   REDFISH_PORT (443 when unset). The orchestrator must be able to route there (it does on the
 *   Docker host).
 * The agent's certificate is pinned: it is read through the runtime from the node (REDFISH_TLS_CERT,
 * or redfish-cert.pem in BMC_STATE_DIR) and only that certificate is accepted.
 */
import type { ObservedNode } from '../runtime/node-runtime';

export const AGENT_DEFAULT_HTTPS_PORT = 443;
export const AGENT_DEFAULT_STATE_DIR = '/vm/bmc';
export const AGENT_CERT_FILE = 'redfish-cert.pem';
/** The lease kind of a node's published Redfish port. */
export const REDFISH_LEASE_KIND = 'redfish';

export interface AgentEndpoint {
  readonly host: string;
  readonly port: number;
}

export type AgentEndpointResult = { readonly ok: true; readonly endpoint: AgentEndpoint } | { readonly ok: false; readonly problem: string };

export function agentEndpointOf(node: { readonly name: string; readonly leases: readonly { readonly kind: string; readonly port: number }[] }, container: ObservedNode | null, publishAddress: string): AgentEndpointResult {
  const lease = node.leases.find((l) => l.kind === REDFISH_LEASE_KIND);
  if (lease !== undefined) return { ok: true, endpoint: { host: publishAddress, port: lease.port } };
  if (container === null) return { ok: false, problem: `node ${node.name} has no container` };
  if (container.state !== 'running') return { ok: false, problem: `the container of node ${node.name} is ${container.state}` };
  const portText = container.env['REDFISH_PORT'];
  if (portText === 'none') return { ok: false, problem: `the BMC of node ${node.name} runs without its HTTPS service (REDFISH_PORT=none)` };
  const port = portText === undefined || portText === '' ? AGENT_DEFAULT_HTTPS_PORT : Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return { ok: false, problem: `node ${node.name} has an unusable REDFISH_PORT=${portText}` };
  const host = container.address ?? Object.values(container.addresses)[0];
  if (host === undefined) return { ok: false, problem: `the container of node ${node.name} has no network address` };
  return { ok: true, endpoint: { host, port } };
}

/** Where the agent's certificate is inside its container. */
export function agentCertificatePath(env: Readonly<Record<string, string>>): string {
  const file = env['REDFISH_TLS_CERT'];
  if (file !== undefined && file !== '') return file;
  return `${(env['BMC_STATE_DIR'] || AGENT_DEFAULT_STATE_DIR).replace(/\/+$/, '')}/${AGENT_CERT_FILE}`;
}

/**
 * The orchestrator's HTTPS door to a node's agent, for the consoles: finds the agent
 * (agent-endpoint.ts), pins its certificate (read through the node's runtime, cached per instance
 * and certificate, read again once when the TLS handshake fails) and authenticates with the node's
 * stored BMC credentials, which never leave the orchestrator. The only file of the orchestrator that
 * opens connections to agents over HTTPS.
 */
import { Injectable, Logger } from '@nestjs/common';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import WebSocket from 'ws';
import { HostAddresses } from '../nodes/host-addresses.service';
import { NodeRuntime } from '../runtime/node-runtime';
import type { NodeWithLeases } from '../nodes/node.model';
import { agentCertificatePath, agentEndpointOf, type AgentEndpoint } from './agent-endpoint';

/** A certificate larger than this is no agent's. */
const MAX_CERT_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;

export class AgentUnavailableError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'AgentUnavailableError';
  }
}

interface Pinned {
  readonly endpoint: AgentEndpoint;
  readonly ca: string;
  readonly fingerprint256: string;
}

export interface AgentResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** The message of a Redfish error body, or the body's text. */
export function agentErrorMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

@Injectable()
export class NodeAgents {
  private readonly logger = new Logger('NodeAgents');
  /** runtime id + certificate path → certificate PEM. */
  private readonly certificates = new Map<string, string>();

  constructor(private readonly runtime: NodeRuntime, private readonly addresses: HostAddresses) {}

  /** Opens a WebSocket to the agent's `path` (/console0, /kvm/0). */
  async openWebSocket(node: NodeWithLeases, path: string): Promise<WebSocket> {
    return this.withPinnedRetry(node, async (pin) => {
      const ws = new WebSocket(`wss://${hostPart(pin.endpoint.host)}:${pin.endpoint.port}${path}`, {
        headers: { Authorization: basic(node) },
        ...tlsOptions(pin),
        handshakeTimeout: CONNECT_TIMEOUT_MS,
        perMessageDeflate: false,
      });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(new AgentUnavailableError(agentErrorMessage(Buffer.concat(chunks)), res.statusCode ?? 502)));
          res.on('error', () => reject(new AgentUnavailableError('the BMC answered the console request and broke off', 502)));
        });
        ws.once('error', (err) => reject(err));
      });
    });
  }

  /** GET `path` from the agent; any status comes back (the caller maps it). */
  async get(node: NodeWithLeases, path: string): Promise<AgentResponse> {
    return this.withPinnedRetry(node, (pin) => new Promise<AgentResponse>((resolve, reject) => {
      const req = request({
        host: pin.endpoint.host, port: pin.endpoint.port, path, method: 'GET', agent: false, timeout: REQUEST_TIMEOUT_MS,
        headers: { Authorization: basic(node), Accept: '*/*' }, ...tlsOptions(pin),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    }));
  }

  /** Runs `call` with the pinned certificate; on a TLS failure reads the certificate again once. */
  private async withPinnedRetry<T>(node: NodeWithLeases, call: (pin: Pinned) => Promise<T>): Promise<T> {
    let pin = await this.pin(node, false);
    try {
      return await call(pin);
    } catch (error) {
      if (error instanceof AgentUnavailableError) throw error;
      if (!isTlsFailure(error)) throw new AgentUnavailableError(`cannot reach the BMC of node ${node.name} at ${pin.endpoint.host}:${pin.endpoint.port}: ${messageOf(error)}`, 502);
      // A re-created container has a new certificate: read it again (once).
      pin = await this.pin(node, true);
      try {
        return await call(pin);
      } catch (again) {
        if (again instanceof AgentUnavailableError) throw again;
        throw new AgentUnavailableError(`the BMC of node ${node.name} at ${pin.endpoint.host}:${pin.endpoint.port} failed the TLS check against its pinned certificate: ${messageOf(again)}`, 502);
      }
    }
  }

  private async pin(node: NodeWithLeases, fresh: boolean): Promise<Pinned> {
    const container = await this.runtime.observe(node.runtimeRef).catch((error: unknown) => {
      throw new AgentUnavailableError(`cannot inspect the container of node ${node.name}: ${messageOf(error)}`, 502);
    });
    if (container !== null && container.nodeId !== null && container.nodeId !== node.id) {
      throw new AgentUnavailableError(`the container ${node.runtimeRef} is not node ${node.name}'s`, 502);
    }
    const found = agentEndpointOf(node, container, await this.addresses.of(node.host));
    if (!found.ok) throw new AgentUnavailableError(found.problem, 503);
    if (container === null) throw new AgentUnavailableError(`node ${node.name} has no container`, 503);
    const path = agentCertificatePath(container.env);
    const key = `${container.runtimeId}:${path}`;
    let pem = fresh ? undefined : this.certificates.get(key);
    if (pem === undefined) {
      const file = await this.runtime.readFile(container.ref, path, MAX_CERT_BYTES).catch((error: unknown) => {
        throw new AgentUnavailableError(`cannot read the BMC certificate of node ${node.name}: ${messageOf(error)}`, 502);
      });
      if (file === null) throw new AgentUnavailableError(`the BMC of node ${node.name} has no certificate at ${path} yet (is it still starting?)`, 503);
      pem = file.toString('utf8');
      this.certificates.set(key, pem);
      this.logger.debug(`pinned the BMC certificate of node ${node.name} (instance ${container.runtimeId.slice(0, 12)})`);
    }
    let fingerprint256: string;
    try {
      fingerprint256 = new X509Certificate(pem).fingerprint256;
    } catch (error) {
      this.certificates.delete(key);
      throw new AgentUnavailableError(`the BMC certificate of node ${node.name} (${path}) is not a PEM certificate: ${messageOf(error)}`, 502);
    }
    return { endpoint: found.endpoint, ca: pem, fingerprint256 };
  }
}

/**
 * Trust exactly the pinned certificate: it is the only CA, and the peer's certificate must be it
 * (its SHA-256 fingerprint); the name check is replaced by the pin, since the address used (the
 * container's, or PUBLISH_ADDRESS) need not be among the certificate's names.
 */
function tlsOptions(pin: Pinned): { ca: string; checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined; minVersion: 'TLSv1.2' } {
  return {
    ca: pin.ca,
    minVersion: 'TLSv1.2',
    checkServerIdentity: (_host, cert) => (cert.fingerprint256 === pin.fingerprint256 ? undefined : new Error(`certificate ${cert.fingerprint256} is not the pinned ${pin.fingerprint256}`)),
  };
}

function isTlsFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/.test(code) || /certificate|pinned/i.test(messageOf(error));
}

function basic(node: NodeWithLeases): string {
  return `Basic ${Buffer.from(`${node.ipmiUser}:${node.ipmiPassword}`).toString('base64')}`;
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

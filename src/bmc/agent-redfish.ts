/**
 * The orchestrator's door to a node agent's Redfish service (HTTPS on the node's leased Redfish
 * port), for what IPMI cannot do (virtual media). The agent's self-signed certificate is pinned: only
 * the certificate read from the node's own container is accepted (host name checks do not apply to a
 * pinned self-signed certificate reached at 127.0.0.1). Basic authentication with the node's stored
 * BMC credentials; they never reach the browser.
 */
import { Injectable } from '@nestjs/common';
import { request } from 'node:https';

export interface AgentRedfishTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The agent's certificate (PEM). */
  readonly certificate: Buffer;
}

export interface RedfishAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The agent did not answer (connection refused, TLS failure, timeout). */
export class AgentUnreachableError extends Error {
  override readonly name = 'AgentUnreachableError';
}

export abstract class AgentRedfish {
  abstract call(target: AgentRedfishTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<RedfishAnswer>;
}

const TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 1 << 20;

@Injectable()
export class HttpsAgentRedfish extends AgentRedfish {
  call(target: AgentRedfishTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<RedfishAnswer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.host,
          port: target.port,
          path,
          method,
          ca: target.certificate,
          checkServerIdentity: () => undefined,
          auth: `${target.user}:${target.password}`,
          timeout: TIMEOUT_MS,
          headers: { Accept: 'application/json', ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': payload.length }) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          });
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              parsed = text;
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
          response.on('error', (error) => reject(new AgentUnreachableError(error.message)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (error) => reject(new AgentUnreachableError(`Redfish service at ${target.host}:${target.port}: ${error.message}`)));
      req.end(payload);
    });
  }
}

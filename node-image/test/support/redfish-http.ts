/**
 * A small HTTPS client for the agent's Redfish service in tests: certificate verified against the
 * agent's own (generated) certificate, JSON in and out, every call bounded in time.
 */
import { request } from 'node:https';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from './agent-process';

export interface RedfishReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON (undefined when the body is not JSON), read freely by the assertions. */
  readonly body: any;
  readonly text: string;
}

export interface RedfishAgent {
  readonly agent: RunningAgent;
  readonly redfishPort: number;
  /** The agent's certificate (PEM), the CA clients verify against. */
  readonly caFile: string;
  readonly ca: string;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Starts the agent (MACHINE=sim) with its Redfish service on a free port; waits until it listens. */
export async function startRedfishAgent(env: Record<string, string> = {}): Promise<RedfishAgent> {
  const redfishPort = await freeTcpPort();
  const agent = await startAgent({ REDFISH_PORT: String(redfishPort), ...env });
  const started = Date.now();
  while (!agent.output().includes('"Redfish listening"')) {
    if (agent.process.exitCode !== null || Date.now() - started > 15_000) {
      await agent.stop();
      throw new Error(`the Redfish service did not start:\n${agent.output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const caFile = join(agent.stateDir, 'redfish-cert.pem');
  return { agent, redfishPort, caFile, ca: readFileSync(caFile, 'utf8') };
}

export interface CallOptions {
  readonly auth?: { readonly user: string; readonly password: string } | { readonly token: string };
  readonly body?: unknown;
  /** Sent as it is (for malformed bodies). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

/** A Redfish service to call: its port on 127.0.0.1 and the certificate (PEM) it must present. */
export type RedfishEndpoint = Pick<RedfishAgent, 'redfishPort' | 'ca'>;

export function redfishCall(rf: RedfishEndpoint, method: string, path: string, opts: CallOptions = {}): Promise<RedfishReply> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (payload !== undefined) { headers['Content-Type'] ??= 'application/json'; headers['Content-Length'] = String(Buffer.byteLength(payload)); }
  if (opts.auth && 'token' in opts.auth) headers['X-Auth-Token'] = opts.auth.token;
  else if (opts.auth) headers.Authorization = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    // A connection per call: a kept-alive socket the server closed while the test was busy would fail the next call.
    const req = request({ host: '127.0.0.1', port: rf.redfishPort, method, path, headers, ca: rf.ca, timeout: 20_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 20 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

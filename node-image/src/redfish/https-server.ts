/**
 * The Redfish transport: the one place that opens the HTTPS socket. TLS always (1.2 or later);
 * plain HTTP to this port fails the TLS handshake and gets nothing. It reads the request (at most
 * MAX_BODY_BYTES), hands it to the service, and writes the answer with the headers every Redfish
 * response carries (DSP0266 section 8.2: OData-Version; JSON with a charset).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../util/logger';
import type { RedfishRequest, RedfishResponse } from './http-types';
import { RedfishError } from './errors';
import type { TlsMaterial } from './tls-certificate';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface RedfishServerOptions {
  readonly address: string;
  readonly port: number;
  readonly tls: TlsMaterial;
  readonly handle: (req: RedfishRequest, now: number) => Promise<RedfishResponse>;
  readonly clock: () => number;
  readonly log: Logger;
  /** The host consoles on the same port: WebSocket upgrades, and plain requests they answer (returns true). */
  readonly consoles?: {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
    handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  };
}

export interface RunningRedfishServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'OData-Version': '4.0',
  'Cache-Control': 'no-store',
  'Strict-Transport-Security': 'max-age=31536000',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
};

export async function startRedfishServer(o: RedfishServerOptions): Promise<RunningRedfishServer> {
  const server: Server = createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    if (o.consoles?.handleRequest(req, res)) return;
    void serve(req, res, o);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (o.consoles) o.consoles.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  server.on('tlsClientError', (err) => o.log.debug('redfish TLS handshake failed', { error: err.message }));
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => { server.off('error', reject); resolve(); });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, o: RedfishServerOptions): Promise<void> {
  let response: RedfishResponse;
  try {
    // No Content-Length and no Transfer-Encoding: the request has no body (RFC 9112 section 6.3).
    const body = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined ? noBody(req) : await readBody(req);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    response = await o.handle({
      method: req.method ?? 'GET',
      path: q >= 0 ? url.slice(0, q) : url,
      ...(q >= 0 ? { query: url.slice(q + 1) } : {}),
      headers: req.headers as Record<string, string | undefined>,
      body,
      remote: req.socket.remoteAddress ?? '',
    }, o.clock());
  } catch (err) {
    const e = err instanceof RedfishError ? err : new RedfishError(500, 'GeneralError', 'A general error has occurred.');
    if (!(err instanceof RedfishError)) o.log.error('redfish request failed', { error: String(err) });
    response = { status: e.status, headers: { ...e.headers, Connection: 'close' }, body: e.body() };
  }
  write(res, req.method === 'HEAD', response);
}

function write(res: ServerResponse, head: boolean, r: RedfishResponse): void {
  if (res.headersSent || res.destroyed) return;
  if (r.stream && !head) { writeStream(res, r); return; }
  const { headers, text } = prepared(r);
  res.writeHead(r.status, headers);
  // A string, not a Buffer: Node.js sends the headers and a string body in one write (one TLS record).
  if (head || text === undefined) res.end();
  else res.end(text, 'utf8');
}

interface Prepared {
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string | undefined;
}

/**
 * The headers and body text of responses still referenced: a resource answered again unchanged is
 * the same response object (answer-memo.ts, router.ts), and goes out without being serialized
 * again. Responses are never modified once made; Node.js only reads the headers object it is given.
 */
const preparedResponses = new WeakMap<RedfishResponse, Prepared>();

function prepared(r: RedfishResponse): Prepared {
  let p = preparedResponses.get(r);
  if (!p) {
    p = prepare(r);
    preparedResponses.set(r, p);
  }
  return p;
}

function prepare(r: RedfishResponse): Prepared {
  const isText = typeof r.body === 'string';
  const text = r.body === undefined ? undefined : isText ? r.body as string : JSON.stringify(r.body);
  const headers: Record<string, string> = { ...COMMON_HEADERS };
  if (text !== undefined) {
    headers['Content-Type'] = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    headers['Content-Length'] = String(Buffer.byteLength(text));
  }
  for (const [k, v] of Object.entries(r.headers)) headers[k] = k === 'Content-Type' && isText ? `${v}; charset=utf-8` : v;
  return { headers, text };
}

const NO_BODY = Buffer.alloc(0);

function noBody(req: IncomingMessage): Buffer {
  req.resume();
  return NO_BODY;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = (): RedfishError => new RedfishError(413, 'RequestBodyTooLarge', `The request body is larger than the limit of ${MAX_BODY_BYTES} bytes.`, [String(MAX_BODY_BYTES)]);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { req.removeAllListeners('data'); req.resume(); reject(tooLarge()); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Bytes a streamed response may have waiting for a slow client before the stream is ended. */
export const MAX_STREAM_BACKLOG_BYTES = 256 * 1024;

function writeStream(res: ServerResponse, r: RedfishResponse): void {
  res.writeHead(r.status, { ...COMMON_HEADERS, ...r.headers });
  res.flushHeaders();
  let ended = false;
  const end = (): void => { if (!ended) { ended = true; res.end(); } };
  const write = (chunk: string): boolean => {
    if (ended || res.destroyed || res.writableLength > MAX_STREAM_BACKLOG_BYTES) return false;
    res.write(chunk);
    return true;
  };
  const stop = r.stream!.open(write, end);
  res.on('close', () => { ended = true; stop(); });
}

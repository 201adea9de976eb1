/**
 * A WebSocket client of the host consoles for tests (the `ws` package, as the orchestrator uses it):
 * collects what arrives, waits for text with a bounded wait, reports the close code and reason, and
 * the HTTP status of a refused upgrade.
 */
import WebSocket from 'ws';

export interface ConsoleClient {
  readonly ws: WebSocket;
  /** Everything received so far (binary frames, concatenated). */
  received(): Buffer;
  /** Resolves once the received bytes contain `text` (latin1), or rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the connection closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(data: string | Buffer): void;
  close(): void;
}

export interface ConsoleTarget {
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** PEM of the server certificate to trust (wss). */
  readonly ca?: string;
}

export function basicAuth(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Opens a console; rejects with the HTTP status and body when the upgrade is refused. */
export function openConsole(target: ConsoleTarget, timeoutMs = 20_000): Promise<ConsoleClient> {
  const ws = new WebSocket(target.url, { headers: target.headers ?? {}, ...(target.ca ? { ca: target.ca } : {}), handshakeTimeout: timeoutMs });
  const chunks: Buffer[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer) => { chunks.push(Buffer.from(data)); for (const w of [...waiters]) w(); });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code: number, reason: Buffer) => { resolve({ code, reason: reason.toString('utf8') }); for (const w of [...waiters]) w(); });
  });
  const client: ConsoleClient = {
    ws,
    received: () => Buffer.concat(chunks),
    waitFor: (text, ms = 60_000) => new Promise<void>((resolve, reject) => {
      const matches = (): boolean => { const s = Buffer.concat(chunks).toString('latin1'); return typeof text === 'string' ? s.includes(text) : text.test(s); };
      if (matches()) { resolve(); return; }
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`console: ${String(text)} did not arrive within ${ms} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(-2000))}`)); }, ms);
      const check = (): void => { if (matches()) { clearTimeout(timer); waiters.delete(check); resolve(); } };
      waiters.add(check);
    }),
    closed,
    send: (data) => ws.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true }),
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      const body: Buffer[] = [];
      res.on('data', (c: Buffer) => body.push(c));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(body).toString('utf8'), headers: res.headers })));
    });
    ws.once('error', reject);
  });
}

/** The HTTP status (and body) a refused upgrade answers; fails when the upgrade succeeds. */
export async function refusedUpgrade(target: ConsoleTarget): Promise<{ status: number; body: string }> {
  try {
    const c = await openConsole(target);
    c.close();
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status !== undefined) return { status: e.status, body: e.body ?? '' };
    throw err;
  }
  throw new Error(`the upgrade to ${target.url} was accepted`);
}

/**
 * A static HTTP server for tests: serves files by name with byte ranges (what QEMU's curl block
 * driver needs), answers 404 for anything else, and counts the bytes it sent (to show an image is
 * read in place, not downloaded whole). With `tls` (a certificate and its key) it serves https.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RangeFileServer {
  readonly url: (name: string) => string;
  readonly bytesSent: () => number;
  readonly close: () => Promise<void>;
}

export async function startRangeFileServer(files: Record<string, string>, host = '127.0.0.1', tls?: { cert: string; key: string }): Promise<RangeFileServer> {
  let sent = 0;
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const path = files[(req.url ?? '').replace(/^\//, '')];
    if (path === undefined) { res.writeHead(404, 'Not Found'); res.end(); return; }
    const size = statSync(path).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(range ? 206 : 200, {
      'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1,
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') { res.end(); return; }
    sent += end - start + 1;
    createReadStream(path, { start, end }).pipe(res);
  };
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, serve) : createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `${tls ? 'https' : 'http'}://${host}:${port}/${name}`,
    bytesSent: () => sent,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

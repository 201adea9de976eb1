/**
 * One HTTP request over a Unix socket, as the control CLIs (fault-ctl, farm-ctl) make them: the
 * answer's status and text, or an error when nothing answers within `timeoutMs`.
 */
import { request } from 'node:http';

export function unixSocketRequest(
  socketPath: string, method: string, url: string, body: string | undefined, opts: { timeoutMs: number; what: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: url, headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer from the ${opts.what} in ${opts.timeoutMs / 1000} s`)));
    req.end(body);
  });
}

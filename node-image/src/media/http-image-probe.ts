/**
 * The one place the agent reads an image URL itself: a HEAD request (RFC 9110 section 9.3.2) with a
 * time limit, before the machine is given the URL. It asks what QEMU's curl block driver needs: a
 * 2xx answer, the size (Content-Length) and byte ranges (`Accept-Ranges: bytes`, RFC 9110 section
 * 14.3), since the machine reads the image by ranges and never downloads it whole. Redirects are not
 * followed (the machine does not follow them either). The image server's certificate is not checked,
 * as the machine does not check it (the usual practice of BMCs for virtual media).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ImageProbe, ProbeResult } from '../core/virtual-media';

export class HttpImageProbe implements ImageProbe {
  probe(url: URL, timeoutMs: number): Promise<ProbeResult> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (result: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.destroy();
        resolve(result);
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, { method: 'HEAD', rejectUnauthorized: false, headers: { 'User-Agent': 'bmcfleet-bmc' } }, (res) => {
        res.resume();
        finish(judge(res));
      });
      const timer = setTimeout(() => finish({ ok: false, reason: 'unreachable', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: 'unreachable', message: `cannot reach the image server: ${err.code ?? err.message}` }));
      req.end();
    });
  }
}

/** What a HEAD answer says about an image the machine is to read by ranges. Pure. */
export function judge(res: Pick<IncomingMessage, 'statusCode' | 'statusMessage' | 'headers'>): ProbeResult {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    const where = status >= 300 && status < 400 && res.headers.location ? ` (redirect to ${res.headers.location}, not followed)` : '';
    return { ok: false, reason: 'refused', message: `the image server answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${where}` };
  }
  const ranges = res.headers['accept-ranges'];
  if (ranges === undefined || !/\bbytes\b/i.test(ranges)) {
    return { ok: false, reason: 'refused', message: 'the image server does not serve byte ranges (no "Accept-Ranges: bytes"), which reading the image in place needs' };
  }
  const length = Number(res.headers['content-length']);
  if (res.headers['content-length'] === undefined || !Number.isSafeInteger(length)) {
    return { ok: false, reason: 'refused', message: 'the image server gives no Content-Length for the image' };
  }
  if (length === 0) return { ok: false, reason: 'refused', message: 'the image is empty (Content-Length 0)' };
  return { ok: true, sizeBytes: length };
}

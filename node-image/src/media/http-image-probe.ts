/**
 * The one place the agent reads an image URL itself: a HEAD request (RFC 9110 section 9.3.2) with a
 * time limit, before the machine is given the URL. It asks what QEMU's curl block driver needs: a
 * 2xx answer, the size (Content-Length) and byte ranges (`Accept-Ranges: bytes`, RFC 9110 section
 * 14.3), since the machine reads the image by ranges and never downloads it whole. Redirects are not
 * followed (the machine does not follow them either).
 *
 * An https server's certificate is checked only when asked (the slot's VerifyCertificate; by default
 * BMCs do not check it for virtual media): its chain and its name (RFC 9110 section 4.3.4) against
 * the given certificates, or else against Node's CA store together with the system's
 * (tls.getCACertificates 'default' and 'system'). A failure is 'untrusted', naming OpenSSL's reason.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as nodeTls from 'node:tls';
import type { ImageProbe, ProbeResult, ProbeTls } from '../core/virtual-media';

/** OpenSSL verification errors (Node's err.code) that mean "certificate not trusted". */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH', 'CERT_REVOKED', 'INVALID_PURPOSE',
]);

/** tls.getCACertificates (Node 22.15 / 23.10 on), which the project's @types/node does not declare yet. */
const getCACertificates = (nodeTls as unknown as { getCACertificates: (kind: 'default' | 'system') => string[] }).getCACertificates;

/** The CA certificates for a verifying request. */
function trustAnchors(tls: ProbeTls): string[] | undefined {
  if (!tls.verify) return undefined;
  return tls.ca !== undefined ? [...tls.ca] : [...getCACertificates('default'), ...getCACertificates('system')];
}

export class HttpImageProbe implements ImageProbe {
  probe(url: URL, timeoutMs: number, tls: ProbeTls = { verify: false }): Promise<ProbeResult> {
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
      const ca = trustAnchors(tls);
      // agent: false, so a connection checked one way is never reused for a request checked another way.
      const req = send(url, { method: 'HEAD', agent: false, rejectUnauthorized: tls.verify, ...(ca ? { ca } : {}), headers: { 'User-Agent': 'bmcfleet-bmc' } }, (res) => {
        res.resume();
        finish(judge(res));
      });
      const timer = setTimeout(() => finish({ ok: false, reason: 'unreachable', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (tls.verify && err.code !== undefined && UNTRUSTED_CODES.has(err.code)) {
          const against = tls.ca !== undefined ? `the slot's ${tls.ca.length} certificate(s)` : "the system's CA store";
          finish({ ok: false, reason: 'untrusted', message: `the image server's certificate is not trusted by ${against}: ${err.code} (${err.message})` });
          return;
        }
        finish({ ok: false, reason: 'unreachable', message: `cannot reach the image server: ${err.code ?? err.message}` });
      });
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

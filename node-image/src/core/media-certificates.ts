/**
 * The certificates a virtual media slot trusts for its https image server (DSP0268 VirtualMedia
 * v1_4_0+ `Certificates`, a CertificateCollection; each member a Certificate, DSP0268 Certificate).
 * With `VerifyCertificate` true, the image server's certificate chain must lead to one of them (a CA,
 * or the server's own self-signed certificate); with none, to the system's CA store.
 *
 * Only PEM is accepted (`CertificateType` PEM: one certificate; PEMchain: one or more); the text kept
 * is the certificates re-encoded, so nothing else given with them (keys, comments) is stored.
 */
import { X509Certificate } from 'node:crypto';

export type MediaCertificateType = 'PEM' | 'PEMchain';
export const MEDIA_CERTIFICATE_TYPES: readonly MediaCertificateType[] = ['PEM', 'PEMchain'];
/** Certificates one slot keeps at most. */
export const MAX_CERTIFICATES_PER_SLOT = 16;

export interface MediaCertificate {
  /** Collection member id ("1", "2", ...). */
  readonly id: string;
  readonly type: MediaCertificateType;
  /** The certificate(s), PEM. */
  readonly pem: string;
}

/** What a Certificate resource shows of one certificate (the first of a chain). */
export interface CertificateDetails {
  readonly subject: Readonly<Record<string, string>>;
  readonly issuer: Readonly<Record<string, string>>;
  readonly validNotBefore: string;
  readonly validNotAfter: string;
  /** Hex, colon-separated, as X509Certificate gives it. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export class CertificateTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateTextError';
  }
}

/**
 * The certificates of `text`, checked and re-encoded as PEM. Throws CertificateTextError naming the
 * problem: no PEM certificate, one that does not parse, or more than one for type PEM.
 */
export function parseCertificateText(text: string, type: MediaCertificateType): string {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new CertificateTextError('it holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)');
  if (type === 'PEM' && blocks.length > 1) throw new CertificateTextError(`it holds ${blocks.length} certificates; CertificateType PEM takes one (PEMchain takes several)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block).toString().trim();
    } catch (err) {
      throw new CertificateTextError(`certificate ${i + 1} does not parse as X.509: ${(err as Error).message}`);
    }
  }).join('\n') + '\n';
}

/** The first certificate of `pem`, described. */
export function describeCertificate(pem: string): CertificateDetails {
  const cert = new X509Certificate(pem);
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    validNotBefore: new Date(cert.validFrom).toISOString(),
    validNotAfter: new Date(cert.validTo).toISOString(),
    serialNumber: cert.serialNumber.match(/.{1,2}/g)?.join(':') ?? cert.serialNumber,
    fingerprint: cert.fingerprint256,
  };
}

/** X509Certificate's "CN=x\nO=y" as { CN: 'x', O: 'y' } (the last of a repeated key wins). */
function distinguishedName(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

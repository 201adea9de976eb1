/**
 * The Redfish service's TLS certificate: the files REDFISH_TLS_CERT / REDFISH_TLS_KEY when given,
 * else a self-signed EC P-256 certificate generated at first start and kept in BMC_STATE_DIR
 * (10 years, SAN = the node's names and addresses), as BMCs ship. A stored certificate is reused
 * while its names and addresses still cover the node's; otherwise a new one is made.
 * The certificate itself is made by self-signed-certificate.ts.
 */
import { readFileSync } from 'node:fs';
import { readJson, writeJson, type StateStore } from '../state/state-store';

export const CERT_DOCUMENT = 'redfish-cert.pem';
export const KEY_DOCUMENT = 'redfish-key.pem';
export const CERT_INFO_DOCUMENT = 'redfish-cert.json';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly source: 'files' | 'generated' | 'stored';
}

export interface TlsOptions {
  readonly store: StateStore;
  /** REDFISH_TLS_CERT / REDFISH_TLS_KEY: PEM files; both or neither. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** DNS names and IP addresses the certificate must name. */
  readonly names: readonly string[];
  readonly now: Date;
  /**
   * Makes a self-signed certificate (self-signed-certificate.ts). Injected so that the X.509 library
   * is loaded only when a certificate is made: a running BMC does not need its memory.
   */
  readonly generate: (names: readonly string[], now: Date) => Promise<{ cert: string; key: string }>;
}

interface CertInfo {
  readonly version: 1;
  readonly names: readonly string[];
}

export async function loadTlsMaterial(o: TlsOptions): Promise<TlsMaterial> {
  if (o.certFile !== undefined && o.keyFile !== undefined) {
    return { cert: readFileSync(o.certFile, 'utf8'), key: readFileSync(o.keyFile, 'utf8'), source: 'files' };
  }
  const names = [...new Set(o.names)].sort();
  const stored = storedMaterial(o.store);
  if (stored && names.every((n) => stored.names.includes(n))) return { cert: stored.cert, key: stored.key, source: 'stored' };
  const { cert, key } = await o.generate(names, o.now);
  o.store.write(KEY_DOCUMENT, Buffer.from(key));
  o.store.write(CERT_DOCUMENT, Buffer.from(cert));
  writeJson(o.store, CERT_INFO_DOCUMENT, { version: 1, names } satisfies CertInfo);
  return { cert, key, source: 'generated' };
}

function storedMaterial(store: StateStore): { cert: string; key: string; names: readonly string[] } | undefined {
  try {
    const cert = store.read(CERT_DOCUMENT);
    const key = store.read(KEY_DOCUMENT);
    const info = readJson<Partial<CertInfo>>(store, CERT_INFO_DOCUMENT);
    if (!cert || !key || !info || info.version !== 1 || !Array.isArray(info.names)) return undefined;
    return { cert: cert.toString('utf8'), key: key.toString('utf8'), names: info.names };
  } catch {
    return undefined; // unreadable: make a new one
  }
}

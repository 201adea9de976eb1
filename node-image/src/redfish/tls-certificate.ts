/**
 * The Redfish service's TLS certificate: the files REDFISH_TLS_CERT / REDFISH_TLS_KEY when given,
 * else a self-signed EC P-256 certificate generated at first start and kept in BMC_STATE_DIR
 * (10 years, SAN = the node's names and addresses), as BMCs ship. A stored certificate is reused
 * while its names and addresses still cover the node's; otherwise a new one is made.
 * The only file that knows X.509 (@peculiar/x509, see docs/adr).
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect polyfill first
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { readJson, writeJson, type StateStore } from '../state/state-store';

export const CERT_DOCUMENT = 'redfish-cert.pem';
export const KEY_DOCUMENT = 'redfish-key.pem';
export const CERT_INFO_DOCUMENT = 'redfish-cert.json';
export const CERT_VALIDITY_DAYS = 3650;

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
}

interface CertInfo {
  readonly version: 1;
  readonly names: readonly string[];
}

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function loadTlsMaterial(o: TlsOptions): Promise<TlsMaterial> {
  if (o.certFile !== undefined && o.keyFile !== undefined) {
    return { cert: readFileSync(o.certFile, 'utf8'), key: readFileSync(o.keyFile, 'utf8'), source: 'files' };
  }
  const names = [...new Set(o.names)].sort();
  const stored = storedMaterial(o.store);
  if (stored && names.every((n) => stored.names.includes(n))) return { cert: stored.cert, key: stored.key, source: 'stored' };
  const { cert, key } = await generateSelfSigned(names, o.now);
  o.store.write(KEY_DOCUMENT, Buffer.from(key));
  o.store.write(CERT_DOCUMENT, Buffer.from(cert));
  writeJson(o.store, CERT_INFO_DOCUMENT, { version: 1, names } satisfies CertInfo);
  return { cert, key, source: 'generated' };
}

/** A self-signed EC P-256 server certificate naming `names` (DNS names and IP addresses). */
export async function generateSelfSigned(names: readonly string[], now: Date): Promise<{ cert: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // a positive INTEGER (RFC 5280 section 4.1.2.2)
  const dnsNames = names.filter((n) => isIP(n) === 0);
  const cn = dnsNames[0] ?? names[0] ?? 'bmcfleet-bmc';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${cn.replace(/[,+="\\<>;#]/g, '_')}, O=bmcfleet`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CERT_VALIDITY_DAYS * 86_400_000),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key };
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

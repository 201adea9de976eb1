import { X509Certificate, createPrivateKey } from 'node:crypto';
import { MemoryStateStore } from '../state/state-store';
import { CERT_DOCUMENT, KEY_DOCUMENT, loadTlsMaterial } from './tls-certificate';
import { generateSelfSigned as generate } from './self-signed-certificate';

const NOW = new Date('2026-01-01T00:00:00Z');

describe('loadTlsMaterial', () => {
  it('generates an EC P-256 self-signed server certificate naming the node, valid 10 years, and keeps it', async () => {
    const store = new MemoryStateStore();
    const first = await loadTlsMaterial({ store, names: ['node-1', '10.0.0.5', '127.0.0.1'], now: NOW, generate });
    expect(first.source).toBe('generated');
    const cert = new X509Certificate(first.cert);
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(['DNS:node-1', 'IP Address:10.0.0.5', 'IP Address:127.0.0.1']);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2035);
    expect(store.read(KEY_DOCUMENT)?.toString()).toBe(first.key);
    expect(store.read(CERT_DOCUMENT)?.toString()).toBe(first.cert);

    const again = await loadTlsMaterial({ store, names: ['127.0.0.1', 'node-1'], now: NOW, generate });
    expect([again.source, again.cert]).toEqual(['stored', first.cert]);
    const renamed = await loadTlsMaterial({ store, names: ['node-1', '10.0.0.6'], now: NOW, generate });
    expect(renamed.source).toBe('generated');
    expect(new X509Certificate(renamed.cert).subjectAltName).toContain('IP Address:10.0.0.6');
  });
});

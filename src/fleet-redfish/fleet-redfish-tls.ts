/**
 * The fleet Redfish endpoint's certificate: the agent's own logic (node-image/src/redfish/
 * tls-certificate.ts and self-signed-certificate.ts: EC P-256, self-signed, 10 years, reused while it
 * covers the names asked for) over the directory DATA_DIR/fleet-redfish (0700, key 0600). Its SAN
 * names this host: localhost, loopback, the host name, BIND_ADDRESS and PUBLISH_ADDRESS.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileStateStore } from '../../node-image/src/state/file-state-store';
import { CERT_DOCUMENT, loadTlsMaterial, type TlsMaterial } from '../../node-image/src/redfish/tls-certificate';
import { generateSelfSigned } from '../../node-image/src/redfish/self-signed-certificate';
import type { AppConfig } from '../config/app-config';

export const FLEET_REDFISH_DIR = 'fleet-redfish';
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

export function fleetCertificateNames(config: Pick<AppConfig, 'http' | 'publishAddress'>, host: string): string[] {
  const names = ['localhost', '127.0.0.1', '::1', host, config.http.bindAddress, config.publishAddress];
  return [...new Set(names.filter((name) => name !== '' && !UNSPECIFIED.has(name)))];
}

export async function loadFleetTls(config: Pick<AppConfig, 'http' | 'publishAddress' | 'dataDir'>): Promise<TlsMaterial & { certFile: string }> {
  const dir = join(config.dataDir, FLEET_REDFISH_DIR);
  const material = await loadTlsMaterial({
    store: new FileStateStore(dir),
    names: fleetCertificateNames(config, hostname()),
    now: new Date(),
    generate: generateSelfSigned,
  });
  return { ...material, certFile: join(dir, CERT_DOCUMENT) };
}

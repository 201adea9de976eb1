/**
 * The Redfish HTTPS transport's TLS: 1.2 or later only, and one certificate served by many servers (a farm's).
 */
import { connect, type TLSSocket } from 'node:tls';
import { silentLogger } from '../util/logger';
import { startRedfishServer, type RunningRedfishServer } from './https-server';
import { generateSelfSigned } from './self-signed-certificate';
import type { TlsMaterial } from './tls-certificate';

function handshake(port: number, maxVersion: 'TLSv1.1' | 'TLSv1.3'): Promise<{ protocol: string | null; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion, minVersion: 'TLSv1' }, () => {
      const result = { protocol: socket.getProtocol(), fingerprint: socket.getPeerCertificate().fingerprint256 };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

describe('Redfish HTTPS server TLS', () => {
  const servers: RunningRedfishServer[] = [];
  afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });

  it('serves one certificate from many servers and refuses TLS below 1.2', async () => {
    const tls: TlsMaterial = { ...(await generateSelfSigned(['127.0.0.1'], new Date())), source: 'generated' };
    for (let i = 0; i < 3; i++) {
      servers.push(await startRedfishServer({
        address: '127.0.0.1', port: 0, tls, clock: Date.now, log: silentLogger,
        handle: async () => ({ status: 200, headers: {}, body: {} }),
      }));
    }
    const seen = await Promise.all(servers.map((s) => handshake(s.port, 'TLSv1.3')));
    expect(new Set(seen.map((s) => s.fingerprint)).size).toBe(1);
    expect(seen.every((s) => s.protocol === 'TLSv1.3')).toBe(true);
    await expect(handshake(servers[0]!.port, 'TLSv1.1')).rejects.toThrow();
  });
});

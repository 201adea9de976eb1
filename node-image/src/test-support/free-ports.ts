/**
 * Fixed ports for tests that need a run of them (a farm in port mode): a run of consecutive ports on
 * 127.0.0.1 that nothing holds at the moment it is probed, UDP and, when asked, TCP too. A random
 * base alone collides on a machine where something else (a host-network farm) holds ports.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const FIRST = 20_000;
/** Below Linux's ephemeral range (32768–60999), where the system's own picks land. */
const LAST = 32_000;
const TRIES = 200;

function udpFree(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', (err) => { try { s.close(); } catch { /* not bound */ } reject(err); });
    s.bind(port, '127.0.0.1', () => resolve(() => new Promise<void>((r) => s.close(() => r()))));
  });
}

function tcpFree(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(() => new Promise<void>((r) => server.close(() => r()))));
  });
}

/** The first port of `count` consecutive ports free now (UDP, and TCP with `tcp`). */
export async function freePortRun(count: number, o: { readonly tcp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const base = FIRST + Math.floor(Math.random() * (LAST - FIRST - count));
    const held: Array<() => Promise<void>> = [];
    let free = true;
    for (let port = base; port < base + count && free; port++) {
      try {
        held.push(await udpFree(port));
        if (o.tcp) held.push(await tcpFree(port));
      } catch {
        free = false;
      }
    }
    await Promise.all(held.map((release) => release()));
    if (free) return base;
  }
  throw new Error(`no run of ${count} free ports on 127.0.0.1 between ${FIRST} and ${LAST} after ${TRIES} tries`);
}

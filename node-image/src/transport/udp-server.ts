/**
 * The agent's UDP sockets: one on the IPMI port for everything (pre-session, sessions, SOL), and a
 * second one when IPMI_SOL_PORT names another port (main.ts). Both feed the same handler, so they
 * are one BMC with one session table. Each datagram is tagged with the local port it arrived on and
 * its reply leaves from that socket (reference 9.25: answer from the port the client sent to).
 * Datagrams are handed to the engine one by one; a failing handler is logged and never closes a socket.
 */
import { createSocket, Socket } from 'node:dgram';
import type { Logger } from '../util/logger';

export interface UdpPeer {
  readonly address: string;
  readonly port: number;
  /** The agent's own port the datagram arrived on; a reply to this peer leaves from it. */
  readonly localPort?: number;
}

export type DatagramHandler = (data: Buffer, from: UdpPeer) => Promise<void> | void;

/** Largest datagram accepted; IPMI packets are far smaller, anything bigger is not ours. */
const MAX_DATAGRAM = 2048;

export class UdpServer {
  /** Bound sockets by local port; the first one bound also sends to peers without a local port. */
  private readonly sockets = new Map<number, Socket>();
  /** Sockets another owner bound and keeps (adopt): never closed here. */
  private readonly adopted = new Set<Socket>();

  constructor(private readonly log: Logger) {}

  /** Binds one more socket (`port` 0: any free port); rejects with the bind error, leaving the others. */
  async listen(address: string, port: number, handler: DatagramHandler): Promise<UdpPeer> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => { socket.off('error', reject); resolve(); });
    }).catch(async (err: unknown) => {
      await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
      throw err;
    });
    const bound = socket.address();
    this.sockets.set(bound.port, socket);
    socket.on('message', (msg, rinfo) => {
      if (msg.length > MAX_DATAGRAM) return;
      try {
        const r = handler(msg, { address: rinfo.address, port: rinfo.port, localPort: bound.port });
        if (r) r.catch((err: unknown) => this.log.error('datagram handler failed', { error: String(err) }));
      } catch (err) {
        this.log.error('datagram handler failed', { error: String(err) });
      }
    });
    socket.on('error', (err) => this.log.error('udp socket error', { error: err.message, port: bound.port }));
    return { address: bound.address, port: bound.port };
  }

  /**
   * Serves on a socket bound and owned by someone else (a farm, which keeps it while the BMC rests):
   * the owner hands each datagram to the returned receiver, and close() leaves the socket open.
   * `bound` is where the owner bound it (asked of the socket when not given).
   */
  adopt(socket: Socket, handler: DatagramHandler, bound: UdpPeer = socket.address()): { readonly bound: UdpPeer; readonly receive: (msg: Buffer, from: UdpPeer) => void } {
    this.sockets.set(bound.port, socket);
    this.adopted.add(socket);
    const receive = (msg: Buffer, from: UdpPeer): void => {
      if (msg.length > MAX_DATAGRAM) return;
      try {
        const r = handler(msg, { address: from.address, port: from.port, localPort: bound.port });
        if (r) r.catch((err: unknown) => this.log.error('datagram handler failed', { error: String(err) }));
      } catch (err) {
        this.log.error('datagram handler failed', { error: String(err) });
      }
    };
    return { bound: { address: bound.address, port: bound.port }, receive };
  }

  send(data: Buffer, to: UdpPeer): void {
    const socket = (to.localPort === undefined ? undefined : this.sockets.get(to.localPort)) ?? this.sockets.values().next().value;
    socket?.send(data, to.port, to.address, (err) => {
      if (err) this.log.warn('udp send failed', { error: err.message, to: `${to.address}:${to.port}` });
    });
  }

  async close(): Promise<void> {
    const sockets = [...this.sockets.values()].filter((s) => !this.adopted.has(s));
    this.sockets.clear();
    this.adopted.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

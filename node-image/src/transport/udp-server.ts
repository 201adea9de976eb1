/**
 * The agent's only socket: one UDP socket for everything (pre-session, sessions, SOL), replying
 * from the port the client sent to (reference 9.25). Datagrams are handed to the engine one by
 * one; a failing handler is logged and never closes the socket.
 */
import { createSocket, Socket } from 'node:dgram';
import type { Logger } from '../util/logger';

export interface UdpPeer { readonly address: string; readonly port: number }

export type DatagramHandler = (data: Buffer, from: UdpPeer) => Promise<void> | void;

/** Largest datagram accepted; IPMI packets are far smaller, anything bigger is not ours. */
const MAX_DATAGRAM = 2048;

export class UdpServer {
  private socket: Socket | null = null;

  constructor(private readonly log: Logger) {}

  async listen(address: string, port: number, handler: DatagramHandler): Promise<UdpPeer> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      if (msg.length > MAX_DATAGRAM) return;
      try {
        const r = handler(msg, { address: rinfo.address, port: rinfo.port });
        if (r) r.catch((err: unknown) => this.log.error('datagram handler failed', { error: String(err) }));
      } catch (err) {
        this.log.error('datagram handler failed', { error: String(err) });
      }
    });
    socket.on('error', (err) => this.log.error('udp socket error', { error: err.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => { socket.off('error', reject); resolve(); });
    });
    const bound = socket.address();
    return { address: bound.address, port: bound.port };
  }

  send(data: Buffer, to: UdpPeer): void {
    this.socket?.send(data, to.port, to.address, (err) => {
      if (err) this.log.warn('udp send failed', { error: err.message, to: `${to.address}:${to.port}` });
    });
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

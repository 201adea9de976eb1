/**
 * How an IpmiClient reaches its BMC over UDP: a socket of its own, connected to the BMC (the
 * default), or its share of one socket many clients use at once (UdpHub), which answers are routed
 * from by the address and port they come from. A sweep of thousands of BMCs then opens one socket,
 * not one per session.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

/** One client's way to its BMC. */
export interface UdpLink {
  send(datagram: Buffer): void;
  /** Stops delivery to this client (and closes its socket when it has one of its own). */
  close(): Promise<void>;
}

export type DatagramSink = (datagram: Buffer) => void;

/** A socket of the client's own, connected to host:port (the host name is resolved here). */
export async function ownSocketLink(host: string, port: number, sink: DatagramSink): Promise<UdpLink> {
  const socket = createSocket({ type: 'udp4' });
  socket.on('message', (msg) => sink(msg));
  // Send/receive errors (e.g. ICMP port unreachable) surface here; the client's per-try timeout decides.
  socket.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      // The callback gets the error when the host name does not resolve.
      socket.connect(port, host, (err?: Error) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    await closeSocket(socket);
    throw err;
  }
  let closed: Promise<void> | null = null;
  return {
    send: (datagram) => socket.send(datagram),
    close: () => (closed ??= closeSocket(socket)),
  };
}

/** One UDP socket shared by many clients, each talking to another BMC (IPv4 address and port). */
export class UdpHub {
  private readonly routes = new Map<string, DatagramSink>();
  private closed: Promise<void> | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg, from) => this.routes.get(`${from.address}:${from.port}`)?.(msg));
    socket.on('error', () => {});
  }

  /** A hub on an ephemeral port of every local address. */
  static async open(): Promise<UdpHub> {
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => { socket.off('error', reject); resolve(); });
    });
    return new UdpHub(socket);
  }

  /** The hub's local UDP port. */
  get port(): number { return this.socket.address().port; }

  /** How many clients use the hub now. */
  get links(): number { return this.routes.size; }

  /**
   * The link of one client to host:port. Answers are told apart by where they come from, so the
   * host must be an IPv4 address, and one BMC has one client on a hub at a time.
   */
  link(host: string, port: number, sink: DatagramSink): UdpLink {
    if (this.closed) throw new Error('the UDP hub is closed');
    if (!isIPv4(host)) throw new Error(`a shared UDP socket needs an IPv4 address, not "${host}"`);
    const key = `${host}:${port}`;
    if (this.routes.has(key)) throw new Error(`the shared UDP socket already has a client for ${key}`);
    this.routes.set(key, sink);
    let open = true;
    return {
      send: (datagram) => { if (open) this.socket.send(datagram, port, host); },
      close: async () => {
        if (open && this.routes.get(key) === sink) this.routes.delete(key);
        open = false;
      },
    };
  }

  /** Closes the socket; clients still linked get nothing more. */
  close(): Promise<void> {
    this.routes.clear();
    return (this.closed ??= closeSocket(this.socket));
  }
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * The VM's serial port, owned by the agent: a unix-socket server that QEMU connects to as a client
 * (-chardev socket,server=off,reconnect=1). The endpoint outlives QEMU processes, so the SOL session
 * on top of it survives power cycles and QEMU restarts: each new QEMU connects again, and a new
 * connection replaces the previous one. Bytes from QEMU become 'data' events; write() sends to the
 * connected QEMU and drops bytes when none is connected or when QEMU stops reading (like a UART
 * whose receiver is full), so a stopped guest cannot make the agent buffer without bound.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Listeners } from './events';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

export interface SerialEndpointEvents {
  data: (data: Buffer) => void;
  connect: () => void;
  disconnect: () => void;
}

export interface SerialEndpointOptions {
  readonly log?: Logger;
  /** Bytes queued towards QEMU beyond which writes are dropped (default 64 KiB). */
  readonly maxPendingBytes?: number;
}

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
export const UNIX_SOCKET_PATH_MAX = 107;
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024;

export class SerialEndpoint {
  private readonly events = new Listeners<SerialEndpointEvents>();
  private readonly log: Logger;
  private readonly maxPendingBytes: number;
  private current: Socket | undefined;
  private accepted = 0;
  private dropped = 0;
  private closed = false;

  private constructor(readonly path: string, private readonly server: Server, options: SerialEndpointOptions) {
    this.log = options.log ?? silentLogger;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    server.on('connection', (socket) => this.accept(socket));
  }

  /**
   * Listens on `path`. A socket file left there by an earlier agent is removed; any other kind of
   * file is not touched (the listen then fails with EADDRINUSE).
   */
  static async listen(path: string, options: SerialEndpointOptions = {}): Promise<SerialEndpoint> {
    if (Buffer.byteLength(path) > UNIX_SOCKET_PATH_MAX) {
      throw new Error(`serial socket path is longer than ${UNIX_SOCKET_PATH_MAX} bytes: ${path}`);
    }
    removeStaleSocket(path);
    const server = createServer();
    const endpoint = new SerialEndpoint(path, server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => endpoint.log.error('serial endpoint error', { error: err.message }));
    return endpoint;
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  /** How many connections were accepted so far (to wait for the next one after starting QEMU). */
  get connectionCount(): number {
    return this.accepted;
  }

  /** Bytes dropped because no QEMU was connected or it was not reading. */
  get droppedBytes(): number {
    return this.dropped;
  }

  on<E extends keyof SerialEndpointEvents>(event: E, listener: SerialEndpointEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** Sends to the connected QEMU; returns false when the bytes were dropped. */
  write(data: Buffer): boolean {
    const socket = this.current;
    if (!socket || socket.writableLength + data.length > this.maxPendingBytes) {
      this.dropped += data.length;
      return false;
    }
    socket.write(data);
    return true;
  }

  /** Resolves true once more than `after` connections have been accepted, false after timeoutMs. */
  waitForConnection(after: number, timeoutMs: number): Promise<boolean> {
    if (this.accepted > after && this.current) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { stop(); resolve(false); }, timeoutMs);
      const stop = this.events.on('connect', () => {
        if (this.accepted <= after) return;
        clearTimeout(timer);
        stop();
        resolve(true);
      });
    });
  }

  /** Stops listening, drops the connection and removes the socket file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.current?.destroy();
    this.current = undefined;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    removeStaleSocket(this.path);
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const previous = this.current;
    this.current = socket;
    this.accepted++;
    if (previous) {
      this.log.info('serial: a new QEMU connection replaces the previous one');
      previous.destroy();
    }
    socket.on('data', (data: Buffer) => {
      if (this.current !== socket) return;
      try {
        this.events.emit('data', data);
      } catch (err) {
        this.log.error('serial data listener failed', { error: String(err) });
      }
    });
    socket.on('error', (err) => this.log.debug('serial connection error', { error: err.message }));
    socket.on('close', () => {
      if (this.current !== socket) return;
      this.current = undefined;
      this.log.debug('serial: QEMU disconnected');
      this.events.emit('disconnect');
    });
    this.log.debug('serial: QEMU connected');
    this.events.emit('connect');
  }
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * A QMP client over a unix socket (QEMU Machine Protocol, docs/interop/qmp-spec in QEMU's tree),
 * shaped after QEMU's own python client (python/qemu/qmp/qmp_client.py):
 *
 *   connect → greeting  {"QMP": {"version": {...}, "capabilities": [...]}}
 *           → negotiation  {"execute": "qmp_capabilities", "id": ...} → {"return": {}, "id": ...}
 *           → commands  {"execute": C, "arguments": A, "id": N} → {"return": R, "id": N}
 *                                                               | {"error": {"class", "desc"}, "id": N}
 *   and at any time events  {"event": E, "data": D, "timestamp": {"seconds", "microseconds"}}.
 *
 * Messages are JSON objects, one per line. Replies are matched to calls by `id`, so replies may come
 * in any order; a reply with an unknown id is dropped (qmp-spec 2.4: "clients should drop all the
 * responses that have an unknown id"). A reply without an id, malformed JSON or a line longer than
 * the cap means the stream can no longer be trusted: the connection is closed, as the python client
 * does. When the connection ends, every pending call is rejected with an 'interrupted' error. Events
 * go to their own listeners, never to callers.
 */
import { createConnection, type Socket } from 'node:net';
import { Listeners } from './events';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

export const QmpErrorCode = {
  /** The socket could not be opened (details.errno: ENOENT, ECONNREFUSED, ...). */
  Connect: 'connect',
  /** No greeting, or not a QMP greeting. */
  Greeting: 'greeting',
  /** qmp_capabilities failed. */
  Negotiation: 'negotiation',
  /** QEMU answered the command with an error (errorClass, desc). */
  Execute: 'execute',
  /** The connection ended before the reply arrived. */
  Interrupted: 'interrupted',
  /** No reply within the call's time limit. */
  Timeout: 'timeout',
  /** QEMU sent something that is not QMP: malformed JSON, an oversized line, a reply without id. */
  Protocol: 'protocol',
  /** execute() on a client that is not (or no longer) connected. */
  NotConnected: 'not-connected',
} as const;
export type QmpErrorCode = (typeof QmpErrorCode)[keyof typeof QmpErrorCode];

export interface QmpErrorDetails {
  /** The command the error belongs to. */
  readonly command?: string;
  /** QEMU's error class (GenericError, CommandNotFound, DeviceNotFound, ...). */
  readonly errorClass?: string;
  /** QEMU's human-readable description. */
  readonly desc?: string;
  /** Node's error code for socket errors. */
  readonly errno?: string;
}

export class QmpError extends Error {
  constructor(readonly code: QmpErrorCode, message: string, readonly details: QmpErrorDetails = {}) {
    super(message);
    this.name = 'QmpError';
  }

  get errorClass(): string | undefined { return this.details.errorClass; }
  get desc(): string | undefined { return this.details.desc; }
}

export interface QmpGreeting {
  readonly version: {
    readonly qemu: { readonly major: number; readonly minor: number; readonly micro: number };
    readonly package: string;
  };
  readonly capabilities: readonly string[];
}

export interface QmpEvent {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export interface QmpClientEvents {
  event: (event: QmpEvent) => void;
  /** The connection ended (by QEMU, by a protocol error or by close()); fired once. */
  disconnect: (reason: QmpError) => void;
}

export interface QmpClientOptions {
  /** Longest accepted line in bytes (default 1 MiB; query-qmp-schema, the largest reply, is ~200 KiB). */
  readonly maxLineBytes?: number;
  /** Default time limit of execute() calls (default 10 s). */
  readonly timeoutMs?: number;
  /** Time limit of connect + greeting + negotiation (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  readonly log?: Logger;
}

export const QMP_DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const QMP_DEFAULT_TIMEOUT_MS = 10_000;
export const QMP_DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
const NEWLINE = 0x0a;

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: QmpError) => void;
  readonly timer: NodeJS.Timeout;
}

type Phase = 'greeting' | 'negotiation' | 'ready' | 'closed';

export class QmpClient {
  private readonly events = new Listeners<QmpClientEvents>();
  private readonly pending = new Map<string, Pending>();
  private readonly log: Logger;
  private readonly maxLineBytes: number;
  private readonly timeoutMs: number;
  private phase: Phase = 'greeting';
  private buffered: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private greetingValue: QmpGreeting | undefined;

  private constructor(private readonly socket: Socket, options: QmpClientOptions) {
    this.log = options.log ?? silentLogger;
    this.maxLineBytes = options.maxLineBytes ?? QMP_DEFAULT_MAX_LINE_BYTES;
    this.timeoutMs = options.timeoutMs ?? QMP_DEFAULT_TIMEOUT_MS;
  }

  /**
   * Opens the socket, reads the greeting and leaves capabilities negotiation mode. Rejects with a
   * QmpError whose code names the phase that failed ('connect', 'greeting' or 'negotiation').
   */
  static connect(socketPath: string, options: QmpClientOptions = {}): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      const client = new QmpClient(socket, options);
      let settled = false;
      const finish = (err: QmpError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          client.shutdown(err);
          reject(err);
        } else {
          resolve(client);
        }
      };
      const handshakeMs = options.handshakeTimeoutMs ?? QMP_DEFAULT_HANDSHAKE_TIMEOUT_MS;
      const timer = setTimeout(() => {
        finish(client.phaseError(`no ${client.phase === 'greeting' ? 'greeting' : 'reply to qmp_capabilities'} within ${handshakeMs} ms`));
      }, handshakeMs);

      let connected = false;
      socket.once('connect', () => { connected = true; });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const reason = connected
          ? client.phaseError(`socket error: ${err.message}`, err.code)
          : new QmpError(QmpErrorCode.Connect, `cannot connect to QMP socket ${socketPath}: ${err.message}`, { errno: err.code });
        if (!settled) finish(reason);
        else client.shutdown(new QmpError(QmpErrorCode.Interrupted, `QMP socket error: ${err.message}`, { errno: err.code }));
      });
      socket.on('close', () => {
        const reason = client.phase === 'ready' || client.phase === 'closed'
          ? new QmpError(QmpErrorCode.Interrupted, 'QMP connection closed by QEMU')
          : client.phaseError('connection closed during the handshake');
        if (!settled) finish(reason);
        else client.shutdown(reason);
      });
      socket.on('data', (chunk: Buffer) => client.receive(chunk, finish));
    });
  }

  /** The greeting QEMU sent (version, capabilities). */
  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new QmpError(QmpErrorCode.NotConnected, 'no greeting received');
    return this.greetingValue;
  }

  get connected(): boolean {
    return this.phase === 'ready';
  }

  /** Runs a command; resolves with its "return" value, rejects with QmpError (code 'execute' carries class/desc). */
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.phase !== 'ready') {
      return Promise.reject(new QmpError(QmpErrorCode.NotConnected, `cannot execute '${command}': QMP is not connected`, { command }));
    }
    return this.send(command, args, options.timeoutMs ?? this.timeoutMs) as Promise<T>;
  }

  on<E extends keyof QmpClientEvents>(event: E, listener: QmpClientEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** Closes the connection; pending calls are rejected with 'interrupted'. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.closed) {
        this.shutdown(new QmpError(QmpErrorCode.Interrupted, 'QMP connection closed by the client'));
        resolve();
        return;
      }
      this.socket.once('close', () => resolve());
      this.shutdown(new QmpError(QmpErrorCode.Interrupted, 'QMP connection closed by the client'));
    });
  }

  private send(command: string, args: Readonly<Record<string, unknown>> | undefined, timeoutMs: number): Promise<unknown> {
    const id = `bmc-${this.nextId++}`;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError(QmpErrorCode.Timeout, `no reply to '${command}' within ${timeoutMs} ms`, { command }));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
      this.log.debug('qmp outbound', { command, id });
      this.socket.write(JSON.stringify(message) + '\n');
    });
  }

  private receive(chunk: Buffer, finishHandshake: (err: QmpError | undefined) => void): void {
    if (this.phase === 'closed') return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const end = this.buffered.indexOf(NEWLINE);
      if (end < 0) break;
      if (end > this.maxLineBytes) break; // reported below
      const line = this.buffered.subarray(0, end).toString('utf8').trim();
      this.buffered = this.buffered.subarray(end + 1);
      if (line.length > 0) this.handleLine(line, finishHandshake);
      // handleLine may have closed the connection.
      if ((this.phase as Phase) === 'closed') return;
    }
    const pendingLine = this.buffered.indexOf(NEWLINE);
    if ((pendingLine < 0 ? this.buffered.length : pendingLine) > this.maxLineBytes) {
      this.fatal(`line longer than ${this.maxLineBytes} bytes`, finishHandshake);
    }
  }

  private handleLine(line: string, finishHandshake: (err: QmpError | undefined) => void): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.fatal(`malformed JSON: ${line.slice(0, 80)}`, finishHandshake);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.fatal(`message is not a JSON object: ${line.slice(0, 80)}`, finishHandshake);
      return;
    }
    const msg = message as Record<string, unknown>;
    switch (this.phase) {
      case 'greeting': return this.onGreeting(msg, finishHandshake);
      case 'negotiation':
      case 'ready': return this.onMessage(msg, finishHandshake);
      default: return;
    }
  }

  private onGreeting(msg: Record<string, unknown>, finishHandshake: (err: QmpError | undefined) => void): void {
    const qmp = msg['QMP'];
    if (!isObject(qmp) || !isObject(qmp['version']) || !Array.isArray(qmp['capabilities'])) {
      finishHandshake(new QmpError(QmpErrorCode.Greeting, `expected a QMP greeting, got ${JSON.stringify(msg).slice(0, 80)}`));
      return;
    }
    this.greetingValue = qmp as unknown as QmpGreeting;
    this.phase = 'negotiation';
    // Out-of-band execution is not requested: every command here is quick and in order.
    this.send('qmp_capabilities', undefined, this.timeoutMs).then(
      () => {
        if (this.phase !== 'negotiation') return;
        this.phase = 'ready';
        finishHandshake(undefined);
      },
      (err: QmpError) => {
        finishHandshake(err.code === QmpErrorCode.Execute
          ? new QmpError(QmpErrorCode.Negotiation, `qmp_capabilities refused: ${err.details.errorClass}: ${err.details.desc}`, err.details)
          : new QmpError(QmpErrorCode.Negotiation, `negotiation failed: ${err.message}`, err.details));
      },
    );
  }

  private onMessage(msg: Record<string, unknown>, finishHandshake: (err: QmpError | undefined) => void): void {
    if (typeof msg['event'] === 'string') {
      this.deliverEvent(msg);
      return;
    }
    if (!('return' in msg) && !('error' in msg)) {
      this.fatal(`unrecognised message: ${JSON.stringify(msg).slice(0, 80)}`, finishHandshake);
      return;
    }
    const id = msg['id'];
    if (id === undefined) {
      // QEMU answers without id only when it could not parse the request: nothing can be matched.
      const error = isObject(msg['error']) ? msg['error'] : {};
      this.fatal(`reply without id: ${String(error['class'])}: ${String(error['desc'])}`, finishHandshake);
      return;
    }
    const key = typeof id === 'string' ? id : JSON.stringify(id);
    const call = this.pending.get(key);
    if (!call) {
      this.log.debug('qmp reply with unknown id dropped', { id: key });
      return;
    }
    this.pending.delete(key);
    clearTimeout(call.timer);
    if ('error' in msg) {
      const error = isObject(msg['error']) ? msg['error'] : {};
      const errorClass = typeof error['class'] === 'string' ? error['class'] : 'GenericError';
      const desc = typeof error['desc'] === 'string' ? error['desc'] : '';
      call.reject(new QmpError(QmpErrorCode.Execute, `'${call.command}' failed: ${errorClass}: ${desc}`, { command: call.command, errorClass, desc }));
    } else {
      call.resolve(msg['return']);
    }
  }

  private deliverEvent(msg: Record<string, unknown>): void {
    const timestamp = isObject(msg['timestamp']) ? msg['timestamp'] : {};
    const event: QmpEvent = {
      event: msg['event'] as string,
      data: isObject(msg['data']) ? msg['data'] : {},
      timestamp: {
        seconds: typeof timestamp['seconds'] === 'number' ? timestamp['seconds'] : 0,
        microseconds: typeof timestamp['microseconds'] === 'number' ? timestamp['microseconds'] : 0,
      },
    };
    this.log.debug('qmp event', { event: event.event });
    try {
      this.events.emit('event', event);
    } catch (err) {
      // A listener's bug must not tear down the connection or the agent.
      this.log.error('qmp event listener failed', { event: event.event, error: String(err) });
    }
  }

  /** The stream cannot be trusted any more: close it. */
  private fatal(reason: string, finishHandshake: (err: QmpError | undefined) => void): void {
    this.log.warn('qmp protocol error', { reason });
    if (this.phase === 'greeting' || this.phase === 'negotiation') {
      finishHandshake(this.phaseError(reason));
    } else {
      this.shutdown(new QmpError(QmpErrorCode.Protocol, `QMP protocol error: ${reason}`));
    }
  }

  private phaseError(reason: string, errno?: string): QmpError {
    const code = this.phase === 'negotiation' ? QmpErrorCode.Negotiation : QmpErrorCode.Greeting;
    return new QmpError(code, `QMP ${code} failed: ${reason}`, errno === undefined ? {} : { errno });
  }

  /** Ends the connection once: pending calls rejected, 'disconnect' emitted. */
  private shutdown(reason: QmpError): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.buffered = Buffer.alloc(0);
    this.socket.destroy();
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new QmpError(QmpErrorCode.Interrupted, `'${call.command}' interrupted: ${reason.message}`, { command: call.command }));
      this.pending.delete(id);
    }
    try {
      this.events.emit('disconnect', reason);
    } catch (err) {
      this.log.error('qmp disconnect listener failed', { error: String(err) });
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

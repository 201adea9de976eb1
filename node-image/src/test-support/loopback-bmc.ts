/**
 * Pieces for specs that run a BmcAgent in-process on loopback UDP: a machine whose serial port echoes,
 * a UDP relay standing for a port mapping, and a bounded wait.
 */
import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import type { MachineControl, MachineEvents, PowerState } from '../machine/machine-control';

/** A machine whose serial port echoes every write as <write>; emit() plays console output. */
export class EchoMachine implements MachineControl {
  readonly kind = 'echo';
  breaks = 0;
  readonly writes: Buffer[] = [];
  private readonly serialListeners = new Set<(data: Buffer) => void>();

  async powerState(): Promise<PowerState> { return 'on'; }
  async power(): Promise<void> {}
  writeSerial(data: Buffer): void {
    this.writes.push(Buffer.from(data));
    this.emit(Buffer.concat([Buffer.from('<', 'latin1'), data, Buffer.from('>', 'latin1')]));
  }
  sendBreak(): void { this.breaks++; }
  emit(data: Buffer): void { for (const l of this.serialListeners) l(data); }
  on<E extends keyof MachineEvents>(event: E, listener: MachineEvents[E]): () => void {
    if (event !== 'serial') return () => {};
    const l = listener as (data: Buffer) => void;
    this.serialListeners.add(l);
    return () => { this.serialListeners.delete(l); };
  }
  async close(): Promise<void> {}
}

/**
 * A UDP relay between one console and the agent, as a NAT or Docker's published port is: the agent
 * sees the relay's address, the console sees the relay's port. It can go silent (a BMC that stopped
 * answering).
 */
export class Relay {
  silent = false;
  private console: RemoteInfo | null = null;
  private back: Socket | null = null;
  private constructor(private readonly front: Socket, readonly port: number) {}

  /** A relay to the agent on `agentPort`. */
  static async start(agentPort: number): Promise<Relay> {
    const relay = await Relay.bind();
    await relay.forwardTo(agentPort);
    return relay;
  }

  /** Takes its port now; forwardTo() names the agent later (an agent told the relay's port first). */
  static async bind(): Promise<Relay> {
    const front = createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
    return new Relay(front, front.address().port);
  }

  async forwardTo(agentPort: number): Promise<void> {
    const back = createSocket('udp4');
    await new Promise<void>((r) => back.connect(agentPort, '127.0.0.1', r));
    this.back = back;
    this.front.on('message', (msg, from) => { this.console = from; if (!this.silent) back.send(msg); });
    back.on('message', (msg) => { if (!this.silent && this.console) this.front.send(msg, this.console.port, this.console.address); });
  }

  async close(): Promise<void> {
    const back = this.back;
    await Promise.all([
      new Promise<void>((r) => this.front.close(() => r())),
      back === null ? Promise.resolve() : new Promise<void>((r) => back.close(() => r())),
    ]);
  }
}

/** Waits (bounded) until `cond` holds. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

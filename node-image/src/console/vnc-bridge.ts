/**
 * The graphical console: one WebSocket client bridged to QEMU's VNC server inside the container.
 * The agent connects to VNC as a client and authenticates with VNC_PASSWORD (RfbClientHandshake),
 * then acts as the RFB server of the WebSocket client offering security type None
 * (RfbServerHandshake), then copies bytes both ways. The only file of the consoles that opens a
 * TCP connection.
 */
import { connect, type Socket } from 'node:net';
import { RfbClientHandshake, RfbServerHandshake, type HandshakeStep } from './rfb-handshake';
import type { RfbViewOnlyFilter } from './rfb-view-only';

export interface VncTarget {
  readonly host: string;
  readonly port: number;
  /** VNC_PASSWORD; undefined when QEMU's VNC has none (it then listens on loopback only). */
  readonly password: string | undefined;
}

/** The WebSocket side as the bridge sees it. */
export interface BridgeClient {
  send(data: Buffer): void;
  close(code: number, reason: string): void;
  onMessage(listener: (data: Buffer) => void): void;
  onClose(listener: () => void): void;
}

export class VncUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VncUnavailableError';
  }
}

/**
 * Connects to QEMU's VNC and completes the client side of the security phase. Rejects with
 * VncUnavailableError when there is no display (the VM is off) or QEMU refuses the password.
 */
export async function openVnc(target: VncTarget, timeoutMs: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  const handshake = new RfbClientHandshake(target.password);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new VncUnavailableError(`the VNC server did not complete its handshake within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) { socket.destroy(); reject(err); } else resolve({ socket, rest: rest ?? Buffer.alloc(0) });
    };
    const onData = (data: Buffer): void => {
      const step = handshake.receive(data);
      for (const b of step.send) socket.write(b);
      if (step.kind === 'failed') finish(new VncUnavailableError(step.reason));
      else if (step.kind === 'done') { socket.pause(); finish(undefined, step.rest); }
    };
    const onError = (err: NodeJS.ErrnoException): void => finish(new VncUnavailableError(
      err.code === 'ECONNREFUSED' ? 'the VM has no display now (it is powered off, or QEMU is starting)' : `cannot reach the VM's VNC server: ${err.message}`,
    ));
    const onClose = (): void => finish(new VncUnavailableError('the VNC server closed the connection during its handshake'));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * Runs the server side toward `client` and then copies bytes until either side ends. With `viewOnly`,
 * the client's input messages (keys, pointer, cut text, power) never reach QEMU (rfb-view-only.ts).
 */
export function bridge(client: BridgeClient, vnc: { socket: Socket; rest: Buffer }, codes: { displayGone: number; protocolError: number }, viewOnly?: RfbViewOnlyFilter): void {
  const server = new RfbServerHandshake();
  const { socket } = vnc;
  let open = true;
  const end = (code: number, reason: string): void => {
    if (!open) return;
    open = false;
    socket.destroy();
    client.close(code, reason);
  };
  const toVnc = (data: Buffer): void => {
    if (viewOnly === undefined) { socket.write(data); return; }
    const step = viewOnly.receive(data);
    if (step.kind === 'failed') end(codes.protocolError, `view-only console: ${step.reason}`);
    else if (step.forward.length > 0) socket.write(step.forward);
  };
  client.send(server.start());
  client.onMessage((data) => {
    if (!open) return;
    if (!server.finished) {
      const step: HandshakeStep = server.receive(data);
      for (const b of step.send) client.send(b);
      if (step.kind === 'failed') { end(codes.protocolError, step.reason); return; }
      if (step.kind !== 'done') return;
      // Security done on both sides: QEMU now expects ClientInit, the client now expects ServerInit.
      if (vnc.rest.length > 0) client.send(vnc.rest);
      if (step.rest.length > 0) toVnc(step.rest);
      socket.resume();
      return;
    }
    toVnc(data);
  });
  client.onClose(() => { open = false; socket.destroy(); });
  socket.on('data', (data: Buffer) => { if (open) client.send(data); });
  socket.on('error', () => undefined);
  socket.on('close', () => end(codes.displayGone, 'the VM display ended (powered off or restarted); connect again'));
}

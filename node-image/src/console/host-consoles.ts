/**
 * The host consoles on the agent's HTTPS port, where OpenBMC's bmcweb has them:
 *   WebSocket /console0   the serial console (binary frames: console bytes both ways); any role may
 *                         watch, Operator and Administrator may type (serial-console.ts)
 *   WebSocket /kvm/0      the graphical console: RFB 3.8, security None, bridged to QEMU's VNC
 *                         (vnc-bridge.ts); Operator and Administrator control it, ReadOnly
 *                         users watch (their keyboard and pointer messages are dropped: rfb-view-only.ts)
 *   GET /kvm/0/screenshot.png[?width=N]  the screen as PNG (N: 16-4096, shrinks for thumbnails)
 * Every one needs Basic or X-Auth-Token (console-auth.ts). A refused upgrade is an HTTP answer with a
 * Redfish error body (401, 403, 404, 503); after the upgrade, close codes carry the reason (CLOSE).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { RedfishError } from '../redfish/errors';
import type { Authenticator, Principal } from '../redfish/router';
import type { Logger } from '../util/logger';
import { authenticateConsole, canType } from './console-auth';
import { CLOSE, SerialConsole } from './serial-console';
import { RfbViewOnlyFilter } from './rfb-view-only';
import { bridge, openVnc, VncUnavailableError, type VncTarget } from './vnc-bridge';

export const CONSOLE_PATHS = { serial: '/console0', graphical: '/kvm/0', screenshot: '/kvm/0/screenshot.png' } as const;
/** Largest message a console client may send (keyboard input and RFB client messages are small). */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
export const SCREENSHOT_WIDTH = { min: 16, max: 4096 } as const;
const VNC_HANDSHAKE_TIMEOUT_MS = 10_000;
/** RFC 6455 section 5.5: a close frame's reason is at most 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

export class ScreenUnavailableError extends Error {
  constructor(message: string, readonly status: 404 | 503) {
    super(message);
    this.name = 'ScreenUnavailableError';
  }
}

export interface HostConsolesOptions {
  readonly authenticator: Authenticator;
  /** The serial console (made before the Redfish service, which serves its history). */
  readonly serial: SerialConsole;
  /** QEMU's VNC server; undefined when the machine has no display (MACHINE=sim, VNC_PORT=none). */
  readonly vnc: VncTarget | undefined;
  /** The screen as PNG, shrunk to `width` when given; rejects with ScreenUnavailableError. */
  readonly screenshot: ((width: number | undefined) => Promise<Buffer>) | undefined;
  readonly clock: () => number;
  readonly log: Logger;
}

/** A close reason cut to what a close frame can carry, on a character boundary. */
export function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > MAX_CLOSE_REASON_BYTES) out = out.slice(0, -1);
  return out;
}

export class HostConsoles {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });

  constructor(private readonly o: HostConsolesOptions) {}

  get serial(): SerialConsole {
    return this.o.serial;
  }

  /** For the HTTPS server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const path = pathOf(req);
    if (path !== CONSOLE_PATHS.serial && path !== CONSOLE_PATHS.graphical) {
      refuseUpgrade(socket, new RedfishError(404, 'ResourceMissingAtURI', `The resource at the URI '${path}' was not found; the consoles are ${CONSOLE_PATHS.serial} and ${CONSOLE_PATHS.graphical}.`, [path]));
      return;
    }
    const auth = authenticateConsole(req.headers, req.socket.remoteAddress ?? '', this.o.clock(), this.o.authenticator);
    if (!auth.ok) {
      this.o.log.info('console login refused', { path, remote: req.socket.remoteAddress });
      refuseUpgrade(socket, unauthorizedError(path));
      return;
    }
    const { principal } = auth;
    if (path === CONSOLE_PATHS.serial) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serveSerial(ws, principal));
      return;
    }
    const vnc = this.o.vnc;
    if (!vnc) {
      refuseUpgrade(socket, new RedfishError(404, 'ResourceMissingAtURI', 'This machine has no graphical console (MACHINE=sim or VNC_PORT=none).', [path]));
      return;
    }
    // VNC first: a VM without a display is refused before the upgrade, with a status a client can show.
    openVnc(vnc, VNC_HANDSHAKE_TIMEOUT_MS).then((conn) => {
      if (socket.destroyed) { conn.socket.destroy(); return; }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const viewOnly = !canType(principal.role);
        this.o.log.info('graphical console opened', { user: principal.userName, remote: req.socket.remoteAddress, viewOnly });
        bridge(clientOf(ws), conn, { displayGone: CLOSE.displayGone, protocolError: CLOSE.internalError }, viewOnly ? new RfbViewOnlyFilter() : undefined);
      });
    }, (err: unknown) => {
      const message = err instanceof VncUnavailableError ? err.message : String(err);
      this.o.log.info('graphical console unavailable', { error: message });
      refuseUpgrade(socket, new RedfishError(503, 'ServiceTemporarilyUnavailable', `The graphical console is not available: ${message}.`, ['5'], { 'Retry-After': '5' }));
    });
  }

  /** For plain requests: answers the screenshot and returns true; false for anything else. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req);
    if (path !== CONSOLE_PATHS.screenshot) return false;
    void this.serveScreenshot(req, res);
    return true;
  }

  close(): void {
    this.serial.close();
    for (const ws of this.wss.clients) ws.close(CLOSE.goingAway, 'the BMC is shutting down');
    this.wss.close();
  }

  private serveSerial(ws: WebSocket, principal: Principal): void {
    this.o.log.info('serial console opened', { user: principal.userName, viewers: this.serial.viewerCount + 1 });
    const viewer = clientOf(ws);
    const { input, detach } = this.serial.attach({ send: viewer.send, close: viewer.close, get bufferedAmount() { return ws.bufferedAmount; } }, principal);
    ws.on('message', (data: Buffer, isBinary: boolean) => input(isBinary ? data : Buffer.from(data.toString('utf8'), 'utf8')));
    ws.on('close', detach);
  }

  private async serveScreenshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (e: RedfishError): void => {
      res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...e.headers });
      res.end(JSON.stringify(e.body()));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(new RedfishError(405, 'OperationNotAllowed', `${req.method} is not allowed on ${CONSOLE_PATHS.screenshot}; use GET.`, [], { Allow: 'GET' }));
      return;
    }
    const auth = authenticateConsole(req.headers, req.socket.remoteAddress ?? '', this.o.clock(), this.o.authenticator);
    if (!auth.ok) { fail(unauthorizedError(CONSOLE_PATHS.screenshot)); return; }
    const widthText = new URL(req.url ?? '/', 'https://bmc').searchParams.get('width');
    let width: number | undefined;
    if (widthText !== null) {
      width = /^\d{1,5}$/.test(widthText) ? Number(widthText) : NaN;
      if (!(width >= SCREENSHOT_WIDTH.min && width <= SCREENSHOT_WIDTH.max)) {
        fail(new RedfishError(400, 'PropertyValueOutOfRange', `The query parameter width=${widthText} must be an integer from ${SCREENSHOT_WIDTH.min} to ${SCREENSHOT_WIDTH.max} (pixels).`, [widthText, 'width']));
        return;
      }
    }
    if (!this.o.screenshot) {
      fail(new RedfishError(404, 'ResourceMissingAtURI', 'This machine has no screen (MACHINE=sim).', [CONSOLE_PATHS.screenshot]));
      return;
    }
    try {
      const png = await this.o.screenshot(width);
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': String(png.length), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : png);
    } catch (err) {
      if (err instanceof ScreenUnavailableError) {
        fail(err.status === 404
          ? new RedfishError(404, 'ResourceMissingAtURI', err.message, [CONSOLE_PATHS.screenshot])
          : new RedfishError(503, 'ServiceTemporarilyUnavailable', err.message, ['5'], { 'Retry-After': '5' }));
        return;
      }
      this.o.log.error('screenshot failed', { error: String(err) });
      fail(new RedfishError(500, 'GeneralError', 'A general error has occurred while taking the screenshot.'));
    }
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return (q >= 0 ? url.slice(0, q) : url).replace(/\/+$/, '') || '/';
}

function unauthorizedError(path: string): RedfishError {
  return new RedfishError(401, 'ResourceAtUriUnauthorized', `While accessing the resource at '${path}', the service received an authorization error: credentials required (HTTP Basic or X-Auth-Token).`, [path, 'invalid credentials'], { 'WWW-Authenticate': 'Basic realm="Redfish"' });
}

const REASON_PHRASES: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** An HTTP answer in place of the upgrade, then the connection ends. */
function refuseUpgrade(socket: Duplex, e: RedfishError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(e.body());
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', 'Cache-Control': 'no-store', ...e.headers };
  socket.end(`HTTP/1.1 ${e.status} ${REASON_PHRASES[e.status] ?? 'Error'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

function clientOf(ws: WebSocket): { send: (d: Buffer) => void; close: (code: number, reason: string) => void; onMessage: (l: (d: Buffer) => void) => void; onClose: (l: () => void) => void } {
  return {
    send: (d) => { if (ws.readyState === ws.OPEN) ws.send(d, { binary: true }); },
    close: (code, reason) => { if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, closeReason(reason)); },
    onMessage: (l) => ws.on('message', (data: Buffer) => l(data)),
    onClose: (l) => ws.on('close', l),
  };
}

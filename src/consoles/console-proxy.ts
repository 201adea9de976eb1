/**
 * The node consoles as WebSockets of the orchestrator, proxied to the node's agent with the node's
 * stored BMC credentials (node-agents.ts):
 *   GET /api/v1/nodes/:name/console/serial     → the agent's /console0 (binary frames both ways)
 *   GET /api/v1/nodes/:name/console/graphical  → the agent's /kvm/0 (RFB 3.8, security None)
 * The upgrade is checked first (console-access.ts): refused with an HTTP status and a JSON body
 * { statusCode, message, error } as the API answers, for a foreign Origin, a wrong Host, a missing or
 * wrong token, or an unknown node. Once upgraded, every failure is a close code with a reason:
 *   4000 + HTTP status  the agent refused (4401, 4403, 4404, 4503: e.g. the VM has no display now)
 *   4502                the agent could not be reached (or failed the certificate pin)
 *   4410                the node was deleted
 *   other codes         as the agent closed (4403 typing refused, 4503 display ended, 1001 BMC stopping)
 * Nest's HTTP server gets an 'upgrade' listener; a `ws` server in noServer mode does the handshake.
 */
import { Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { AppConfig } from '../config/app-config';
import { NodesService } from '../nodes/nodes.service';
import type { NodeWithLeases } from '../nodes/node.model';
import { checkConsoleAccess } from './console-access';
import { AgentUnavailableError, NodeAgents } from './node-agents';

export const CONSOLE_PATH = /^\/api\/v1\/nodes\/([^/?#]+)\/console\/(serial|graphical)\/?$/;
export const AGENT_CONSOLE_PATHS = { serial: '/console0', graphical: '/kvm/0' } as const;
export const CONSOLE_CLOSE = { agentUnreachable: 4502, nodeDeleted: 4410, agentRefusedBase: 4000 } as const;
/** Largest message a console client may send. */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** Client messages kept while the agent connection opens. */
const MAX_PENDING_BYTES = 256 * 1024;
/** RFC 6455 section 5.5: a close reason is at most 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;
const REASONS: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 415: 'Unsupported Media Type', 421: 'Misdirected Request' };

export function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > MAX_CLOSE_REASON_BYTES) out = out.slice(0, -1);
  return out;
}

/** Close codes a peer may send on (RFC 6455 section 7.4.1: 1005, 1006 and 1015 are never sent). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

@Injectable()
export class ConsoleProxy implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Consoles');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });
  private server: Server | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.handleUpgrade(req, socket, head);

  constructor(
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly nodes: NodesService,
    private readonly agents: NodeAgents,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.close(1001, 'the orchestrator is shutting down');
    this.wss.close();
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const match = CONSOLE_PATH.exec(path);
    if (!match) {
      // Another upgrade listener may own this path; when there is none, nobody answers: end it.
      if (this.server && this.server.listenerCount('upgrade') === 1) refuse(socket, 404, `no WebSocket at ${path}`);
      return;
    }
    const access = checkConsoleAccess({ host: header(req, 'host'), origin: header(req, 'origin'), authorization: header(req, 'authorization'), cookie: header(req, 'cookie') }, this.config.http);
    if (!access.ok) {
      refuse(socket, access.status, access.message);
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(match[1]!);
    } catch {
      refuse(socket, 404, `node ${match[1]} does not exist`);
      return;
    }
    const kind = match[2] as keyof typeof AGENT_CONSOLE_PATHS;
    this.nodes.row(name).then((node) => {
      if (node.state === 'deleting') { refuse(socket, 404, `node ${name} is being deleted`); return; }
      this.wss.handleUpgrade(req, socket, head, (client) => this.proxy(client, node, kind));
    }, (error: unknown) => {
      if (error instanceof NotFoundException) refuse(socket, 404, `node ${name} does not exist`);
      else { this.logger.error(`console of ${name}: ${String(error)}`); refuse(socket, 500, 'internal error'); }
    });
  }

  private proxy(client: WebSocket, node: NodeWithLeases, kind: keyof typeof AGENT_CONSOLE_PATHS): void {
    this.logger.log(`${kind} console of node ${node.name} opened`);
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    let upstream: WebSocket | undefined;
    let clientGone = false;
    const closeClient = (code: number, reason: string): void => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(code, closeReason(reason));
    };
    client.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data.toString('utf8'), 'utf8');
      if (upstream?.readyState === WebSocket.OPEN) { upstream.send(bytes, { binary: true }); return; }
      pendingBytes += bytes.length;
      if (pendingBytes > MAX_PENDING_BYTES) { closeClient(1009, 'too much input before the console opened'); return; }
      pending.push(bytes);
    });
    client.on('close', () => { clientGone = true; upstream?.close(1000); });
    client.on('error', () => undefined);

    this.agents.openWebSocket(node, AGENT_CONSOLE_PATHS[kind]).then((ws) => {
      upstream = ws;
      if (clientGone) { ws.close(1000); return; }
      for (const bytes of pending.splice(0)) ws.send(bytes, { binary: true });
      ws.on('message', (data: Buffer) => { if (client.readyState === WebSocket.OPEN) client.send(data, { binary: true }); });
      ws.on('error', () => undefined);
      ws.on('close', (code: number, reason: Buffer) => {
        if (clientGone) return;
        void this.ended(node).then((deleted) => {
          if (deleted) closeClient(CONSOLE_CLOSE.nodeDeleted, `node ${node.name} was deleted`);
          else if (sendable(code)) closeClient(code, reason.toString('utf8'));
          else closeClient(CONSOLE_CLOSE.agentUnreachable, `the connection to the BMC of node ${node.name} was lost`);
        });
      });
    }, async (error: unknown) => {
      // A node deleted while its console was opening: say that, not what the connection attempt met.
      if (await this.ended(node)) { closeClient(CONSOLE_CLOSE.nodeDeleted, `node ${node.name} was deleted`); return; }
      if (error instanceof AgentUnavailableError) {
        this.logger.warn(`${kind} console of node ${node.name}: ${error.message}`);
        const code = error.status >= 400 && error.status < 600 && error.status !== 502 ? CONSOLE_CLOSE.agentRefusedBase + error.status : CONSOLE_CLOSE.agentUnreachable;
        closeClient(code, error.message);
        return;
      }
      this.logger.error(`${kind} console of node ${node.name}: ${String(error)}`);
      closeClient(CONSOLE_CLOSE.agentUnreachable, `cannot reach the BMC of node ${node.name}`);
    });
  }

  /** Whether the node is gone or going (its console then closes with 4410). */
  private async ended(node: NodeWithLeases): Promise<boolean> {
    try {
      const now = await this.nodes.row(node.name);
      return now.id !== node.id || now.state === 'deleting';
    } catch (error) {
      return error instanceof NotFoundException;
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** An HTTP answer instead of the upgrade, in the API's error shape. */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ statusCode: status, message, error: REASONS[status] ?? 'Error' });
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n${body}`);
}

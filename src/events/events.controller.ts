/**
 * GET /api/v1/events: the fleet as Server-Sent Events (HTML Living Standard section 9.2), one JSON
 * FleetMessage per `data:` line: first a snapshot, then each change as it happens. A comment line
 * every KEEPALIVE_MS keeps the stream from ever looking idle (section 9.2.7 suggests such comments).
 */
import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FleetMessage } from './fleet-message';
import { FleetWatch } from './fleet-watch.service';

/**
 * Well under 5 s: whenever Firefox sees the host's network change (any interface or address added or
 * removed, e.g. each container started or removed on a Docker host), it closes every HTTP connection
 * that then receives nothing for 5 s (its `network.http.network-changed.timeout`), and its
 * EventSource takes that close as fatal: readyState CLOSED, no reconnection. A comment every 2 s
 * keeps bytes arriving in any such window; proxies' idle timeouts (tens of seconds) are met too.
 */
export const KEEPALIVE_MS = 2_000;

interface StreamRequest {
  on(event: 'close', listener: () => void): unknown;
}
interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  flushHeaders?(): void;
}

@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  constructor(private readonly fleet: FleetWatch) {}

  @Get()
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'Server-Sent Events: {kind: snapshot|node|node-removed|node-event, ...} per message' })
  async stream(@Req() request: StreamRequest, @Res() response: StreamResponse): Promise<void> {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (message: FleetMessage): void => {
      response.write(`data: ${JSON.stringify(message)}\n\n`);
    };
    let closed = false;
    let leave = (): void => undefined;
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
    request.on('close', () => {
      closed = true;
      clearInterval(keepalive);
      leave();
      response.end();
    });
    const { snapshot, unsubscribe } = await this.fleet.subscribe(send);
    if (closed) {
      unsubscribe();
      return;
    }
    leave = unsubscribe;
    // retry: how long EventSource waits before it reconnects after the stream ends.
    response.write('retry: 1000\n\n');
    send({ kind: 'snapshot', nodes: snapshot });
  }
}

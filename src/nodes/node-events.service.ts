/** A node's event history: one NodeEvent row per thing that happened to it, mirrored in the log. */
import { Injectable, Logger } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { NodeEvents, NodeEventType } from './fleet-context';

@Injectable()
export class DatabaseNodeEvents extends NodeEvents {
  private readonly logger = new Logger('NodeEvents');

  constructor(private readonly prisma: PrismaService) {
    super();
  }

  async record(nodeId: string, type: NodeEventType, message: string): Promise<void> {
    const line = `${type}: ${message}`;
    if (type === 'error') this.logger.warn(line);
    else this.logger.log(line);
    try {
      await this.prisma.nodeEvent.create({ data: { nodeId, type, message } });
    } catch (error) {
      // The node may be gone already (deleted meanwhile); the log line above still tells the story.
      this.logger.debug(`event not stored for node ${nodeId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

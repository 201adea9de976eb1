/** The node's screen through its BMC (the agent's /kvm/0/screenshot.png), in the API's errors. */
import { BadGatewayException, BadRequestException, HttpException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { NodesService } from '../nodes/nodes.service';
import { agentErrorMessage, AgentUnavailableError, NodeAgents } from './node-agents';

export const SCREENSHOT_WIDTH = { min: 16, max: 4096 } as const;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

@Injectable()
export class ScreenshotService {
  constructor(private readonly nodes: NodesService, private readonly agents: NodeAgents) {}

  async take(name: string, width: number | undefined): Promise<Buffer> {
    const node = await this.nodes.row(name);
    let reply;
    try {
      reply = await this.agents.get(node, `/kvm/0/screenshot.png${width === undefined ? '' : `?width=${width}`}`);
    } catch (error) {
      if (error instanceof AgentUnavailableError) throw statusError(error.status, error.message);
      throw error;
    }
    if (reply.status === 200 && reply.body.subarray(0, 8).equals(PNG_SIGNATURE)) return reply.body;
    if (reply.status === 200) throw new BadGatewayException(`the BMC of node ${name} answered the screenshot with something that is not a PNG`);
    throw statusError(reply.status, `node ${name}: ${agentErrorMessage(reply.body)}`);
  }
}

function statusError(status: number, message: string): HttpException {
  switch (status) {
    case 400: return new BadRequestException(message);
    case 404: return new NotFoundException(message);
    case 503: return new ServiceUnavailableException(message);
    default: return new BadGatewayException(message);
  }
}

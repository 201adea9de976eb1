/**
 * The node consoles through the orchestrator: the serial and graphical console WebSockets
 * (console-proxy.ts) and the screenshot (consoles.controller.ts), both through the node's agent
 * (node-agents.ts). Needs NodesModule (global) and DockerModule (global).
 */
import { Module } from '@nestjs/common';
import { ConsoleProxy } from './console-proxy';
import { ConsolesController } from './consoles.controller';
import { NodeAgents } from './node-agents';
import { ScreenshotService } from './screenshot.service';

@Module({
  controllers: [ConsolesController],
  providers: [NodeAgents, ScreenshotService, ConsoleProxy],
  exports: [NodeAgents],
})
export class ConsolesModule {}

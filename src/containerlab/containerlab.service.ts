/**
 * Renders the fleet as a containerlab topology: reads the nodes from the ContainerlabNodeSource and
 * hands them to the pure renderer (topology.ts) with the fleet name as the default lab name.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ContainerlabNodeSource } from './containerlab-node-source';
import type { LinkRequest } from './links';
import { DEFAULT_TOPOLOGY_MODE, type TopologyMode } from './topology-nodes';
import { renderTopology, type RenderedTopology } from './topology';

export interface TopologyRequest {
  /** Default: the fleet name. */
  readonly labName?: string;
  readonly mode?: TopologyMode;
  /** API names; undefined: every node. */
  readonly nodes?: readonly string[];
  readonly links?: readonly LinkRequest[];
}

@Injectable()
export class ContainerlabService {
  private readonly logger = new Logger(ContainerlabService.name);

  constructor(
    private readonly source: ContainerlabNodeSource,
    private readonly config: AppConfig,
  ) {}

  /** Throws ContainerlabError (nothing rendered) when a name or link is refused. */
  async render(request: TopologyRequest): Promise<RenderedTopology> {
    const records = await this.source.list();
    const rendered = renderTopology(records, {
      labName: request.labName ?? this.config.fleetName,
      mode: request.mode ?? DEFAULT_TOPOLOGY_MODE,
      ...(request.nodes === undefined ? {} : { nodes: request.nodes }),
      links: request.links ?? [],
    });
    const { name, topology } = rendered.topology;
    this.logger.debug(`topology ${name} rendered: ${Object.keys(topology.nodes).length} node(s) as ${rendered.mode}, ${topology.links?.length ?? 0} link(s)`);
    return rendered;
  }
}

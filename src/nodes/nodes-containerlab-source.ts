/** The fleet as the containerlab renderer reads it: each node's view and the container it runs as. */
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ContainerlabNodeRecord, ContainerlabNodeSource } from '../containerlab/containerlab-node-source';
import { DockerNodeRuntime } from './node-runtime.service';
import { toNodeView } from './node.model';
import { NodesService } from './nodes.service';

@Injectable()
export class NodesContainerlabSource extends ContainerlabNodeSource {
  constructor(private readonly config: AppConfig, private readonly nodes: NodesService, private readonly runtime: DockerNodeRuntime) {
    super();
  }

  async list(): Promise<ContainerlabNodeRecord[]> {
    const rows = await this.nodes.rows();
    return rows.map((row) => ({ view: toNodeView(row, this.config.publishAddress), spec: this.runtime.specFor(row) }));
  }
}

/** The fleet as the containerlab renderer reads it: each node's view and the runtime spec it runs with. */
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ContainerlabNodeRecord, ContainerlabNodeSource } from '../containerlab/containerlab-node-source';
import { NodeDeployer } from './node-deployer';
import { toNodeView } from './node.model';
import { NodesService } from './nodes.service';

@Injectable()
export class NodesContainerlabSource extends ContainerlabNodeSource {
  constructor(private readonly config: AppConfig, private readonly nodes: NodesService, private readonly deployer: NodeDeployer) {
    super();
  }

  async list(): Promise<ContainerlabNodeRecord[]> {
    const rows = await this.nodes.rows();
    const kvm = rows.length === 0 ? false : await this.deployer.kvmAvailable(null);
    return Promise.all(rows.map(async (row) => ({ view: toNodeView(row, this.config.publishAddress), spec: await this.deployer.specFor(row, kvm) })));
  }
}

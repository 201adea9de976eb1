/** The fleet as the containerlab renderer reads it: each node's view and the runtime spec it runs with. */
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ContainerlabNodeRecord, ContainerlabNodeSource } from '../containerlab/containerlab-node-source';
import { RuntimeUnavailableError } from '../runtime/runtime-errors';
import { NodeDeployer } from './node-deployer';
import { toNodeView } from './node.model';
import { NodesService } from './nodes.service';
import { HostAddresses } from './host-addresses.service';

@Injectable()
export class NodesContainerlabSource extends ContainerlabNodeSource {
  constructor(private readonly nodes: NodesService, private readonly deployer: NodeDeployer, private readonly addresses: HostAddresses) {
    super();
  }

  async list(): Promise<ContainerlabNodeRecord[]> {
    const rows = await this.nodes.rows();
    let kvm = false;
    try {
      // Whether the runtime's hosts give /dev/kvm decides the devices of linux mode's nodes.
      if (rows.length > 0) kvm = await this.deployer.kvmAvailable(null);
    } catch (error) {
      if (error instanceof RuntimeUnavailableError) throw new ServiceUnavailableException(error.message);
      throw error;
    }
    const addressOf = await this.addresses.resolver();
    return Promise.all(rows.map(async (row) => ({ view: toNodeView(row, addressOf(row.host)), spec: await this.deployer.specFor(row, kvm) })));
  }
}

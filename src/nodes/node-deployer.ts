/**
 * Brings one node row to life through the runtime (NodeRuntime), whatever the engine: builds its
 * NodeSpec, gives an old row what a new instance needs (leases, VNC password), checks its ISO, and
 * stores where it runs (runtimeId, host; leases made before leases were per host take that host). The create path and the reconciler share it, so a node the
 * reconciler repairs is exactly the node a create makes.
 */
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { IsoLibrary } from '../media/iso-library';
import { NodeRuntime, type NodeRef, type NodeSpec } from '../runtime/node-runtime';
import { generateSecret, VNC_PASSWORD_LENGTH } from './generate-secret';
import { LEASE_KINDS } from './lease-kinds';
import { nodeSpec } from './node-spec';
import type { NodeWithLeases } from './node.model';
import { ANY_HOST, PortLeases } from './port-leases.service';
import { FarmsService, type FarmRow } from '../farms/farms.service';

/** Which runtime node a row means. */
export function nodeRefOf(node: Pick<NodeWithLeases, 'id' | 'name' | 'runtimeRef' | 'host'>): NodeRef {
  return { id: node.id, name: node.name, ref: node.runtimeRef, host: node.host };
}

@Injectable()
export class NodeDeployer {
  constructor(
    private readonly config: AppConfig,
    private readonly runtime: NodeRuntime,
    private readonly prisma: PrismaService,
    private readonly media: IsoLibrary,
    private readonly leases: PortLeases,
    private readonly farms: FarmsService,
  ) {}

  /** The node as its runtime runs it (also what containerlab's `linux` mode renders). */
  async specFor(node: NodeWithLeases, kvmAvailable?: boolean): Promise<NodeSpec> {
    return nodeSpec(node, {
      image: this.config.nodeImage,
      publishAddress: this.config.publishAddress,
      isoDir: this.media.directory,
      nodeDefaults: this.config.nodeDefaults,
      kvmAvailable: kvmAvailable ?? (await this.kvmAvailable(node.host)),
    });
  }

  /** Whether the node's host (any host while it has none) can give /dev/kvm. */
  async kvmAvailable(host: string | null): Promise<boolean> {
    const hosts = await this.runtime.hosts();
    return hosts.some((candidate) => candidate.kvm && (host === null || candidate.name === host));
  }

  /**
   * Makes the node run as its row says (NodeRuntime.ensure) and stores its runtimeId and host.
   * Rejects with the runtime's errors (PortInUseError, …) or the ISO's CdromRejectedError.
   */
  async ensureRunning(given: NodeWithLeases): Promise<NodeWithLeases> {
    if (given.farmId !== null) {
      // A farm node: its farm runs, and hosts its BMC.
      const farm = await this.farms.ensureRunning(await this.farmOf(given));
      const failed = await this.farms.addBmcs(farm, [given]);
      if (failed.length > 0) throw new Error(`farm ${farm.name} could not start the BMC: ${failed[0]?.error ?? ''}`);
      return given;
    }
    const node = await this.withNewInstanceSettings(given);
    // Checked again at every (re-)creation: the file may have been replaced since the node was made.
    if (node.cdrom !== null) await this.media.resolve(node.cdrom);
    const ensured = await this.runtime.ensure(await this.specFor(node));
    const unclaimed = node.leases.some((lease) => lease.host === ANY_HOST);
    if (node.runtimeId === ensured.runtimeId && node.host === ensured.host && !unclaimed) return node;
    await this.prisma.node.update({ where: { id: node.id }, data: { runtimeId: ensured.runtimeId, host: ensured.host } });
    if (unclaimed) await this.leases.claimHost(node.id, ensured.host);
    return {
      ...node,
      runtimeId: ensured.runtimeId,
      host: ensured.host,
      leases: node.leases.map((lease) => (lease.host === ANY_HOST ? { ...lease, host: ensured.host } : lease)),
    };
  }

  /** Removes the node's runtime node; its disk too with purge (NodeRuntime.remove). */
  async remove(node: NodeWithLeases, purge: boolean): Promise<void> {
    if (node.farmId !== null) return this.farms.removeBmcs(node.farmId, [node], purge);
    await this.runtime.remove(nodeRefOf(node), purge ? 'purge' : 'keep');
  }

  /** Undoes a create that did not finish: its runtime node, and its disk only when this create made it. */
  async discard(node: NodeWithLeases): Promise<void> {
    // A farm BMC's state stays under its name, as a kept disk (the next node of that name finds it).
    if (node.farmId !== null) return this.farms.removeBmcs(node.farmId, [node], false);
    await this.runtime.remove(nodeRefOf(node), 'discard');
  }

  private async farmOf(node: NodeWithLeases): Promise<FarmRow> {
    const farm = await this.farms.farmOf(node.farmId as string);
    if (farm === null) throw new Error(`node ${node.name}: its farm is gone`);
    return farm;
  }

  /**
   * A row made before VNC passwords or Redfish ports gets them when its runtime node is made anew (a
   * running one keeps the environment and ports it was made with, so its row stays as it is).
   */
  private async withNewInstanceSettings(given: NodeWithLeases): Promise<NodeWithLeases> {
    const complete = given.vncPassword !== null && LEASE_KINDS.every((kind) => given.leases.some((lease) => lease.kind === kind));
    if (complete || (await this.runtime.observe(given.runtimeRef)) !== null) return given;
    const node = await this.leases.withAllLeases(given);
    if (node.vncPassword !== null) return node;
    const vncPassword = generateSecret(VNC_PASSWORD_LENGTH);
    await this.prisma.node.update({ where: { id: node.id }, data: { vncPassword } });
    return { ...node, vncPassword };
  }
}

/**
 * Which certificate each node's Redfish service must present: the one its agent generated and keeps
 * in BMC_STATE_DIR, read back from the node through its runtime. A node in a farm has no runtime node
 * of its own: every BMC of a farm presents the farm's one certificate, which the managed farm keeps in
 * its own state directory (farm-spec.ts FARM_STATE_DIR), so it is read from the farm's runtime node (NodeRuntime.readFile, never from
 * the network, so nothing between the orchestrator and the node can slip in its own). Remembered per
 * instance: a re-created runtime node (new runtimeId) is read again, and so is one whose agent made a new
 * certificate (a TLS refusal forgets the pin once, see FleetRedfishService).
 */
import { Injectable } from '@nestjs/common';
import { posix } from 'node:path';
import { AppConfig } from '../config/app-config';
import { NodeRuntime } from '../runtime/node-runtime';
import { CERT_DOCUMENT } from '../../node-image/src/redfish/tls-certificate';
import { FARM_STATE_DIR } from '../farms/farm-spec';

/** The agent's BMC_STATE_DIR default (design.md section 1), where the node's volume is mounted. */
export const AGENT_STATE_DIR = '/vm/bmc';
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class CertificateNotReady extends Error {}

export interface CertificateOwner {
  readonly id: string;
  readonly name: string;
  readonly runtimeRef: string;
  readonly runtimeId: string | null;
  /** Where in that runtime node the certificate is; the agent's (certificatePath) when absent. */
  readonly certificatePath?: string;
}

/** A farm's runtime node, as a node row includes it. */
export interface FarmRuntime {
  readonly runtimeRef: string;
  readonly runtimeId: string | null;
}

/** Whose certificate a node's Redfish presents: its own runtime node's, or its farm's. */
export function certificateOwnerOf(node: { id: string; name: string; runtimeRef: string; runtimeId: string | null; farm: FarmRuntime | null }): CertificateOwner {
  if (node.farm === null) return node;
  return { id: node.id, name: node.name, runtimeRef: node.farm.runtimeRef, runtimeId: node.farm.runtimeId, certificatePath: posix.join(FARM_STATE_DIR, CERT_DOCUMENT) };
}

@Injectable()
export class NodeCertificates {
  private readonly pins = new Map<string, { readonly runtimeId: string | null; readonly pem: string }>();

  constructor(
    private readonly config: AppConfig,
    private readonly runtime: NodeRuntime,
  ) {}

  /** Where the agent keeps its certificate (NODE_DEFAULTS_BMC_STATE_DIR moves it for every node). */
  get certificatePath(): string {
    return posix.join(this.config.nodeDefaults['BMC_STATE_DIR'] ?? AGENT_STATE_DIR, CERT_DOCUMENT);
  }

  async pinned(node: CertificateOwner): Promise<string> {
    const known = this.pins.get(node.id);
    if (known !== undefined && known.runtimeId === node.runtimeId) return known.pem;
    const path = node.certificatePath ?? this.certificatePath;
    const file = await this.runtime.readFile(node.runtimeRef, path, MAX_CERTIFICATE_BYTES);
    const pem = file?.toString('utf8') ?? '';
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CertificateNotReady(`node ${node.name}: its agent has not made its Redfish certificate yet (${path} in ${node.runtimeRef}); try again shortly`);
    }
    this.pins.set(node.id, { runtimeId: node.runtimeId, pem });
    return pem;
  }

  forget(nodeId: string): void {
    this.pins.delete(nodeId);
  }
}

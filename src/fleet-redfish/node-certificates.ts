/**
 * Which certificate each node's Redfish service must present: the one its agent generated and keeps
 * in BMC_STATE_DIR, read back from the node through its runtime (NodeRuntime.readFile, never from
 * the network, so nothing between the orchestrator and the node can slip in its own). Remembered per
 * instance: a re-created runtime node (new runtimeId) is read again, and so is one whose agent made a new
 * certificate (a TLS refusal forgets the pin once, see FleetRedfishService).
 */
import { Injectable } from '@nestjs/common';
import { posix } from 'node:path';
import { AppConfig } from '../config/app-config';
import { NodeRuntime } from '../runtime/node-runtime';
import { CERT_DOCUMENT } from '../../node-image/src/redfish/tls-certificate';

/** The agent's BMC_STATE_DIR default (design.md section 1), where the node's volume is mounted. */
export const AGENT_STATE_DIR = '/vm/bmc';
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class CertificateNotReady extends Error {}

export interface CertificateOwner {
  readonly id: string;
  readonly name: string;
  readonly runtimeRef: string;
  readonly runtimeId: string | null;
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
    const file = await this.runtime.readFile(node.runtimeRef, this.certificatePath, MAX_CERTIFICATE_BYTES);
    const pem = file?.toString('utf8') ?? '';
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CertificateNotReady(`node ${node.name}: its agent has not made its Redfish certificate yet (${this.certificatePath} in ${node.runtimeRef}); try again shortly`);
    }
    this.pins.set(node.id, { runtimeId: node.runtimeId, pem });
    return pem;
  }

  forget(nodeId: string): void {
    this.pins.delete(nodeId);
  }
}

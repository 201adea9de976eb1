/**
 * A node's virtual CD through its agent's Redfish service (the Manager's VirtualMedia/Cd, DSP0268
 * VirtualMedia): read, insert by URL (an image already in the slot is ejected first), eject.
 */
import { BadGatewayException, BadRequestException, ConflictException, Injectable } from '@nestjs/common';
import { AgentRedfish, AgentUnreachableError, type AgentRedfishTarget } from '../bmc/agent-redfish';
import { AppConfig } from '../config/app-config';
import { NodeRuntime } from '../runtime/node-runtime';
import { messageOf } from '../common/errors/message-of';
import { NodesService } from './nodes.service';
import type { NodeWithLeases } from './node.model';
import { HostAddresses } from './host-addresses.service';

export const CD_PATH = '/redfish/v1/Managers/1/VirtualMedia/Cd';
const CERTIFICATE_MAX_BYTES = 64 * 1024;

export interface VirtualMediaView {
  readonly name: string;
  readonly inserted: boolean;
  readonly image: string | null;
}

/** The first message of a Redfish error body (DSP0266 section 9.6), or the status. */
function redfishMessage(status: number, body: unknown): string {
  const error = (body as { error?: { message?: unknown; '@Message.ExtendedInfo'?: { Message?: unknown }[] } } | null)?.error;
  const extended = error?.['@Message.ExtendedInfo']?.[0]?.Message;
  return typeof extended === 'string' ? extended : typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
}

@Injectable()
export class VirtualMediaService {
  constructor(
    private readonly config: AppConfig,
    private readonly nodes: NodesService,
    private readonly runtime: NodeRuntime,
    private readonly redfish: AgentRedfish,
    private readonly addresses: HostAddresses,
  ) {}

  async get(name: string): Promise<VirtualMediaView> {
    const target = await this.target(await this.nodes.row(name));
    return this.read(name, target);
  }

  async insert(name: string, image: string): Promise<VirtualMediaView> {
    const target = await this.target(await this.nodes.row(name));
    const current = await this.read(name, target);
    if (current.inserted) await this.action(target, 'EjectMedia', {});
    await this.action(target, 'InsertMedia', { Image: image, Inserted: true, WriteProtected: true });
    return this.read(name, target);
  }

  async eject(name: string): Promise<VirtualMediaView> {
    const target = await this.target(await this.nodes.row(name));
    const current = await this.read(name, target);
    if (current.inserted) await this.action(target, 'EjectMedia', {});
    return this.read(name, target);
  }

  private async read(name: string, target: AgentRedfishTarget): Promise<VirtualMediaView> {
    const answer = await this.call(target, 'GET', CD_PATH);
    if (answer.status !== 200) throw new BadGatewayException(`node ${name}: the BMC answered ${answer.status} for its virtual CD: ${redfishMessage(answer.status, answer.body)}`);
    const body = answer.body as { Inserted?: unknown; Image?: unknown };
    return { name, inserted: body.Inserted === true, image: typeof body.Image === 'string' && body.Image !== '' ? body.Image : null };
  }

  private async action(target: AgentRedfishTarget, action: 'InsertMedia' | 'EjectMedia', body: unknown): Promise<void> {
    const answer = await this.call(target, 'POST', `${CD_PATH}/Actions/VirtualMedia.${action}`, body);
    if (answer.status >= 200 && answer.status < 300) return;
    const message = `${action}: ${redfishMessage(answer.status, answer.body)}`;
    if (answer.status === 400) throw new BadRequestException(`image: ${message}`);
    if (answer.status === 409) throw new ConflictException(message);
    throw new BadGatewayException(`the BMC answered ${answer.status} to ${message}`);
  }

  private async call(target: AgentRedfishTarget, method: 'GET' | 'POST', path: string, body?: unknown) {
    try {
      return await this.redfish.call(target, method, path, body);
    } catch (error) {
      if (error instanceof AgentUnreachableError) throw new BadGatewayException(error.message);
      throw error;
    }
  }

  private async target(node: NodeWithLeases): Promise<AgentRedfishTarget> {
    if (node.state !== 'running') throw new ConflictException(`node ${node.name} is ${node.state}`);
    const lease = node.leases.find((candidate) => candidate.kind === 'redfish');
    if (lease === undefined) throw new ConflictException(`node ${node.name} has no Redfish port (made before Redfish ports; its next re-create leases one)`);
    const defaults = this.config.nodeDefaults;
    const path = defaults['REDFISH_TLS_CERT'] ?? `${(defaults['BMC_STATE_DIR'] ?? '/vm/bmc').replace(/\/+$/, '')}/redfish-cert.pem`;
    let certificate: Buffer | null;
    try {
      certificate = await this.runtime.readFile(node.runtimeRef, path, CERTIFICATE_MAX_BYTES);
    } catch (error) {
      throw new BadGatewayException(`node ${node.name}: could not read its BMC's certificate: ${messageOf(error)}`);
    }
    if (certificate === null) throw new BadGatewayException(`node ${node.name}: its BMC has no certificate at ${path} yet`);
    return { host: await this.addresses.of(node.host), port: lease.port, user: node.ipmiUser, password: node.ipmiPassword, certificate };
  }
}

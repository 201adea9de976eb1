import { BadGatewayException, BadRequestException, ConflictException } from '@nestjs/common';
import { AgentRedfish, AgentUnreachableError, type AgentRedfishTarget, type RedfishAnswer } from '../bmc/agent-redfish';
import type { AppConfig } from '../config/app-config';
import type { NodeRuntime } from '../runtime/node-runtime';
import type { NodesService } from './nodes.service';
import type { HostAddresses } from './host-addresses.service';
import type { NodeWithLeases } from './node.model';
import { CD_PATH, VirtualMediaService } from './virtual-media.service';

const node = {
  name: 'n1', state: 'running', runtimeRef: 'fleet-n1', ipmiUser: 'admin', ipmiPassword: 's3cret-pass',
  leases: [{ kind: 'ipmi', port: 16230 }, { kind: 'redfish', port: 17000 }],
} as unknown as NodeWithLeases;

/** An agent that answers from a script of (method path) → answer, and records the calls. */
class ScriptedAgent extends AgentRedfish {
  readonly calls: { method: string; path: string; body: unknown; target: AgentRedfishTarget }[] = [];
  constructor(private readonly answers: Record<string, RedfishAnswer | Error>) {
    super();
  }
  async call(target: AgentRedfishTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<RedfishAnswer> {
    this.calls.push({ method, path, body, target });
    const answer = this.answers[`${method} ${path}`];
    if (answer === undefined) throw new Error(`unexpected ${method} ${path}`);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

function sut(agent: AgentRedfish, row: NodeWithLeases = node, certificate: Buffer | null = Buffer.from('PEM')) {
  const config = { publishAddress: '127.0.0.1', nodeDefaults: {} } as unknown as AppConfig;
  const nodes = { row: jest.fn().mockResolvedValue(row) } as unknown as NodesService;
  const docker = { readFile: jest.fn().mockResolvedValue(certificate) } as unknown as NodeRuntime;
  const addresses = { of: jest.fn().mockResolvedValue('127.0.0.1') } as unknown as HostAddresses;
  return new VirtualMediaService(config, nodes, docker, agent, addresses);
}

const empty: RedfishAnswer = { status: 200, body: { Inserted: false, Image: null } };
const full: RedfishAnswer = { status: 200, body: { Inserted: true, Image: 'http://old/a.iso' } };

describe('VirtualMediaService', () => {
  it('reads the Cd slot on the leased Redfish port with the node\'s credentials and its pinned certificate', async () => {
    const agent = new ScriptedAgent({ [`GET ${CD_PATH}`]: full });
    await expect(sut(agent).get('n1')).resolves.toEqual({ name: 'n1', inserted: true, image: 'http://old/a.iso' });
    expect(agent.calls[0]?.target).toEqual({ host: '127.0.0.1', port: 17000, user: 'admin', password: 's3cret-pass', certificate: Buffer.from('PEM') });
  });

  it('ejects what is in the slot before inserting', async () => {
    const agent = new ScriptedAgent({
      [`GET ${CD_PATH}`]: full,
      [`POST ${CD_PATH}/Actions/VirtualMedia.EjectMedia`]: { status: 204, body: null },
      [`POST ${CD_PATH}/Actions/VirtualMedia.InsertMedia`]: { status: 204, body: null },
    });
    await sut(agent).insert('n1', 'http://new/b.iso');
    expect(agent.calls.map((call) => `${call.method} ${call.path.replace(CD_PATH, '')}`)).toEqual([
      'GET ', 'POST /Actions/VirtualMedia.EjectMedia', 'POST /Actions/VirtualMedia.InsertMedia', 'GET ',
    ]);
    expect(agent.calls[2]?.body).toEqual({ Image: 'http://new/b.iso', Inserted: true, WriteProtected: true });
  });

  it('gives the BMC\'s refusal as a 400 naming image, and an unreachable BMC as a 502', async () => {
    const refused = new ScriptedAgent({
      [`GET ${CD_PATH}`]: empty,
      [`POST ${CD_PATH}/Actions/VirtualMedia.InsertMedia`]: { status: 400, body: { error: { message: 'x', '@Message.ExtendedInfo': [{ Message: 'cannot reach the image server' }] } } },
    });
    await expect(sut(refused).insert('n1', 'http://x/y.iso')).rejects.toThrow(new BadRequestException('image: InsertMedia: cannot reach the image server'));
    const gone = new ScriptedAgent({ [`GET ${CD_PATH}`]: new AgentUnreachableError('ECONNREFUSED') });
    await expect(sut(gone).get('n1')).rejects.toBeInstanceOf(BadGatewayException);
  });

  it('refuses a node without a Redfish port or not running, and one whose BMC has no certificate yet', async () => {
    const agent = new ScriptedAgent({});
    await expect(sut(agent, { ...node, leases: [] } as NodeWithLeases).get('n1')).rejects.toBeInstanceOf(ConflictException);
    await expect(sut(agent, { ...node, state: 'creating' } as NodeWithLeases).get('n1')).rejects.toBeInstanceOf(ConflictException);
    await expect(sut(agent, node, null).get('n1')).rejects.toBeInstanceOf(BadGatewayException);
    expect(agent.calls).toEqual([]);
  });
});

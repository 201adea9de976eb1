import { ConflictException, HttpException } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import type { PrismaService } from '../database/prisma.service';
import type { NodeDeployer } from '../nodes/node-deployer';
import type { NodeView } from '../nodes/node.model';
import type { NodesService } from '../nodes/nodes.service';
import type { FarmsService } from '../farms/farms.service';
import type { FarmBatch } from '../farms/farm-batch';
import type { NodeRuntime } from '../runtime/node-runtime';
import { BATCH_CREATE_CONCURRENCY, NodeBatchesService } from './node-batches.service';

const RANGE = { first: 20_000, last: 29_999 };

function view(name: string): NodeView {
  return { id: `id-${name}`, name, ipmi: { host: '127.0.0.1', port: 1, user: 'admin' }, redfish: { host: '127.0.0.1', port: 2 } } as unknown as NodeView;
}

/** A NodeBatchesService over fakes: `failOn` names the node whose create fails; records every call. */
function setUp(failOn: string | null, error: unknown = new ConflictException('the name is taken by a stranger')) {
  const calls = { created: [] as string[], inFlight: 0, maxInFlight: 0, discarded: [] as string[], deleted: [] as string[] };
  const nodes = {
    create: jest.fn(async (dto: { name: string; ipmiPassword?: string }) => {
      calls.inFlight += 1;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      calls.inFlight -= 1;
      if (dto.name === failOn) throw error;
      calls.created.push(dto.name);
      return view(dto.name);
    }),
  };
  const prisma = {
    node: {
      findMany: jest.fn(async () => []),
      update: jest.fn(async ({ where }: { where: { id: string } }) => ({ id: where.id, leases: [] })),
      deleteMany: jest.fn(async ({ where }: { where: { id: string } }) => {
        calls.deleted.push(where.id);
        return { count: 1 };
      }),
    },
    portLease: { count: jest.fn(async () => 0) },
  };
  const deployer = { discard: jest.fn(async (node: { id: string }) => void calls.discarded.push(node.id)) };
  const config = { nodeDefaults: {}, ipmiPortRange: RANGE, vncPortRange: RANGE, redfishPortRange: RANGE } as unknown as AppConfig;
  const runtime = { hosts: jest.fn(async () => [{ name: 'host-a', accepting: true }]) };
  const sut = new NodeBatchesService(config, prisma as unknown as PrismaService, nodes as unknown as NodesService, deployer as unknown as NodeDeployer,
    // SIM_PLACEMENT=container: each node made as a single create (the farm path: farm-batch, test/e2e/farm-nodes).
    { enabled: false } as unknown as FarmsService, {} as unknown as FarmBatch, runtime as unknown as NodeRuntime);
  return { sut, calls, nodes };
}

describe('NodeBatchesService', () => {
  it('makes every node with one password, a few at a time, and answers them in name order', async () => {
    const { sut, calls, nodes } = setUp(null);
    const batch = await sut.create({ namePrefix: 'r', count: 12, machine: 'sim' });
    expect(batch.nodes.map((node) => node.name)).toEqual(Array.from({ length: 12 }, (_, i) => `r-${String(i + 1).padStart(2, '0')}`));
    expect(calls.maxInFlight).toBe(BATCH_CREATE_CONCURRENCY);
    const passwords = new Set(nodes.create.mock.calls.map(([dto]) => dto.ipmiPassword));
    expect(passwords).toEqual(new Set([batch.generatedIpmiPassword]));
    expect(batch.generatedIpmiPassword).toMatch(/^.{8,20}$/);
  });

  it('shows no generated password when one was given', async () => {
    const { sut } = setUp(null);
    expect((await sut.create({ namePrefix: 'r', count: 1, machine: 'sim', ipmiPassword: 'given-pass' })).generatedIpmiPassword).toBeUndefined();
  });

  it('starts no node after a failure and undoes every node it made, answering the failure\'s status and node', async () => {
    const { sut, calls } = setUp('r-05');
    const failure = await sut.create({ namePrefix: 'r', count: 40, machine: 'sim' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpException);
    expect((failure as HttpException).getStatus()).toBe(409);
    expect((failure as HttpException).message).toMatch(/^batch of 40 not created \(\d+ node\(s\) made before it were undone\): node r-05: the name is taken by a stranger$/);
    // Only the nodes already under way when r-05 failed were made; all of them were undone.
    expect(calls.created.length).toBeLessThan(5 + BATCH_CREATE_CONCURRENCY);
    expect(calls.discarded.sort()).toEqual(calls.created.map((name) => `id-${name}`).sort());
    expect(calls.deleted.sort()).toEqual(calls.discarded.sort());
  });

  it('answers 500 naming the node for a failure that is no HTTP answer', async () => {
    const { sut } = setUp('r-1', new Error('disk full'));
    await expect(sut.create({ namePrefix: 'r', count: 1, machine: 'sim' })).rejects.toThrow('batch of 1 not created (0 node(s) made before it were undone): node r-1: disk full');
  });
});

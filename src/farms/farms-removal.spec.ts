import type { AppConfig } from '../config/app-config';
import type { PrismaService } from '../database/prisma.service';
import type { NodeRuntime } from '../runtime/node-runtime';
import type { FarmControlClient } from './farm-control.client';
import { FarmsService } from './farms.service';

const FARM = { id: 'farm-id', name: 'farm-1', runtimeRef: 'fleet_farm-1', host: 'h1', runtimeId: 'r1' };

/** FarmsService.removeIfEmpty over fakes: `rows` node rows name the farm, `listed` BMCs its control lists. */
function setUp(state: { rows: number; listed: number; running: boolean }) {
  const calls: string[] = [];
  const prisma = {
    farm: {
      findUnique: jest.fn(async () => FARM),
      delete: jest.fn(async () => { calls.push('delete row'); return FARM; }),
    },
    node: { count: jest.fn(async () => state.rows) },
  };
  const runtime = {
    observe: jest.fn(async () => (state.running ? { state: 'running' } : null)),
    remove: jest.fn(async (ref: { ref: string }, disk: string) => { calls.push(`remove ${ref.ref} ${disk}`); }),
  };
  const control = { list: jest.fn(async () => Array.from({ length: state.listed }, (_, i) => ({ nodeId: `n${i}`, name: `n${i}`, power: 'off' }))) };
  const config = { farmCapacity: 10 } as unknown as AppConfig;
  const farms = new FarmsService(config, prisma as unknown as PrismaService, runtime as unknown as NodeRuntime, control as unknown as FarmControlClient);
  return { farms, calls, state };
}

describe('FarmsService.removeIfEmpty', () => {
  it('removes a farm no row names and whose control lists nothing: runtime node and disk first, then its row', async () => {
    const { farms, calls } = setUp({ rows: 0, listed: 0, running: true });
    await expect(farms.removeIfEmpty(FARM.id)).resolves.toBe(true);
    expect(calls).toEqual(['remove fleet_farm-1 purge', 'delete row']);
  });

  it('removes a farm whose runtime node is gone already', async () => {
    const { farms, calls } = setUp({ rows: 0, listed: 5, running: false });
    await expect(farms.removeIfEmpty(FARM.id)).resolves.toBe(true);
    expect(calls).toEqual(['remove fleet_farm-1 purge', 'delete row']);
  });

  it('keeps a farm a node row names (any state), or whose control still lists BMCs', async () => {
    for (const state of [{ rows: 1, listed: 0, running: true }, { rows: 0, listed: 2, running: true }]) {
      const { farms, calls } = setUp(state);
      await expect(farms.removeIfEmpty(FARM.id)).resolves.toBe(false);
      expect(calls).toEqual([]);
    }
  });

  it('waits for a placement in progress, and counts the rows it wrote', async () => {
    const { farms, calls, state } = setUp({ rows: 0, listed: 0, running: true });
    // A placement holding the lock: the batch's rows are written before the removal looks.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    (farms as unknown as { placing: Promise<unknown> }).placing = held.then(() => { state.rows = 3; });
    const removal = farms.removeIfEmpty(FARM.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([]);
    release();
    await expect(removal).resolves.toBe(false);
    expect(calls).toEqual([]);
  });
});

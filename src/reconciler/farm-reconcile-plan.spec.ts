import type { NodeWithLeases } from '../nodes/node.model';
import { planFarmReconcile } from './farm-reconcile-plan';

const old = new Date('2026-12-01T00:00:00Z');
const fresh = new Date('2026-12-07T12:00:00Z');
const settledBefore = new Date('2026-12-07T00:00:00Z');

function row(name: string, state: string, updatedAt = old): NodeWithLeases {
  return { id: `id-${name}`, name, state, updatedAt } as unknown as NodeWithLeases;
}
const bmc = (name: string, power: 'on' | 'off' = 'off', nodeId = `id-${name}`) => ({ nodeId, name, power });

describe('planFarmReconcile', () => {
  it('stores the power of every listed BMC of a live row and re-adds the ones the farm lost', () => {
    const plan = planFarmReconcile([row('a', 'running'), row('b', 'running'), row('c', 'failed')], [bmc('a', 'on'), bmc('c')], settledBefore);
    expect(plan.power).toEqual({ on: ['id-a'], off: ['id-c'] });
    expect(plan.readds.map((r) => r.name)).toEqual(['b']);
    expect(plan.strays).toEqual([]);
  });

  it('finishes deletes and rolls back settled creates, but leaves a create in progress alone', () => {
    const plan = planFarmReconcile([row('d', 'deleting'), row('old', 'creating'), row('new', 'creating', fresh)], [bmc('d'), bmc('old'), bmc('new')], settledBefore);
    expect(plan.finishDeletes.map((r) => r.name)).toEqual(['d']);
    expect(plan.rollbacks.map((r) => r.name)).toEqual(['old']);
    expect(plan.readds).toEqual([]);
    expect(plan.strays).toEqual([]);
  });

  it('takes out BMCs of no row, and a BMC of that name hosted for another node id (the row\'s is re-added)', () => {
    const plan = planFarmReconcile([row('a', 'running')], [bmc('a', 'off', 'someone-else'), bmc('ghost')], settledBefore);
    expect(plan.strays.map((s) => s.name)).toEqual(['a', 'ghost']);
    expect(plan.readds.map((r) => r.name)).toEqual(['a']);
  });
});

import { farmOfRef, planFaultReads } from './fault-read-plan';

describe('farmOfRef', () => {
  it('splits a farm BMC ref, and is null for a node of its own', () => {
    expect(farmOfRef('fleet_farm-1/rack1-7')).toEqual({ farm: 'fleet_farm-1', bmc: 'rack1-7' });
    expect(farmOfRef('fleet_node1')).toBeNull();
  });
});

describe('planFaultReads', () => {
  it('reads the BMCs of one farm together and every other node alone', () => {
    const plan = planFaultReads([
      { ref: 'fleet_node1' }, { ref: 'fleet_farm-1/a' }, { ref: 'fleet_farm-2/b' }, { ref: 'fleet_farm-1/c' }, { ref: 'fleet_node2' },
    ]);
    expect(plan.single).toEqual([{ ref: 'fleet_node1' }, { ref: 'fleet_node2' }]);
    expect([...plan.farms.entries()]).toEqual([
      ['fleet_farm-1', [{ ref: 'fleet_farm-1/a' }, { ref: 'fleet_farm-1/c' }]],
      ['fleet_farm-2', [{ ref: 'fleet_farm-2/b' }]],
    ]);
  });

  it('makes one call per farm however many of its BMCs have rules', () => {
    const plan = planFaultReads(Array.from({ length: 5000 }, (_, i) => ({ ref: `f_farm-${i % 3}/n${i}` })));
    expect(plan.single).toHaveLength(0);
    expect(plan.farms.size).toBe(3);
    expect([...plan.farms.values()].reduce((n, e) => n + e.length, 0)).toBe(5000);
  });
});

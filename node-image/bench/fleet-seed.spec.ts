import { seedNodes, sqliteTimestamp } from './fleet-seed';

describe('fleet bench seed', () => {
  const now = new Date('2026-11-24T04:38:58.518Z');

  it('writes timestamps as Prisma\'s SQLite adapter does', () => {
    expect(sqliteTimestamp(now)).toBe('2026-11-24T04:38:58.518+00:00');
  });

  it('makes running sim nodes with two leases on consecutive ports and one event each', () => {
    const seed = seedNodes({ count: 200, fleetName: 'fleet', ipmiFirstPort: 21_000, vncFirstPort: 21_200, now });
    expect(seed.nodes).toHaveLength(200);
    expect(seed.leases).toHaveLength(400);
    expect(seed.events).toHaveLength(200);
    const first = seed.nodes[0]!;
    expect(first).toMatchObject({ name: 'node-000', state: 'running', machine: 'sim', runtimeRef: 'fleet-node-000', host: 'bench-host', createdAt: '2026-11-24T04:38:58.518+00:00' });
    expect(first.runtimeId).toMatch(/^[0-9a-f]{64}$/);
    expect(seed.nodes[199]!.name).toBe('node-199');
    expect(seed.leases.filter((l) => l.nodeId === first.id)).toEqual([
      { kind: 'ipmi', port: 21_000, nodeId: first.id, createdAt: first.createdAt },
      { kind: 'vnc', port: 21_200, nodeId: first.id, createdAt: first.createdAt },
    ]);
  });

  it('keeps every unique column unique', () => {
    const seed = seedNodes({ count: 1_000, fleetName: 'f', ipmiFirstPort: 20_000, vncFirstPort: 30_000, now });
    const distinct = (values: readonly unknown[]): number => new Set(values).size;
    expect(distinct(seed.nodes.map((n) => n.id))).toBe(1_000);
    expect(distinct(seed.nodes.map((n) => n.name))).toBe(1_000);
    expect(distinct(seed.nodes.map((n) => n.runtimeRef))).toBe(1_000);
    expect(distinct(seed.leases.map((l) => `${l.kind}:${l.port}`))).toBe(2_000);
    expect(seed.nodes.map((n) => n.name)).toEqual([...seed.nodes.map((n) => n.name)].sort());
  });
});

import { pooledRandom } from './random-pool';

describe('pooledRandom', () => {
  it('hands out distinct values of the asked length across refills', () => {
    const random = pooledRandom(64);
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const b = random(16);
      expect(b.length).toBe(16);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(100);
  });

  it('serves requests larger than the pool directly', () => {
    expect(pooledRandom(8)(32).length).toBe(32);
  });

  it('returns copies: changing one does not change the next', () => {
    const random = pooledRandom(64);
    const a = random(4);
    a.fill(0xaa);
    expect(random(4).equals(Buffer.alloc(4, 0xaa))).toBe(false);
  });
});

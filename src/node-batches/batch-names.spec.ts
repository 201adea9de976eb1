import { BatchNameError, batchNames, MAX_BATCH_NODES } from './batch-names';

describe('batchNames', () => {
  it('numbers from firstIndex, padded to the width of the last number', () => {
    expect(batchNames('rack1', 3, 1)).toEqual(['rack1-1', 'rack1-2', 'rack1-3']);
    expect(batchNames('sim', 200, 1).slice(0, 2)).toEqual(['sim-001', 'sim-002']);
    expect(batchNames('sim', 200, 1).at(-1)).toBe('sim-200');
    expect(batchNames('sim', 2, 99)).toEqual(['sim-099', 'sim-100']);
    expect(batchNames('a', MAX_BATCH_NODES, 0).at(-1)).toBe('a-9999');
  });

  it('keeps the fleet\'s name order the batch\'s order', () => {
    const names = batchNames('n', 1000, 1);
    expect([...names].sort()).toEqual(names);
  });

  it.each([
    ['Rack', 1, 1, /namePrefix must be lower-case letters/],
    ['rack-', 1, 1, /namePrefix must be/],
    ['-rack', 1, 1, /namePrefix must be/],
    ['r', 0, 1, /count must be a whole number from 1 to 10000/],
    ['r', MAX_BATCH_NODES + 1, 1, /count must be a whole number from 1 to 10000/],
    ['r'.repeat(36), 1000, 1, /too long for 1000 nodes: names like r{36}-1000 have 41 characters, at most 40/],
  ])('refuses prefix %p count %p from %p', (prefix, count, first, message) => {
    expect(() => batchNames(prefix, count, first)).toThrow(BatchNameError);
    expect(() => batchNames(prefix, count, first)).toThrow(message);
  });
});

import { maxMemoryMiB, nodeSizeProblems } from './node-bounds';

const GIB = 1024 * 1024 * 1024;
const HOST = { memoryBytes: 24 * GIB, cpus: 2 };

describe('nodeSizeProblems', () => {
  it('accepts a node the host can hold', () => {
    expect(nodeSizeProblems({ memoryMiB: 2048, cpus: 2, diskSizeGiB: 20 }, HOST, 2048)).toEqual([]);
    expect(nodeSizeProblems({ memoryMiB: 24 * 1024 - 512, cpus: 1, diskSizeGiB: 2048 }, HOST, 2048)).toEqual([]);
  });

  it('names each limit broken: 1 TiB of RAM, 255 vCPUs, 64 TiB of disk', () => {
    expect(nodeSizeProblems({ memoryMiB: 1024 * 1024, cpus: 255, diskSizeGiB: 65536 }, HOST, 2048)).toEqual([
      'memoryMiB must not be greater than 24064 (the Docker host has 24576 MiB, less 512 MiB kept for the host and the node\'s own processes)',
      'cpus must not be greater than 2 (the Docker host\'s CPUs)',
      'diskSizeGiB must not be greater than 2048 (MAX_DISK_GIB)',
    ]);
  });

  it('never lets the memory limit fall below the API minimum on a tiny host', () => {
    expect(maxMemoryMiB({ memoryBytes: 256 * 1024 * 1024, cpus: 1 })).toBe(128);
  });
});

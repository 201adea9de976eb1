/**
 * How big a node the Docker host can hold (pure): memory and vCPUs against the engine's host
 * (GET /info MemTotal and NCPU), the disk against MAX_DISK_GIB. qcow2 disks are thin (they grow as
 * the guest writes) and the engine does not report its volumes' free space, so the disk limit is the
 * operator's. Each node is checked alone: nodes may together promise more than the host has, as VMs
 * on any hypervisor may.
 */
import type { RuntimeHost } from '../runtime/node-runtime';

/** What a host can give one node. */
type HostCapacity = Pick<RuntimeHost, 'memoryBytes' | 'cpus'>;

/** Memory kept for the host itself and the node container's own processes (agent, QEMU). */
export const HOST_MEMORY_RESERVE_MIB = 512;
const MIB = 1024 * 1024;

export interface NodeSize {
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly diskSizeGiB: number;
}

/** The largest memoryMiB a node may have on this host (never below the API's minimum of 128). */
export function maxMemoryMiB(capacity: HostCapacity): number {
  return Math.max(128, Math.floor(capacity.memoryBytes / MIB) - HOST_MEMORY_RESERVE_MIB);
}

/** Every limit the size breaks, each a sentence naming the field and the limit; empty when it fits. */
export function nodeSizeProblems(size: NodeSize, capacity: HostCapacity, maxDiskGiB: number): string[] {
  const problems: string[] = [];
  const memoryLimit = maxMemoryMiB(capacity);
  if (size.memoryMiB > memoryLimit) {
    problems.push(`memoryMiB must not be greater than ${memoryLimit} (the Docker host has ${Math.floor(capacity.memoryBytes / MIB)} MiB, less ${HOST_MEMORY_RESERVE_MIB} MiB kept for the host and the node's own processes)`);
  }
  if (size.cpus > capacity.cpus) {
    problems.push(`cpus must not be greater than ${capacity.cpus} (the Docker host's CPUs)`);
  }
  if (size.diskSizeGiB > maxDiskGiB) {
    problems.push(`diskSizeGiB must not be greater than ${maxDiskGiB} (MAX_DISK_GIB)`);
  }
  return problems;
}

/**
 * What one reconciler run must do for one farm (pure): a diff of the farm's node rows against the
 * BMCs its control lists (one call per farm, not one IPMI session per node).
 * - rows "deleting": take the BMC out (purge as the row says), then delete the row;
 * - rows "creating" no request holds any more: take the BMC out (its state kept) and delete the row;
 * - rows "running"/"failed" whose BMC the farm does not host: add it again;
 * - BMCs the farm hosts for no row of it (or for another node id): take them out, state kept;
 * - every listed BMC of a live row: its power state, stored in bulk.
 */
import type { NodeWithLeases } from '../nodes/node.model';

export interface ListedBmc {
  readonly nodeId: string;
  readonly name: string;
  readonly power: 'on' | 'off';
}

export interface FarmReconcilePlan {
  readonly finishDeletes: readonly NodeWithLeases[];
  readonly rollbacks: readonly NodeWithLeases[];
  readonly readds: readonly NodeWithLeases[];
  readonly strays: readonly ListedBmc[];
  /** Node ids by the power state their BMC reported. */
  readonly power: { readonly on: readonly string[]; readonly off: readonly string[] };
}

export function planFarmReconcile(rows: readonly NodeWithLeases[], listed: readonly ListedBmc[], settledBefore: Date): FarmReconcilePlan {
  const byId = new Map(listed.map((bmc) => [bmc.nodeId, bmc]));
  const live = new Set<string>();
  const finishDeletes: NodeWithLeases[] = [];
  const rollbacks: NodeWithLeases[] = [];
  const readds: NodeWithLeases[] = [];
  const on: string[] = [];
  const off: string[] = [];
  for (const row of rows) {
    if (row.state === 'deleting') { finishDeletes.push(row); continue; }
    if (row.state === 'creating') {
      // In a request's hands until settled; its BMC is left as it is meanwhile.
      if (row.updatedAt < settledBefore) rollbacks.push(row);
      else live.add(row.id);
      continue;
    }
    live.add(row.id);
    const bmc = byId.get(row.id);
    if (bmc === undefined || bmc.name !== row.name) { readds.push(row); continue; }
    (bmc.power === 'on' ? on : off).push(row.id);
  }
  const strays = listed.filter((bmc) => !live.has(bmc.nodeId) && !finishDeletes.some((row) => row.id === bmc.nodeId) && !rollbacks.some((row) => row.id === bmc.nodeId));
  return { finishDeletes, rollbacks, readds, strays, power: { on, off } };
}

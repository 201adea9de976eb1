/**
 * How the orchestrator reads the fault rules of many nodes: a node that is its own runtime node is
 * asked alone (its agent's fault-ctl); the BMCs of one farm are read together, one `farm-ctl
 * faults-all` per farm, whatever their number. Pure.
 */

/** The farm and BMC of a fault ref `<farm runtime name>/<node name>` (agent-fault-control.ts faultRefOf); null for a node of its own. */
export function farmOfRef(ref: string): { readonly farm: string; readonly bmc: string } | null {
  const at = ref.indexOf('/');
  return at < 0 ? null : { farm: ref.slice(0, at), bmc: ref.slice(at + 1) };
}

export interface FaultReadPlan<T> {
  /** Read one by one. */
  readonly single: readonly T[];
  /** Farm runtime name → its BMCs to read, in one call. */
  readonly farms: ReadonlyMap<string, readonly T[]>;
}

export function planFaultReads<T extends { readonly ref: string }>(entries: Iterable<T>): FaultReadPlan<T> {
  const single: T[] = [];
  const farms = new Map<string, T[]>();
  for (const entry of entries) {
    const farm = farmOfRef(entry.ref)?.farm;
    if (farm === undefined) single.push(entry);
    else {
      const bmcs = farms.get(farm);
      if (bmcs) bmcs.push(entry);
      else farms.set(farm, [entry]);
    }
  }
  return { single, farms };
}

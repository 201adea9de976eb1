/** What the fleet event stream (GET /api/v1/events) carries; the web UI reads the same types. */
import type { NodeView } from '../nodes/node.model';

export interface NodeEventMessage {
  readonly id: number;
  readonly name: string;
  readonly at: string;
  readonly type: string;
  readonly message: string;
}

export type FleetMessage =
  /** The whole fleet, first on every stream. */
  | { readonly kind: 'snapshot'; readonly nodes: readonly NodeView[] }
  /** A node appeared or something it shows changed (state, power, reachability, error). */
  | { readonly kind: 'node'; readonly node: NodeView }
  | { readonly kind: 'node-removed'; readonly name: string }
  /** A new entry of a node's event history. */
  | { readonly kind: 'node-event'; readonly event: NodeEventMessage };

/** The fields whose change is news: a power check that found the same state is not. */
export function viewKey(view: NodeView): string {
  const { powerObservedAt: _observed, updatedAt: _updated, ...rest } = view;
  return JSON.stringify(rest);
}

/** What changed between two views of the fleet, by name (pure). */
export function diffFleet(before: ReadonlyMap<string, string>, after: readonly NodeView[]): { changed: NodeView[]; removed: string[]; keys: Map<string, string> } {
  const keys = new Map<string, string>();
  const changed: NodeView[] = [];
  for (const view of after) {
    const key = viewKey(view);
    keys.set(view.name, key);
    if (before.get(view.name) !== key) changed.push(view);
  }
  const removed = [...before.keys()].filter((name) => !keys.has(name));
  return { changed, removed, keys };
}

/**
 * Which nodes an export holds (pure): every node, or those whose name starts with a prefix, or those
 * named, or those of one machine kind (the filters combine). Only nodes whose BMC is there to enrol
 * are exported (running, or failed with its container kept); nodes being created or deleted are left
 * out and counted, and naming one of them is refused, as is naming a node the fleet does not have.
 */
import type { MachineKind } from '../nodes/node.model';
import { ExportError, ExportErrorCode, namesText } from './export.error';

export interface ExportSelection {
  /** Name prefix. */
  readonly prefix?: string;
  /** Exactly these nodes (each must exist). */
  readonly names?: readonly string[];
  readonly machine?: MachineKind;
}

export interface SelectableNode {
  readonly name: string;
  readonly machine: string;
  readonly state: string;
}

/** States whose BMC answers (or answered) on its leased port. */
const EXPORTABLE_STATES: ReadonlySet<string> = new Set(['running', 'failed']);

export interface Selected<T> {
  readonly nodes: T[];
  /** Matching nodes left out because they are being created or deleted. */
  readonly notReady: string[];
}

export function selectNodes<T extends SelectableNode>(all: readonly T[], selection: ExportSelection): Selected<T> {
  if (selection.names !== undefined) {
    const known = new Set(all.map((node) => node.name));
    const unknown = [...new Set(selection.names)].filter((name) => !known.has(name));
    if (unknown.length > 0) throw new ExportError(ExportErrorCode.UnknownNode, `names lists nodes the fleet does not have: ${namesText(unknown)}`);
  }
  const wanted = selection.names === undefined ? null : new Set(selection.names);
  const matching = all.filter((node) =>
    (selection.prefix === undefined || node.name.startsWith(selection.prefix))
    && (wanted === null || wanted.has(node.name))
    && (selection.machine === undefined || node.machine === selection.machine));
  const notReady = matching.filter((node) => !EXPORTABLE_STATES.has(node.state)).map((node) => node.name);
  if (wanted !== null && notReady.length > 0) {
    throw new ExportError(ExportErrorCode.NodeNotReady, `names lists nodes that are being created or deleted: ${namesText(notReady)}; export them once they are running`);
  }
  return { nodes: matching.filter((node) => EXPORTABLE_STATES.has(node.state)), notReady };
}

/** The Redfish endpoint of a node a Redfish driver needs (pure), or the error that names every node without one. */
import type { Endpoint } from '../nodes/node.model';
import type { ExportNode } from './export-node';
import { ExportError, ExportErrorCode, namesText } from './export.error';

/** Refuses, before anything is rendered, nodes made before Redfish ports (their containers predate them). */
export function requireRedfish(nodes: readonly ExportNode[], driver: string): void {
  const without = nodes.filter((node) => node.redfish === null).map((node) => node.name);
  if (without.length > 0) {
    throw new ExportError(ExportErrorCode.NoRedfishPort, `driver ${driver} needs a Redfish port, and these nodes have none (made before Redfish ports; re-creating their containers gives them one): ${namesText(without)}; use driver=ipmi or leave them out`);
  }
}

export function redfishOf(node: ExportNode): Endpoint {
  if (node.redfish === null) throw new ExportError(ExportErrorCode.NoRedfishPort, `node ${node.name} has no Redfish port`);
  return node.redfish;
}

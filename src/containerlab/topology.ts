/**
 * The fleet (or a selection of its nodes) as a containerlab topology (pure): which nodes, their
 * topology entries (topology-nodes.ts), the links the user asked for, and the YAML. Every name is
 * checked against containerlab's rules before anything is rendered (containerlab-names.ts).
 *
 * Links may name fleet nodes (by API name or container name) or nodes the user adds to the lab
 * themselves (a switch, a PXE server): those are kept as written and listed in `undefinedNodes`. An
 * interface of a fleet node must be one of its labInterfaces: the agent bridges into the VM only
 * the interfaces in VM_NETWORKS, and waits for those to be plugged.
 */
import { Document, isPair, isScalar, Scalar, visit } from 'yaml';
import { vmInterfaces } from '../nodes/node-spec';
import type { NodeView } from '../nodes/node.model';
import { checkLabName, checkNodeName, foreignInterfaceNameProblem, INTERFACE_NAME_RULE, linuxInterfaceNameProblem } from './containerlab-names';
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';
import type { ContainerlabNodeRecord } from './containerlab-node-source';
import type { LinkEndpointRef, LinkRequest } from './links';
import {
  type ClabNode, extContainerNode, IPMI_PASSWORD_ENV, ipmiPasswordVariable, linuxNode, type TopologyMode, topologyNodeName,
} from './topology-nodes';

export interface TopologyOptions {
  /** containerlab's lab name (`name:`). */
  readonly labName: string;
  readonly mode: TopologyMode;
  /** API names of the nodes to render; undefined or empty: every node not being deleted. */
  readonly nodes?: readonly string[];
  readonly links?: readonly LinkRequest[];
}

export interface ClabLink {
  readonly endpoints: readonly [string, string];
}

export interface ClabTopology {
  readonly name: string;
  readonly topology: {
    readonly nodes: Readonly<Record<string, ClabNode>>;
    readonly links?: readonly ClabLink[];
  };
}

export interface RenderedTopology {
  readonly mode: TopologyMode;
  readonly topology: ClabTopology;
  /** Nodes the links name that this topology does not define: the user adds them before deploying. */
  readonly undefinedNodes: readonly string[];
  /** linux mode: the variables containerlab must find in its environment (each node's IPMI password). */
  readonly passwordVariables: readonly string[];
  /** Nodes of a whole-fleet rendering left out because their BMC lives in a farm (farmNodeProblem). */
  readonly farmNodesLeftOut: readonly string[];
}

/** A node row the orchestrator is removing: neither rendered nor linkable. */
const DELETING_STATE = 'deleting';

function byName(a: ContainerlabNodeRecord, b: ContainerlabNodeRecord): number {
  return a.view.name < b.view.name ? -1 : a.view.name > b.view.name ? 1 : 0;
}

/**
 * Why a node whose BMC lives in a farm (SIM_PLACEMENT=farm) cannot be in a topology: it has no
 * container of its own, so ext-container mode would name a container that does not exist, and
 * kind: linux would start a second BMC for it on the ports its farm already publishes.
 */
export function farmNodeProblem(view: NodeView): string {
  return `node ${view.name}'s BMC lives in farm ${String(view.farm)}: it has no container of its own for containerlab to link or create; leave it out, or make lab nodes with machine qemu or with the orchestrator's SIM_PLACEMENT=container`;
}

/** The records to render, by name; unknown, deleting or farm-placed names are refused, naming each. */
export function selectNodes(records: readonly ContainerlabNodeRecord[], names?: readonly string[]): ContainerlabNodeRecord[] {
  if (names === undefined || names.length === 0) return records.filter((r) => r.view.state !== DELETING_STATE && r.view.farm === null).sort(byName);
  const known = new Map(records.map((r) => [r.view.name, r]));
  const wanted = [...new Set(names)];
  const unknown = wanted.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ContainerlabError(ContainerlabErrorCode.UnknownNode, `the fleet has no node named ${unknown.map((n) => `"${n}"`).join(', ')}`);
  }
  const selected = wanted.map((name) => known.get(name)!);
  const deleting = selected.filter((r) => r.view.state === DELETING_STATE).map((r) => r.view.name);
  if (deleting.length > 0) {
    throw new ContainerlabError(ContainerlabErrorCode.NodeDeleting, `node ${deleting.join(', ')} is being deleted; leave it out of nodes`);
  }
  const inFarm = selected.find((r) => r.view.farm !== null);
  if (inFarm !== undefined) throw new ContainerlabError(ContainerlabErrorCode.NotRenderable, `nodes: ${farmNodeProblem(inFarm.view)}`);
  return selected.sort(byName);
}

interface ResolvedLinks {
  readonly links: ClabLink[];
  readonly undefinedNodes: string[];
}

function interfaceNotDeclared(view: NodeView, iface: string, where: string): ContainerlabError {
  const declared = view.labInterfaces.length > 0 ? view.labInterfaces.join(', ') : 'none';
  const networkIndex = vmInterfaces(view.networks.length).indexOf(iface);
  const why = networkIndex >= 0
    ? `${iface} carries its Docker network ${view.networks[networkIndex]} and exists already, so containerlab cannot plug it`
    : `the VM sees only the lab interfaces declared when the node was created (labInterfaces in POST /api/v1/nodes)`;
  return new ContainerlabError(ContainerlabErrorCode.InterfaceNotDeclared, `${where}: node ${view.name} has no lab interface ${iface}: ${why}; its lab interfaces: ${declared}`);
}

function resolveLinks(
  links: readonly LinkRequest[],
  records: readonly ContainerlabNodeRecord[],
  selected: readonly ContainerlabNodeRecord[],
  mode: TopologyMode,
): ResolvedLinks {
  // By container name, then by API name: an API name wins should it equal another node's container name.
  const fleet = new Map<string, ContainerlabNodeRecord>();
  for (const r of records) fleet.set(r.view.container.name, r);
  for (const r of records) fleet.set(r.view.name, r);
  const inSelection = new Set(selected);
  const used = new Set<string>();
  const undefinedNodes = new Set<string>();

  const endpoint = (ref: LinkEndpointRef, where: string): string => {
    const record = fleet.get(ref.node);
    let node: string;
    if (record !== undefined) {
      const view = record.view;
      if (view.farm !== null) throw new ContainerlabError(ContainerlabErrorCode.NotRenderable, `${where}: ${farmNodeProblem(view)}`);
      if (!inSelection.has(record)) {
        const why = view.state === DELETING_STATE ? 'is being deleted' : 'is not among the selected nodes';
        throw new ContainerlabError(ContainerlabErrorCode.NodeNotSelected, `${where}: fleet node ${view.name} ${why}; add it to nodes or drop the link`);
      }
      const problem = linuxInterfaceNameProblem(ref.interface);
      if (problem !== null) {
        throw new ContainerlabError(ContainerlabErrorCode.InvalidInterfaceName, `${where}: interface "${ref.interface}" of node ${view.name} ${problem}; use ${INTERFACE_NAME_RULE}`);
      }
      if (!view.labInterfaces.includes(ref.interface)) throw interfaceNotDeclared(view, ref.interface, where);
      node = topologyNodeName(view, mode);
    } else {
      node = checkNodeName(ref.node, `${where} names node`);
      const problem = foreignInterfaceNameProblem(ref.interface);
      if (problem !== null) {
        throw new ContainerlabError(ContainerlabErrorCode.InvalidInterfaceName, `${where}: interface "${ref.interface}" of node ${ref.node} ${problem}`);
      }
      undefinedNodes.add(node);
    }
    const text = `${node}:${ref.interface}`;
    if (used.has(text)) {
      throw new ContainerlabError(ContainerlabErrorCode.DuplicateEndpoint, `${where}: endpoint ${text} is used twice; an interface belongs to one link`);
    }
    used.add(text);
    return text;
  };

  const resolved = links.map((link, index) => {
    const where = `link ${index + 1}`;
    return { endpoints: [endpoint(link.endpoints[0], where), endpoint(link.endpoints[1], where)] as const };
  });
  return { links: resolved, undefinedNodes: [...undefinedNodes].sort() };
}

/** Checks everything, then renders: nothing is rendered when anything is refused. */
export function renderTopology(records: readonly ContainerlabNodeRecord[], options: TopologyOptions): RenderedTopology {
  const labName = checkLabName(options.labName);
  const selected = selectNodes(records, options.nodes);
  const nodes: Record<string, ClabNode> = {};
  for (const { view, spec } of selected) {
    const name = checkNodeName(topologyNodeName(view, options.mode), `node ${view.name} would appear as`);
    nodes[name] = options.mode === 'ext-container' ? extContainerNode(view) : linuxNode(view, spec);
  }
  const { links, undefinedNodes } = resolveLinks(options.links ?? [], records, selected, options.mode);
  return {
    mode: options.mode,
    // The schema wants at least one link when `links` is present.
    topology: { name: labName, topology: links.length > 0 ? { nodes, links } : { nodes } },
    undefinedNodes,
    passwordVariables: options.mode === 'linux' ? selected.map((r) => ipmiPasswordVariable(r.view.name)) : [],
    farmNodesLeftOut: options.nodes === undefined || options.nodes.length === 0
      ? records.filter((r) => r.view.state !== DELETING_STATE && r.view.farm !== null).map((r) => r.view.name).sort()
      : [],
  };
}

function headerComment(rendered: RenderedTopology): string {
  const count = Object.keys(rendered.topology.topology.nodes).length;
  const lines = rendered.mode === 'ext-container'
    ? [
        ` containerlab topology "${rendered.topology.name}": ${count} bmcfleet node(s) as ext-container.`,
        ' The orchestrator keeps their containers; containerlab plugs the links into them after they run.',
      ]
    : [
        ` containerlab topology "${rendered.topology.name}": ${count} bmcfleet node(s) as kind: linux.`,
        ' containerlab creates and removes these containers: remove the orchestrator\'s own containers of',
        ' these nodes first (they publish the same ports). Disks live in the containers and go with',
        ' `containerlab destroy`.',
        ...(rendered.passwordVariables.length > 0
          ? [' Before `containerlab deploy`, export each node\'s IPMI password (containerlab substitutes it):',
              ...rendered.passwordVariables.map((v) => `   export ${v}='…'`)]
          : []),
      ];
  if (rendered.farmNodesLeftOut.length > 0) {
    lines.push(` Left out: ${rendered.farmNodesLeftOut.length} node(s) whose BMC lives in a farm (no container of their own to link).`);
  }
  if (rendered.undefinedNodes.length > 0) {
    lines.push(` Links name nodes this file does not define: ${rendered.undefinedNodes.join(', ')}.`, ' Add them under topology.nodes before `containerlab deploy`.');
  }
  return lines.join('\n');
}

/**
 * containerlab substitutes the password into the text before it parses the YAML, so the reference is
 * written as a literal block whose content is taken as is: any printable password (quotes, "#",
 * ": ", leading blanks) stays one string. The explicit indentation indicator (2, the writer's indent)
 * keeps a password that starts with a blank from shifting the block's indentation.
 */
const PASSWORD_BLOCK = new RegExp(`^(\\s*${IPMI_PASSWORD_ENV}: )\\|-$`, 'gm');
const PASSWORD_BLOCK_WITH_INDENT = '$1|2-';

/** The topology as YAML, with a header saying what it is and what to do before deploying. */
export function topologyToYaml(rendered: RenderedTopology): string {
  const doc = new Document(rendered.topology);
  doc.commentBefore = headerComment(rendered);
  visit(doc, {
    Pair(_key, pair) {
      if (rendered.mode === 'linux' && isScalar(pair.key) && pair.key.value === IPMI_PASSWORD_ENV && isScalar(pair.value)) {
        pair.value.type = Scalar.BLOCK_LITERAL;
      }
    },
    Seq(_key, node, path) {
      const parent = path[path.length - 1];
      if (isPair(parent) && isScalar(parent.key) && parent.key.value === 'endpoints') {
        // containerlab's own style: endpoints: ["a:eth1", "b:eth1"].
        node.flow = true;
        for (const item of node.items) if (isScalar(item)) item.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
  return doc.toString({ lineWidth: 0, indent: 2 }).replace(PASSWORD_BLOCK, PASSWORD_BLOCK_WITH_INDENT);
}

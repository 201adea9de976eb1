/**
 * Names containerlab accepts (pure), checked before anything is rendered so a user gets a clear error
 * here rather than from `containerlab deploy`. Sources, in containerlab's repository:
 * - lab name: schemas/clab.schema.json, property `name`;
 * - node name: the same schema, `topology.nodes` patternProperties (a container name for ext-container
 *   nodes: containerlab looks the container up by the node's name, nodes/ext_container);
 * - interface names: the veth containerlab creates is renamed to the endpoint's interface inside the
 *   node's network namespace (links/link.go SetNameMACAndUpInterface), so the kernel's rules apply
 *   (dev_valid_name: 1–15 bytes, not "." or "..", no "/", ":" or white space); an interface that
 *   already exists in the container is refused (links/endpoint.go CheckEndpointDoesNotExistYet), so
 *   never eth0, and the `linux` kind refuses eth0 outright (nodes/linux CheckInterfaceName).
 */
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';

export const LAB_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-._]*$/;
/** Not containerlab's: a bound so a query string cannot make a name of any length. */
export const LAB_NAME_MAX_LENGTH = 64;
export const LAB_NAME_RULE = `1–${LAB_NAME_MAX_LENGTH} of a-z A-Z 0-9 - . _, starting with a letter or digit (containerlab's schema)`;

export const CLAB_NODE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-._|]*$/;
export const CLAB_NODE_NAME_RULE = 'letters, digits, "-", ".", "_" and "|", starting with a letter or digit (containerlab\'s schema)';

/** IFNAMSIZ is 16 bytes with the terminating NUL. */
export const LINUX_INTERFACE_NAME_MAX = 15;
/** The interface Docker gives every container: it exists before containerlab plugs anything. */
export const CONTAINER_OWN_INTERFACE = 'eth0';
export const INTERFACE_NAME_RULE = `1–${LINUX_INTERFACE_NAME_MAX} characters without "/", ":", "," ";" or white space, not "." or "..", not ${CONTAINER_OWN_INTERFACE}`;

const LINUX_FORBIDDEN = /[/:,;\s]/;
/** Endpoints of nodes outside the fleet: their kind decides (e.g. SR Linux's ethernet-1/1). */
const FOREIGN_FORBIDDEN = /[:,;\s]/;

export function checkLabName(name: string): string {
  if (name.length > LAB_NAME_MAX_LENGTH || !LAB_NAME_PATTERN.test(name)) {
    throw new ContainerlabError(ContainerlabErrorCode.InvalidLabName, `lab name "${name}" is not one containerlab accepts: use ${LAB_NAME_RULE}`);
  }
  return name;
}

/** `what` says where the name comes from, for the message (e.g. 'link 2 names node'). */
export function checkNodeName(name: string, what: string): string {
  if (!CLAB_NODE_NAME_PATTERN.test(name)) {
    throw new ContainerlabError(ContainerlabErrorCode.InvalidNodeName, `${what} "${name}", which containerlab would refuse as a node name: use ${CLAB_NODE_NAME_RULE}`);
  }
  return name;
}

/** The kernel's rules for an interface of a fleet node (a veth containerlab renames into it). */
export function linuxInterfaceNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > LINUX_INTERFACE_NAME_MAX) return `is longer than ${LINUX_INTERFACE_NAME_MAX} bytes (Linux's limit)`;
  if (name === '.' || name === '..') return 'is not a name Linux accepts';
  if (LINUX_FORBIDDEN.test(name)) return 'contains "/", ":", ",", ";" or white space';
  if (name === CONTAINER_OWN_INTERFACE) return `is the container's own interface (Docker's ${CONTAINER_OWN_INTERFACE}; containerlab refuses it)`;
  return null;
}

/** Interfaces of nodes outside the fleet: only what the link syntax itself cannot carry. */
export function foreignInterfaceNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (FOREIGN_FORBIDDEN.test(name)) return 'contains ":", ",", ";" or white space';
  return null;
}

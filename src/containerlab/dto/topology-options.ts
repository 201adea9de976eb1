/**
 * What GET and POST /api/v1/containerlab/topology share: formats, limits and the OpenAPI wording.
 */
import { LAB_NAME_RULE } from '../containerlab-names';
import { LINKS_SYNTAX } from '../links';

export const TOPOLOGY_FORMATS = ['yaml', 'json'] as const;
export type TopologyFormat = (typeof TOPOLOGY_FORMATS)[number];

/** Bounds on what one request may ask for (a fleet is far smaller; these only stop abuse). */
export const MAX_SELECTED_NODES = 4096;
export const MAX_LINKS = 4096;
/** Node's default limit on request headers is 16 KiB: longer link lists go in a POST body. */
export const MAX_LINKS_TEXT = 8192;

export const MODE_DESCRIPTION =
  'ext-container (default): the orchestrator keeps the node containers and containerlab only plugs links into them. ' +
  'linux: containerlab creates the containers from the node image with the same environment, devices, capabilities, ' +
  'ISO bind and published ports; each IPMI password is written as ${BMCFLEET_<NODE>_IPMI_PASS}, which containerlab ' +
  'takes from its environment (export it before `containerlab deploy`), never as the password itself.';
export const NAME_DESCRIPTION = `containerlab lab name (default: the fleet name, FLEET_NAME): ${LAB_NAME_RULE}`;
export const FORMAT_DESCRIPTION = 'yaml (default, application/yaml): the topology file; json: the same topology as JSON';
export const LINKS_DESCRIPTION =
  `Links containerlab creates (veth pairs), as ${LINKS_SYNTAX}. ` +
  'A node is a fleet node (its API name or container name) or a node you add to the lab yourself (kept as written; ' +
  'the YAML header lists them, the X-Bmcfleet-Undefined-Nodes header the first 20 and X-Bmcfleet-Undefined-Node-Count their number). An interface of a fleet node must be one of ' +
  'its labInterfaces (POST /api/v1/nodes): the agent bridges exactly those into the VM once containerlab plugs them.';

/**
 * What a single `POST /api/v1/nodes` with machine sim may ask of a node placed in a farm (pure): a
 * farm BMC has no container of its own, so nothing can be attached to it. Each refusal names the
 * field, the rule and the way out (SIM_PLACEMENT=container makes sim nodes containers again).
 */
export interface FarmNodeRequest {
  readonly networks?: readonly string[];
  readonly labInterfaces?: readonly string[];
  readonly cdrom?: string;
}

const WAY_OUT = 'a sim node placed in a farm (SIM_PLACEMENT=farm, the default on plain Docker) has no container of its own; run the orchestrator with SIM_PLACEMENT=container for sim nodes that need one, or use machine qemu';

export function farmRefusedFields(request: FarmNodeRequest): string[] {
  const refused: string[] = [];
  if ((request.networks ?? []).length > 0) refused.push(`networks must be empty: ${WAY_OUT}`);
  if ((request.labInterfaces ?? []).length > 0) refused.push(`labInterfaces must be empty: ${WAY_OUT}`);
  if (request.cdrom !== undefined) refused.push(`cdrom must not be set: ${WAY_OUT}`);
  return refused;
}

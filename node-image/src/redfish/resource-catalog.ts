/**
 * The Redfish resource reference (docs/redfish-resources.md), generated from the service's real
 * route table so that it cannot drift from the code. Regenerate: npm run build:agent && node scripts/gen-docs.js
 */
import type { BmcCore } from '../core/bmc-core';
import { silentLogger } from '../util/logger';
import { BASE_REGISTRY } from './errors';
import { RedfishService } from './redfish-service';
import { ROLE_PRIVILEGES, type Method, type Route } from './router';
import { REDFISH_VERSION } from './resources/service-root';
import { ALLOWED_TARGETS, RESET_TYPES } from './resources/systems';
import { ROLE_IDS } from './resources/accounts';
import { DEFAULT_SESSION_TIMEOUT_S } from './session-table';
import { SerialHistory } from '../console/serial-history';
import { BIOS_ATTRIBUTE_RULES } from '../core/firmware-settings';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../core/accounts';
import { EVENT_MESSAGE_IDS } from './events/event-records';
import { P } from './resources/paths';

export const RESOURCE_REFERENCE_PATH = 'docs/redfish-resources.md';
export const REGENERATE_RESOURCES_COMMAND = 'npm run build:agent && node scripts/gen-docs.js';

const METHODS: readonly Method[] = ['GET', 'PATCH', 'POST', 'DELETE'];

/** The routes, built over a core that must not be touched (building routes reads no state). */
export function registeredRoutes(): readonly Route[] {
  const untouchable: BmcCore = new Proxy({} as BmcCore, { get: (_t, key) => (key === 'then' ? undefined : untouchable) });
  return new RedfishService({ core: untouchable, random: () => Buffer.alloc(0), log: silentLogger, serialHistory: new SerialHistory(1) }).routes;
}

export function renderResourceReference(routes: readonly Route[] = registeredRoutes()): string {
  const out: string[] = [];
  const line = (s = ''): void => { out.push(s); };
  line('# Redfish resources');
  line();
  line(`<!-- Generated from the agent's route table by node-image/src/redfish/resource-catalog.ts. Do not edit by hand: run \`${REGENERATE_RESOURCES_COMMAND}\`. -->`);
  line();
  line(`Everything the agent's Redfish service answers (HTTPS on REDFISH_PORT; RedfishVersion ${REDFISH_VERSION}).`);
  line('Schema versions are DMTF Redfish-Publications 2025.4.');
  line();
  line('## Rules common to every resource');
  line();
  line('- HTTPS only (TLS 1.2 or later); plain HTTP to the port gets no answer. A trailing slash names the same resource.');
  line('- Authentication: HTTP Basic, or `X-Auth-Token` from a session (POST to the Sessions collection answers');
  line(`  201 with \`X-Auth-Token\` and \`Location\`; a session ends ${DEFAULT_SESSION_TIMEOUT_S} s after its last request, or on DELETE).`);
  line('  Resources marked `none` need no credentials. Users, passwords and the lockout are the IPMI ones.');
  line('- Roles from the user\'s IPMI privilege limit on the LAN channel:');
  for (const [role, id] of Object.entries(ROLE_IDS)) line(`  ${id} (${role === 'administrator' ? 'ADMINISTRATOR' : role === 'operator' ? 'OPERATOR' : 'USER'}): ${ROLE_PRIVILEGES[role as keyof typeof ROLE_IDS].join(', ')}.`);
  line('- Every resource carries `@odata.etag`, equal to its `ETag` header. `If-Match` is accepted on PATCH and on');
  line('  action POSTs (weak or strong form of the current tag, or `*`); a stale tag answers 412 PreconditionFailed.');
  line('- PATCH merges. Read-only properties and `@Redfish.*` annotations sent back unchanged are ignored; a changed');
  line('  read-only property answers 400 PropertyNotWritable, an unknown one 400 PropertyUnknown.');
  line(`- Errors are Redfish error bodies with MessageIds of the ${BASE_REGISTRY} registry (401 NoValidSession or`);
  line('  ResourceAtUriUnauthorized with `WWW-Authenticate: Basic`, 403 InsufficientPrivilege, 404 ResourceMissingAtURI,');
  line('  405 OperationNotAllowed with `Allow`, 400 MalformedJSON / PropertyValueTypeError / PropertyValueNotInList,');
  line('  413 RequestBodyTooLarge above 1 MiB, 415 UnsupportedMediaType).');
  line(`- \`Boot.BootSourceOverrideTarget\`: ${ALLOWED_TARGETS.join(', ')} (Diags reads back when IPMI selected the diagnostic`);
  line('  partition). `BootSourceOverrideEnabled`: Disabled, Once, Continuous. `BootSourceOverrideMode`: UEFI, Legacy. The');
  line('  same record as IPMI boot parameter 5; Once is consumed by the next boot and never expires by itself.');
  line(`- \`ComputerSystem.Reset\` ResetType: ${RESET_TYPES.join(', ')}.`);
  line('  With `Prefer: respond-async` it answers 202 Accepted with a task monitor in `Location` (TaskService); the task ends');
  line('  once the reset has happened (GracefulShutdown/GracefulRestart: once the guest has powered off, and on again). Without');
  line('  it, Reset answers 204 as before.');
  line(`- Events (EventService): push subscriptions and Server-Sent Events at \`${P.sse}\`. MessageIds: ${EVENT_MESSAGE_IDS.join(', ')}.`);
  line('  See docs/operations.md (Redfish events) for what triggers each.');
  line(`- BIOS attributes (\`Bios\` shows those in effect; PATCH \`Attributes\` on \`Bios/Settings\`, applied by the next boot,`);
  line('  whoever starts it; `#Bios.ResetBios` makes the defaults pending):');
  for (const [name, rule] of Object.entries(BIOS_ATTRIBUTE_RULES)) {
    line(`  - ${name} (${rule.type === 'integer' ? `${rule.min}–${rule.max}` : rule.values!.join('/')}): ${rule.acts ? 'acts on the machine' : 'recorded only'}.`);
  }
  line('- `SecureBoot.SecureBootEnable` applies from the next boot, on UEFI nodes only (400 PropertyValueConflict on SeaBIOS).');
  line(`- Accounts: passwords ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} printable ASCII characters; one's own password needs ConfigureSelf,`);
  line('  every other account change ConfigureUsers. Lockout intervals are whole tens of seconds (the IPMI unit).');
  line();
  line('## Resources and the privilege each method needs');
  line();
  line(`| URI | serves | ${METHODS.join(' | ')} |`);
  line(`|---|---|${METHODS.map(() => '---').join('|')}|`);
  for (const r of routes) {
    line(`| \`${r.path}\` | ${r.schema} | ${METHODS.map((m) => r.ops[m]?.privilege ?? '').join(' | ')} |`);
  }
  line();
  return out.join('\n');
}

/**
 * Bios (Bios v1_2_3) with its settings object, and SecureBoot (SecureBoot v1_1_2), over the core
 * firmware settings (core/firmware-settings.ts says which attributes act on the machine).
 *
 * DSP0266 section 9.9 "Settings resource": `Bios` shows the attributes in effect and names
 * `Bios/Settings` in `@Redfish.Settings`; clients PATCH `Attributes` there (merged into the pending
 * values), and the next boot (power-on, reset or cycle, or the guest's own reboot) applies them.
 * `#Bios.ResetBios` makes every default pending. `SecureBootEnable` also takes effect at the next boot;
 * `SecureBootCurrentBoot` says whether the boot in progress runs Secure Boot firmware.
 */
import type { BmcCore } from '../../core/bmc-core';
import type { FirmwareSettings } from '../../core/firmware-settings';
import { BIOS_ATTRIBUTE_RULES } from '../../core/firmware-settings';
import type { JsonObject } from '../http-types';
import { onlyWritable } from './patch-rules';
import { notFound, notInList, RedfishError, typeError, unknownProperty } from '../errors';
import { noContent, resourceResponse, type Route, type RouteContext } from '../router';
import { P, SCHEMA, typeOf } from './paths';

const APPLY_TIMES = ['OnReset'] as const;

function settingsOf(core: BmcCore, path: string): FirmwareSettings {
  if (!core.firmware) throw notFound(path);
  return core.firmware;
}

function bios(f: FirmwareSettings): JsonObject {
  return {
    '@odata.id': P.bios,
    '@odata.type': typeOf(SCHEMA.Bios),
    Id: 'Bios',
    Name: 'BIOS Configuration Current Settings',
    Description: 'The BIOS attributes in effect since the last boot',
    Attributes: { ...f.attributes },
    '@Redfish.Settings': {
      '@odata.type': '#Settings.v1_4_0.Settings',
      SettingsObject: { '@odata.id': P.biosSettings },
      SupportedApplyTimes: [...APPLY_TIMES],
    },
    Actions: { '#Bios.ResetBios': { target: P.resetBios } },
  };
}

function biosSettings(f: FirmwareSettings): JsonObject {
  return {
    '@odata.id': P.biosSettings,
    '@odata.type': typeOf(SCHEMA.Bios),
    Id: 'Settings',
    Name: 'BIOS Configuration Pending Settings',
    Description: 'The BIOS attributes the next boot applies',
    Attributes: { ...f.next },
    '@Redfish.SettingsApplyTime': { '@odata.type': '#Settings.v1_4_0.PreferredApplyTime', ApplyTime: 'OnReset' },
  };
}

async function secureBoot(core: BmcCore, f: FirmwareSettings): Promise<JsonObject> {
  const on = (await core.power.powerState()) === 'on';
  return {
    '@odata.id': P.secureBoot,
    '@odata.type': typeOf(SCHEMA.SecureBoot),
    Id: 'SecureBoot',
    Name: 'UEFI Secure Boot',
    Description: f.firmware === 'uefi'
      ? 'OVMF Secure Boot firmware with Microsoft keys enrolled when enabled (from the next boot)'
      : 'This node boots SeaBIOS (legacy): no Secure Boot',
    SecureBootEnable: f.secureBootEnabled,
    SecureBootCurrentBoot: on && f.currentBootSecure ? 'Enabled' : 'Disabled',
    // The variable store the next UEFI boot uses: with a Platform Key (Microsoft keys) or without.
    SecureBootMode: f.secureBootEnabled ? 'UserMode' : 'SetupMode',
  };
}


function patchSettings(f: FirmwareSettings, ctx: RouteContext): void {
  const body = ctx.json();
  const applyTime = body['@Redfish.SettingsApplyTime'];
  if (applyTime !== undefined) {
    const at = applyTime !== null && typeof applyTime === 'object' && !Array.isArray(applyTime) ? applyTime.ApplyTime : applyTime;
    if (typeof at !== 'string') throw typeError(applyTime, '@Redfish.SettingsApplyTime/ApplyTime');
    if (!(APPLY_TIMES as readonly string[]).includes(at)) throw notInList(at, '@Redfish.SettingsApplyTime/ApplyTime');
  }
  onlyWritable(body, biosSettings(f), ['Attributes']);
  const attributes = body.Attributes;
  if (attributes === undefined) return;
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) throw typeError(attributes, 'Attributes');
  const [problem] = f.check(attributes);
  if (problem) {
    const name = `Attributes/${problem.name}`;
    if (problem.problem === 'unknown') throw unknownProperty(name);
    if (problem.problem === 'type') throw typeError(problem.value, name);
    const rule = BIOS_ATTRIBUTE_RULES[problem.name as keyof typeof BIOS_ATTRIBUTE_RULES];
    if (rule.type === 'enumeration') throw notInList(String(problem.value), name);
    throw new RedfishError(400, 'PropertyValueOutOfRange', `The value '${String(problem.value)}' for the property ${name} is not in the supported range of ${rule.min} to ${rule.max}.`, [String(problem.value), name]);
  }
  f.setPending(attributes as never);
}

function patchSecureBoot(f: FirmwareSettings, body: JsonObject, current: JsonObject): void {
  onlyWritable(body, current, ['SecureBootEnable']);
  const enable = body.SecureBootEnable;
  if (enable === undefined) return;
  if (typeof enable !== 'boolean') throw typeError(enable, 'SecureBootEnable');
  if (!f.setSecureBoot(enable)) {
    throw new RedfishError(400, 'PropertyValueConflict',
      "The property 'SecureBootEnable' could not be written because its value would conflict with the value of the 'BootSourceOverrideMode' property: this node's firmware is SeaBIOS (legacy, VM_BOOT_MODE=bios), and UEFI Secure Boot needs a UEFI node (VM_BOOT_MODE=uefi).",
      ['SecureBootEnable', 'BootSourceOverrideMode']);
  }
}

export function biosRoutes(core: BmcCore): Route[] {
  return [
    { path: P.bios, schema: SCHEMA.Bios, ops: { GET: { privilege: 'Login', handle: (ctx) => resourceResponse(bios(settingsOf(core, ctx.path))) } } },
    {
      path: P.biosSettings, schema: `${SCHEMA.Bios} (settings object)`,
      ops: {
        GET: { privilege: 'Login', handle: (ctx) => resourceResponse(biosSettings(settingsOf(core, ctx.path))) },
        PATCH: {
          privilege: 'ConfigureComponents',
          etagOf: (ctx) => biosSettings(settingsOf(core, ctx.path)),
          handle: (ctx) => {
            const f = settingsOf(core, ctx.path);
            patchSettings(f, ctx);
            return resourceResponse(biosSettings(f));
          },
        },
      },
    },
    {
      path: P.resetBios, schema: '#Bios.ResetBios',
      ops: {
        POST: {
          privilege: 'ConfigureComponents',
          etagOf: (ctx) => bios(settingsOf(core, ctx.path)),
          handle: (ctx) => {
            ctx.json(); // a body, when sent, must be JSON; it has no parameters
            settingsOf(core, ctx.path).resetToDefaults();
            return noContent();
          },
        },
      },
    },
    {
      path: P.secureBoot, schema: SCHEMA.SecureBoot,
      ops: {
        GET: { privilege: 'Login', handle: async (ctx) => resourceResponse(await secureBoot(core, settingsOf(core, ctx.path))) },
        PATCH: {
          privilege: 'ConfigureComponents',
          etagOf: (ctx) => secureBoot(core, settingsOf(core, ctx.path)),
          handle: async (ctx) => {
            const f = settingsOf(core, ctx.path);
            patchSecureBoot(f, ctx.json(), await secureBoot(core, f));
            return resourceResponse(await secureBoot(core, f));
          },
        },
      },
    },
  ];
}

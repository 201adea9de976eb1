/**
 * Systems collection, the ComputerSystem (DSP0268 ComputerSystem v1_27_0) and its Reset action.
 * `Boot` is a view of the core boot-override record, which IPMI sees as boot parameter 5.
 * PATCH merges: only Boot's three override properties are writable; read-only properties and
 * annotations sent back unchanged (bmclib PATCHes the whole `Boot` it read) are ignored, changed
 * ones are refused naming the property.
 */
import type { BmcCore } from '../../core/bmc-core';
import type { BootMode, BootOverride, BootOverrideEnabled, BootTarget } from '../../core/boot-override';
import type { PowerAction, PowerState } from '../../machine/machine-control';
import type { PowerOutcome, PowerRequest } from '../../core/power-service';
import type { Json, JsonObject } from '../http-types';
import { notInList, notWritable, RedfishError, typeError, unknownProperty } from '../errors';
import { collection, idRef, noContent, resourceResponse, type Route, type RouteContext } from '../router';
import { P, SCHEMA, SYSTEM_ID, typeOf } from './paths';
import { prefersAsync, type TaskTable } from '../tasks/task-table';
import { startResetTask } from '../tasks/reset-task';
import { AnswerMemo } from '../answer-memo';

const TARGETS: Readonly<Record<BootTarget, string>> = {
  'none': 'None', 'pxe': 'Pxe', 'cd': 'Cd', 'hdd': 'Hdd', 'bios-setup': 'BiosSetup', 'uefi-http': 'UefiHttp', 'usb': 'Usb', 'diags': 'Diags',
};
/** What a client may set (Diags can only be read: IPMI's diagnostic partition). */
export const ALLOWED_TARGETS = ['None', 'Pxe', 'Cd', 'Hdd', 'BiosSetup', 'UefiHttp', 'Usb'] as const;
const ENABLED: Readonly<Record<BootOverrideEnabled, string>> = { disabled: 'Disabled', once: 'Once', continuous: 'Continuous' };
const MODES: Readonly<Record<BootMode, string>> = { uefi: 'UEFI', legacy: 'Legacy' };

/** ResetType → what the power service does (DSP0268 Resource.ResetType). */
export const RESET_TYPES = ['On', 'ForceOn', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'PowerCycle'] as const;
export type ResetType = (typeof RESET_TYPES)[number];
export const RESET_ACTION: Readonly<Record<Exclude<ResetType, 'GracefulRestart'>, PowerAction>> = {
  On: 'on', ForceOn: 'on', ForceOff: 'off', GracefulShutdown: 'soft', ForceRestart: 'reset', Nmi: 'diag', PowerCycle: 'cycle',
};
/** How long a Reset waits for the machine before answering (the action goes on afterwards). */
export const RESET_ANSWER_WITHIN_MS = 15_000;
/** How long a GracefulRestart waits for the guest to power off before giving up the power-on. */
export const GRACEFUL_RESTART_OFF_WITHIN_MS = 300_000;
/** Channel reported by Get System Restart Cause for a restart made through Redfish (the LAN channel). */
const REDFISH_CHANNEL = 0x01;

const reverse = <K extends string>(m: Readonly<Record<K, string>>): Map<string, K> => new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));
const TARGET_OF = reverse(TARGETS);
const ENABLED_OF = reverse(ENABLED);
const MODE_OF = reverse(MODES);

/** What of the System can change while the service runs; everything else in it is fixed. */
interface SystemInputs {
  readonly power: PowerState;
  readonly boot: BootOverride;
}

async function systemInputs(core: BmcCore): Promise<SystemInputs> {
  return { power: await core.power.powerState(), boot: core.bootOverride.get(core.clock()) };
}

const systemKey = ({ power, boot }: SystemInputs): string => `${power} ${boot.target} ${boot.enabled} ${boot.mode}`;

async function system(core: BmcCore): Promise<JsonObject> {
  return systemOf(core, await systemInputs(core));
}

function systemOf(core: BmcCore, { power, boot }: SystemInputs): JsonObject {
  return {
    '@odata.id': P.system,
    '@odata.type': typeOf(SCHEMA.ComputerSystem),
    Id: SYSTEM_ID,
    Name: core.nodeName,
    SystemType: 'Virtual',
    Manufacturer: core.product.manufacturer,
    Model: core.product.productName,
    SerialNumber: core.product.serialNumber,
    PartNumber: core.product.partNumber,
    UUID: core.systemUuid,
    HostName: core.nodeName,
    PowerState: power === 'on' ? 'On' : 'Off',
    Status: { State: 'Enabled', Health: 'OK' },
    Boot: bootView(boot, core.bootOverride.supportedModes),
    // One socket with VM_CPUS cores (QEMU's -smp N), as Processors lists it.
    ProcessorSummary: { Count: 1, CoreCount: core.hardware.cpus, LogicalProcessorCount: core.hardware.cpus, Status: { State: 'Enabled', Health: 'OK' } },
    MemorySummary: { TotalSystemMemoryGiB: core.hardware.memoryMiB / 1024, Status: { State: 'Enabled', Health: 'OK' } },
    VirtualMedia: idRef(P.systemVirtualMedia),
    EthernetInterfaces: idRef(P.ethernetInterfaces),
    Processors: idRef(P.processors),
    Memory: idRef(P.memory),
    Storage: idRef(P.storage),
    SimpleStorage: idRef(P.simpleStorage),
    ...(core.firmware ? { Bios: idRef(P.bios), SecureBoot: idRef(P.secureBoot) } : {}),
    Links: { ManagedBy: [idRef(P.manager)], Chassis: [idRef(P.chassis)] },
    Actions: {
      '#ComputerSystem.Reset': { target: P.reset, 'ResetType@Redfish.AllowableValues': [...RESET_TYPES] },
    },
  };
}

function bootView(boot: BootOverride, modes: readonly BootMode[]): JsonObject {
  return {
    BootSourceOverrideEnabled: ENABLED[boot.enabled],
    'BootSourceOverrideEnabled@Redfish.AllowableValues': Object.values(ENABLED),
    BootSourceOverrideTarget: TARGETS[boot.target],
    'BootSourceOverrideTarget@Redfish.AllowableValues': [...ALLOWED_TARGETS],
    BootSourceOverrideMode: MODES[boot.mode],
    'BootSourceOverrideMode@Redfish.AllowableValues': modes.map((m) => MODES[m]),
  };
}

const same = (a: Json | undefined, b: Json | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The change a PATCH body asks of the boot override; throws for anything it may not change. */
function bootChange(body: JsonObject, current: JsonObject, modes: readonly BootMode[]): Partial<BootOverride> {
  for (const key of Object.keys(body)) {
    if (key === 'Boot' || key.includes('@') || same(body[key], current[key])) continue;
    throw key in current ? notWritable(key) : unknownProperty(key);
  }
  const boot = body.Boot;
  if (boot === undefined) return {};
  if (boot === null || typeof boot !== 'object' || Array.isArray(boot)) throw typeError(boot, 'Boot');
  const currentBoot = current.Boot as JsonObject;
  const change: { -readonly [K in keyof BootOverride]?: BootOverride[K] } = {};
  for (const [key, value] of Object.entries(boot)) {
    if (key.includes('@')) continue;
    const name = `Boot/${key}`;
    if (key === 'BootSourceOverrideTarget' || key === 'BootSourceOverrideEnabled' || key === 'BootSourceOverrideMode') {
      if (typeof value !== 'string') throw typeError(value, name);
      if (same(value, currentBoot[key]) && key !== 'BootSourceOverrideEnabled') continue;
      if (key === 'BootSourceOverrideTarget') {
        const t = TARGET_OF.get(value);
        if (!t || !(ALLOWED_TARGETS as readonly string[]).includes(value)) throw notInList(value, name);
        change.target = t;
      } else if (key === 'BootSourceOverrideEnabled') {
        const e = ENABLED_OF.get(value);
        if (!e) throw notInList(value, name);
        change.enabled = e;
      } else {
        const m = MODE_OF.get(value);
        if (!m || !modes.includes(m)) throw notInList(value, name);
        change.mode = m;
      }
    } else if (!same(value, currentBoot[key])) {
      throw key in currentBoot ? notWritable(name) : unknownProperty(name);
    }
  }
  return change;
}

/** The ResetType of a Reset body, or the Redfish error naming what is wrong with it. */
export function resetTypeOf(ctx: RouteContext): ResetType {
  const body = ctx.json();
  const type = body.ResetType;
  if (type === undefined) throw new RedfishError(400, 'ActionParameterMissing', 'The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.', ['ComputerSystem.Reset', 'ResetType']);
  if (typeof type !== 'string') throw new RedfishError(400, 'ActionParameterValueTypeError', `The value '${JSON.stringify(type)}' for the parameter ResetType in the action ComputerSystem.Reset is of a different type than the parameter can accept.`, [JSON.stringify(type), 'ResetType', 'ComputerSystem.Reset']);
  if (!(RESET_TYPES as readonly string[]).includes(type)) throw new RedfishError(400, 'ActionParameterNotSupported', `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource: '${type}' is not one of ${RESET_TYPES.join(', ')}.`, ['ResetType', 'ComputerSystem.Reset']);
  return type as ResetType;
}

/** Already in the state asked for: nothing to do (bmclib, Ironic and MAAS all count this as done). */
export const alreadyDone = (state: 'on' | 'off', resetType: ResetType): boolean =>
  (state === 'on' && (resetType === 'On' || resetType === 'ForceOn')) || (state === 'off' && (resetType === 'ForceOff' || resetType === 'GracefulShutdown'));

export function powerRequest(ctx: RouteContext, answerWithinMs: number): Omit<PowerRequest, 'action'> {
  const p = ctx.principal!;
  return { now: ctx.now, channel: REDFISH_CHANNEL, answerWithinMs, actor: { protocol: 'redfish', user: p.userName, remote: ctx.req.remote } };
}

async function reset(core: BmcCore, ctx: RouteContext): Promise<void> {
  const resetType = resetTypeOf(ctx);
  if (alreadyDone(await core.power.powerState(), resetType)) return;
  const req = powerRequest(ctx, RESET_ANSWER_WITHIN_MS);
  const outcome: PowerOutcome = resetType === 'GracefulRestart'
    ? await core.power.gracefulRestart(req, GRACEFUL_RESTART_OFF_WITHIN_MS, core.clock)
    : await core.power.perform({ ...req, action: RESET_ACTION[resetType] });
  if (!outcome.ok) throw powerError(outcome, resetType);
}

/** A failed power outcome as the Redfish error a Reset answers. */
export function powerError(outcome: Extract<PowerOutcome, { ok: false }>, resetType: ResetType): RedfishError {
  switch (outcome.reason) {
    case 'not-powered':
      return new RedfishError(409, 'OperationNotAllowed', `The ResetType ${resetType} cannot be performed while the system is powered off.`, [resetType]);
    case 'busy':
      return new RedfishError(503, 'ServiceTemporarilyUnavailable', `The system is carrying out another power action; retry ${resetType} in a few seconds.`, ['5'], { 'Retry-After': '5' });
    case 'unsupported':
      return new RedfishError(400, 'ActionParameterNotSupported', `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource: this machine cannot ${resetType}.`, ['ResetType', 'ComputerSystem.Reset']);
    default:
      return new RedfishError(500, 'GeneralError', `The machine failed to carry out ${resetType}: ${outcome.message}`);
  }
}

/**
 * `tasks`: where Reset runs as a task when the client sends `Prefer: respond-async` (without it, or
 * without a task table, Reset answers 204 as sushy, MAAS and bmclib expect).
 */
export function systemRoutes(core: BmcCore, tasks?: TaskTable): Route[] {
  // The System read again unchanged (clients poll it) is answered from its last answer.
  const answers = new AnswerMemo<SystemInputs>(systemKey, (inputs) => systemOf(core, inputs));
  return [
    { path: P.systems, schema: 'ComputerSystemCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.systems, 'ComputerSystemCollection', 'Computer System Collection', [P.system])) } } },
    {
      path: P.system, schema: SCHEMA.ComputerSystem,
      ops: {
        GET: { privilege: 'Login', handle: async () => answers.answer(await systemInputs(core)) },
        PATCH: {
          privilege: 'ConfigureComponents',
          etagOf: () => system(core),
          handle: async (ctx) => {
            const change = bootChange(ctx.json(), await system(core), core.bootOverride.supportedModes);
            const result = core.bootOverride.set(change, ctx.now);
            if (!result.ok) throw notInList(String(change.mode ?? change.target), 'Boot');
            return answers.answer(await systemInputs(core));
          },
        },
      },
    },
    {
      path: P.reset, schema: '#ComputerSystem.Reset',
      ops: {
        POST: {
          privilege: 'ConfigureComponents',
          etagOf: () => system(core),
          handle: async (ctx) => {
            if (tasks && prefersAsync(ctx.req.headers.prefer)) return startResetTask(core, tasks, ctx, resetTypeOf(ctx));
            await reset(core, ctx);
            return noContent();
          },
        },
      },
    },
  ];
}

/**
 * VirtualMedia (DSP0268 VirtualMedia v1_6_5) and its collection, served at both places clients
 * look for them: under the Manager (sushy 4.3 and Ironic, bmclib first) and under the System
 * (Ironic when the System links it). Both are views of the one core service, so a medium inserted
 * at one path reads back at the other.
 *
 * - `#VirtualMedia.InsertMedia`: Image (required, http/https), TransferProtocolType, Inserted,
 *   WriteProtected (true only), TransferMethod (Stream only). Answers 204 once the machine has the
 *   medium (no task to poll: clients power on right after). A slot that holds an image is refused
 *   with 409 ResourceInUse (eject first, as the action's definition asks).
 * - `#VirtualMedia.EjectMedia`: no body, or `{}`.
 * - PATCH: Image (a URL, or null to eject), Inserted, WriteProtected, TransferProtocolType,
 *   VerifyCertificate; merged.
 * - `VerifyCertificate` (false by default): when true, an https image server's certificate must be
 *   trusted by the slot's `Certificates` (virtual-media-certificates.ts), or by the system's CA store
 *   when it has none, or the insert is refused (400 CouldNotEstablishConnection) and nothing attached.
 */
import type { BmcCore } from '../../core/bmc-core';
import {
  isConnected, MEDIA_SLOTS, TRANSFER_PROTOCOLS, VirtualMediaError,
  type MediaChange, type MediaSlotId, type MediaSlotState, type TransferProtocol,
} from '../../core/virtual-media';
import type { Json, JsonObject } from '../http-types';
import { notFound, notWritable, RedfishError, typeError, unknownProperty } from '../errors';
import { collection, noContent, resourceResponse, type Route, type RouteContext } from '../router';
import { P, SCHEMA, typeOf } from './paths';
import { CERTIFICATES, certificateRoutes } from './virtual-media-certificates';

const SLOT_MEDIA_TYPES: Readonly<Record<MediaSlotId, readonly string[]>> = { Cd: ['CD', 'DVD'], UsbStick: ['USBStick'] };
const SLOT_NAMES: Readonly<Record<MediaSlotId, string>> = { Cd: 'Virtual CD/DVD', UsbStick: 'Virtual USB stick' };
const INSERT = 'VirtualMedia.InsertMedia';
const EJECT = 'VirtualMedia.EjectMedia';
/** PATCH may change these; the other properties are read-only. */
const WRITABLE = ['Image', 'Inserted', 'WriteProtected', 'TransferProtocolType', 'VerifyCertificate'] as const;

function slotOf(ctx: RouteContext): MediaSlotId {
  const id = ctx.params[0];
  if (!(MEDIA_SLOTS as readonly string[]).includes(id ?? '')) throw notFound(ctx.path);
  return id as MediaSlotId;
}

function imageName(image: string): string | null {
  try {
    const name = decodeURIComponent(new URL(image).pathname.split('/').pop() ?? '');
    return name === '' ? null : name;
  } catch {
    return null;
  }
}

export function virtualMediaBody(base: string, s: MediaSlotState): JsonObject {
  const path = `${base}/${s.slot}`;
  return {
    '@odata.id': path,
    '@odata.type': typeOf(SCHEMA.VirtualMedia),
    Id: s.slot,
    Name: SLOT_NAMES[s.slot],
    MediaTypes: [...SLOT_MEDIA_TYPES[s.slot]],
    Image: s.image ?? null,
    ImageName: s.image === undefined ? null : imageName(s.image),
    Inserted: s.inserted,
    WriteProtected: s.writeProtected,
    ConnectedVia: isConnected(s) ? 'URI' : 'NotConnected',
    TransferProtocolType: s.transferProtocolType ?? null,
    TransferMethod: 'Stream',
    VerifyCertificate: s.verifyCertificate,
    Certificates: { '@odata.id': `${path}/${CERTIFICATES}` },
    Status: { State: 'Enabled', Health: 'OK' },
    Actions: {
      [`#${INSERT}`]: { 'target': `${path}/Actions/${INSERT}`, 'TransferProtocolType@Redfish.AllowableValues': [...TRANSFER_PROTOCOLS] },
      [`#${EJECT}`]: { target: `${path}/Actions/${EJECT}` },
    },
  };
}

const paramTypeError = (value: Json, param: string, action: string): RedfishError =>
  new RedfishError(400, 'ActionParameterValueTypeError', `The value '${JSON.stringify(value)}' for the parameter ${param} in the action ${action} is of a different type than the parameter can accept.`, [JSON.stringify(value), param, action]);

const paramNotInList = (value: string, param: string, action: string, allowed: string): RedfishError =>
  new RedfishError(400, 'ActionParameterValueNotInList', `The value '${value}' for the parameter ${param} in the action ${action} is not in the list of acceptable values (${allowed}).`, [value, param, action]);

/** A core refusal as a Redfish error; `where` is the action, or undefined for a PATCH. */
function mediaError(err: unknown, image: string | undefined, where: string | undefined): never {
  if (!(err instanceof VirtualMediaError)) throw err;
  const param = where ? `the parameter Image in the action ${where}` : 'the property Image';
  const shown = image ?? '';
  switch (err.code) {
    case 'bad-url':
      throw new RedfishError(400, where ? 'ActionParameterValueFormatError' : 'PropertyValueFormatError', `The value '${shown}' for ${param} is not in a format the service accepts: ${err.message}.`, where ? [shown, 'Image', where] : [shown, 'Image']);
    case 'scheme-not-supported':
      throw new RedfishError(400, where ? 'ActionParameterValueNotInList' : 'PropertyValueNotInList', `The value '${shown}' for ${param} is not acceptable: ${err.message}.`, where ? [shown, 'Image', where] : [shown, 'Image']);
    case 'protocol-mismatch':
      throw new RedfishError(400, where ? 'ActionParameterValueConflict' : 'PropertyValueConflict', `${err.message}.`, ['TransferProtocolType', 'Image']);
    case 'read-only':
      throw new RedfishError(400, where ? 'ActionParameterValueNotInList' : 'PropertyValueNotInList', `The value 'false' for WriteProtected is not acceptable: ${err.message}.`, where ? ['false', 'WriteProtected', where] : ['false', 'WriteProtected']);
    case 'in-use':
      throw new RedfishError(409, 'ResourceInUse', `The change to the requested resource failed because the resource is in use or in transition: ${err.message}.`);
    case 'unreachable':
      throw new RedfishError(400, 'CouldNotEstablishConnection', `The service failed to establish a connection with the URI '${shown}': ${err.message}. Nothing was inserted.`, [shown]);
    case 'untrusted':
      throw new RedfishError(400, 'CouldNotEstablishConnection', `The service failed to establish a connection with the URI '${shown}': ${err.message}. VerifyCertificate is true: add the server's certificate or its CA to this slot's Certificates, or set VerifyCertificate to false. Nothing was inserted.`, [shown]);
    case 'bad-certificate':
    case 'too-many-certificates':
      throw new RedfishError(400, 'GeneralError', `${err.message}.`);
    case 'image-refused':
      throw new RedfishError(400, where ? 'ActionParameterValueError' : 'PropertyValueError', `The value for ${param} is invalid: ${err.message}. Nothing was inserted.`, where ? ['Image', where] : ['Image']);
    case 'no-drives':
      throw new RedfishError(400, 'ActionNotSupported', `The action is not supported by the resource: ${err.message}.`, [where ?? 'PATCH']);
    case 'machine-failed':
      throw new RedfishError(500, 'GeneralError', `${err.message}.`);
  }
}

function parseInsert(body: JsonObject): { image: string; inserted?: boolean; writeProtected?: boolean; transferProtocolType?: TransferProtocol } {
  for (const key of Object.keys(body)) {
    if (['Image', 'Inserted', 'WriteProtected', 'TransferProtocolType', 'TransferMethod', 'UserName', 'Password'].includes(key)) continue;
    throw new RedfishError(400, 'ActionParameterUnknown', `The action ${INSERT} was submitted with the invalid parameter ${key}.`, [INSERT, key]);
  }
  const { Image: image, Inserted: inserted, WriteProtected: writeProtected, TransferProtocolType: protocol, TransferMethod: method } = body;
  if (image === undefined) throw new RedfishError(400, 'ActionParameterMissing', `The action ${INSERT} requires the parameter Image to be present in the request body.`, [INSERT, 'Image']);
  if (typeof image !== 'string') throw paramTypeError(image, 'Image', INSERT);
  if (inserted !== undefined && typeof inserted !== 'boolean') throw paramTypeError(inserted, 'Inserted', INSERT);
  if (writeProtected !== undefined && typeof writeProtected !== 'boolean') throw paramTypeError(writeProtected, 'WriteProtected', INSERT);
  if (protocol !== undefined && protocol !== null) {
    if (typeof protocol !== 'string') throw paramTypeError(protocol, 'TransferProtocolType', INSERT);
    if (!(TRANSFER_PROTOCOLS as readonly string[]).includes(protocol)) throw paramNotInList(protocol, 'TransferProtocolType', INSERT, TRANSFER_PROTOCOLS.join(', '));
  }
  if (method !== undefined && method !== null) {
    if (typeof method !== 'string') throw paramTypeError(method, 'TransferMethod', INSERT);
    if (method !== 'Stream') throw paramNotInList(method, 'TransferMethod', INSERT, 'Stream');
  }
  for (const key of ['UserName', 'Password'] as const) {
    const v = body[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw paramTypeError(key === 'Password' ? '******' : v, key, INSERT);
    throw new RedfishError(400, 'ActionParameterNotSupported', `The parameter ${key} for the action ${INSERT} is not supported on the target resource: images are read without credentials.`, [key, INSERT]);
  }
  return {
    image,
    ...(inserted === undefined ? {} : { inserted }),
    ...(writeProtected === undefined ? {} : { writeProtected }),
    ...(typeof protocol === 'string' ? { transferProtocolType: protocol as TransferProtocol } : {}),
  };
}

/** The change a PATCH asks for; read-only properties sent back unchanged are ignored. */
function patchChange(body: JsonObject, current: JsonObject): MediaChange {
  const change: { -readonly [K in keyof MediaChange]: MediaChange[K] } = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.includes('@')) continue;
    if (!(WRITABLE as readonly string[]).includes(key)) {
      if (JSON.stringify(value) === JSON.stringify(current[key])) continue;
      throw key in current ? notWritable(key) : unknownProperty(key);
    }
    if (key === 'Image') {
      if (value !== null && typeof value !== 'string') throw typeError(value, key);
      if (value !== current.Image) change.image = value;
    } else if (key === 'Inserted' || key === 'WriteProtected' || key === 'VerifyCertificate') {
      if (typeof value !== 'boolean') throw typeError(value, key);
      if (key === 'Inserted') change.inserted = value;
      else if (key === 'WriteProtected') change.writeProtected = value;
      else change.verifyCertificate = value;
    } else if (value !== null) {
      if (typeof value !== 'string') throw typeError(value, key);
      if (!(TRANSFER_PROTOCOLS as readonly string[]).includes(value)) throw new RedfishError(400, 'PropertyValueNotInList', `The value '${value}' for the property TransferProtocolType is not in the list of acceptable values (${TRANSFER_PROTOCOLS.join(', ')}).`, [value, key]);
      change.transferProtocolType = value as TransferProtocol;
    }
  }
  return change;
}

function routesAt(base: string, core: BmcCore): Route[] {
  const body = (ctx: RouteContext): JsonObject => virtualMediaBody(base, core.virtualMedia.slot(slotOf(ctx)));
  return [
    {
      path: base, schema: 'VirtualMediaCollection',
      ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(base, 'VirtualMediaCollection', 'Virtual Media Collection', MEDIA_SLOTS.map((s) => `${base}/${s}`))) } },
    },
    {
      path: `${base}/{id}`, schema: SCHEMA.VirtualMedia,
      ops: {
        GET: { privilege: 'Login', handle: (ctx) => resourceResponse(body(ctx)) },
        PATCH: {
          privilege: 'ConfigureManager',
          etagOf: body,
          handle: async (ctx) => {
            const slot = slotOf(ctx);
            const change = patchChange(ctx.json(), body(ctx));
            try {
              await core.virtualMedia.update(slot, change);
            } catch (err) {
              mediaError(err, change.image ?? core.virtualMedia.slot(slot).image, undefined);
            }
            return resourceResponse(body(ctx));
          },
        },
      },
    },
    {
      path: `${base}/{id}/Actions/${INSERT}`, schema: `#${INSERT}`,
      ops: {
        POST: {
          privilege: 'ConfigureManager',
          etagOf: body,
          handle: async (ctx) => {
            const slot = slotOf(ctx);
            const req = parseInsert(ctx.json());
            try {
              await core.virtualMedia.insert(slot, req);
            } catch (err) {
              mediaError(err, req.image, INSERT);
            }
            return noContent();
          },
        },
      },
    },
    {
      path: `${base}/{id}/Actions/${EJECT}`, schema: `#${EJECT}`,
      ops: {
        POST: {
          privilege: 'ConfigureManager',
          etagOf: body,
          handle: async (ctx) => {
            const slot = slotOf(ctx);
            for (const key of Object.keys(ctx.json())) {
              throw new RedfishError(400, 'ActionParameterUnknown', `The action ${EJECT} was submitted with the invalid parameter ${key}; it takes none.`, [EJECT, key]);
            }
            try {
              await core.virtualMedia.eject(slot);
            } catch (err) {
              mediaError(err, undefined, EJECT);
            }
            return noContent();
          },
        },
      },
    },
    ...certificateRoutes(base, core, slotOf),
  ];
}

export function virtualMediaRoutes(core: BmcCore): Route[] {
  return [...routesAt(P.managerVirtualMedia, core), ...routesAt(P.systemVirtualMedia, core)];
}

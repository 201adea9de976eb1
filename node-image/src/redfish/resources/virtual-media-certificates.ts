/**
 * A virtual media slot's `Certificates` (DSP0268 VirtualMedia v1_4_0+): a CertificateCollection of
 * Certificate (Certificate.v1_11_0) resources, the certificates the slot trusts for its https image
 * server when `VerifyCertificate` is true (core/virtual-media.ts, core/media-certificates.ts).
 *
 * - GET the collection and each member (`CertificateString`, `CertificateType`, `Subject`, `Issuer`,
 *   validity, serial number, SHA-256 fingerprint).
 * - POST to the collection (ConfigureManager): `CertificateString` (required) and `CertificateType`
 *   (PEM or PEMchain, required as the schema says); 201 with Location (sushy's create_member).
 * - DELETE a member (ConfigureManager): 204.
 */
import type { BmcCore } from '../../core/bmc-core';
import { describeCertificate, MEDIA_CERTIFICATE_TYPES, type MediaCertificate, type MediaCertificateType } from '../../core/media-certificates';
import { VirtualMediaError, type MediaSlotId } from '../../core/virtual-media';
import type { JsonObject } from '../http-types';
import { notFound, RedfishError, typeError, unknownProperty } from '../errors';
import { collection, noContent, resourceResponse, type Route, type RouteContext } from '../router';
import { SCHEMA, typeOf } from './paths';

export const CERTIFICATES = 'Certificates';
const POSTABLE = ['CertificateString', 'CertificateType'];

function certificateBody(path: string, c: MediaCertificate): JsonObject {
  const d = describeCertificate(c.pem);
  return {
    '@odata.id': path,
    '@odata.type': typeOf(SCHEMA.Certificate),
    'Id': c.id,
    'Name': `Image server certificate ${c.id}`,
    'CertificateString': c.pem,
    'CertificateType': c.type,
    'Subject': identifier(d.subject),
    'Issuer': identifier(d.issuer),
    'ValidNotBefore': d.validNotBefore,
    'ValidNotAfter': d.validNotAfter,
    'SerialNumber': d.serialNumber,
    'Fingerprint': d.fingerprint,
    'FingerprintHashAlgorithm': 'TPM_ALG_SHA256',
    'CertificateUsageTypes': ['Device'],
  };
}

/** Certificate.v1_11_0 Identifier: the distinguished name's usual attributes. */
function identifier(dn: Readonly<Record<string, string>>): JsonObject {
  const out: JsonObject = {};
  const map: ReadonlyArray<[string, string]> = [['CN', 'CommonName'], ['O', 'Organization'], ['OU', 'OrganizationalUnit'], ['L', 'City'], ['ST', 'State'], ['C', 'Country']];
  for (const [short, long] of map) if (dn[short] !== undefined) out[long] = dn[short];
  return out;
}

function parsePost(body: JsonObject): { text: string; type: MediaCertificateType } {
  for (const key of Object.keys(body)) if (!POSTABLE.includes(key) && !key.includes('@')) throw unknownProperty(key);
  const { CertificateString: text, CertificateType: type } = body;
  for (const [key, value] of [['CertificateString', text], ['CertificateType', type]] as const) {
    if (value === undefined) throw new RedfishError(400, 'PropertyMissing', `The property ${key} is a required property and must be included in the request.`, [key]);
    if (typeof value !== 'string') throw typeError(value, key);
  }
  if (!(MEDIA_CERTIFICATE_TYPES as readonly string[]).includes(type as string)) {
    throw new RedfishError(400, 'PropertyValueNotInList', `The value '${String(type)}' for the property CertificateType is not in the list of acceptable values (${MEDIA_CERTIFICATE_TYPES.join(', ')}).`, [String(type), 'CertificateType']);
  }
  return { text: text as string, type: type as MediaCertificateType };
}

/** The routes of one slot path pattern (`base` = …/VirtualMedia; the slot is the first `{id}`). */
export function certificateRoutes(base: string, core: BmcCore, slotOf: (ctx: RouteContext) => MediaSlotId): Route[] {
  const collectionPath = (slot: MediaSlotId): string => `${base}/${slot}/${CERTIFICATES}`;
  const member = (ctx: RouteContext): MediaCertificate => {
    const c = core.virtualMedia.certificates(slotOf(ctx)).find((x) => x.id === ctx.params[1]);
    if (!c) throw notFound(ctx.path);
    return c;
  };
  return [
    {
      path: `${base}/{id}/${CERTIFICATES}`, schema: 'CertificateCollection',
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const slot = slotOf(ctx);
            const path = collectionPath(slot);
            return resourceResponse(collection(path, 'CertificateCollection', `${slot} image server certificates`, core.virtualMedia.certificates(slot).map((c) => `${path}/${c.id}`)));
          },
        },
        POST: {
          privilege: 'ConfigureManager',
          handle: async (ctx) => {
            const slot = slotOf(ctx);
            const { text, type } = parsePost(ctx.json());
            let cert: MediaCertificate;
            try {
              cert = await core.virtualMedia.addCertificate(slot, text, type);
            } catch (err) {
              if (!(err instanceof VirtualMediaError)) throw err;
              if (err.code === 'too-many-certificates') throw new RedfishError(400, 'CreateLimitReachedForResource', `The create operation failed because the resource has reached the limit of possible resources: ${err.message}.`);
              throw new RedfishError(400, 'PropertyValueFormatError', `The value for the property CertificateString is not in a format that the property can accept: ${err.message}.`, ['(certificate)', 'CertificateString']);
            }
            const path = `${collectionPath(slot)}/${cert.id}`;
            return resourceResponse(certificateBody(path, cert), 201, { Location: path });
          },
        },
      },
    },
    {
      path: `${base}/{id}/${CERTIFICATES}/{cert}`, schema: SCHEMA.Certificate,
      ops: {
        GET: { privilege: 'Login', handle: (ctx) => resourceResponse(certificateBody(ctx.path, member(ctx))) },
        DELETE: {
          privilege: 'ConfigureManager',
          handle: async (ctx) => {
            const c = member(ctx);
            if (!await core.virtualMedia.removeCertificate(slotOf(ctx), c.id)) throw notFound(ctx.path);
            return noContent();
          },
        },
      },
    },
  ];
}

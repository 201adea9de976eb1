/**
 * Push subscriptions (DSP0268 EventDestination v1_16_0): what a client may ask for, checked field
 * by field, and the table of subscriptions kept in BMC_STATE_DIR (event-subscriptions.json) so they
 * survive a BMC restart. The HTTP headers a subscriber gives (e.g. an Authorization for its
 * receiver) are stored and sent with each event but never shown again (DSP0268: null or empty in
 * responses) and never logged.
 *
 * Destinations (docs/security.md): http or https URLs only; no user:password in the URL (use
 * HttpHeaders); no loopback, link-local, unspecified or multicast host unless REDFISH_EVENT_ALLOW_LOOPBACK
 * allows loopback (delivery checks the resolved addresses again, event-delivery.ts). Pure.
 */
import { isIP } from 'node:net';
import type { Json, JsonObject } from '../http-types';
import { readJson, writeJson, type StateStore } from '../../state/state-store';
import { REGISTRY_PREFIXES, RESOURCE_TYPES } from './event-records';

export const SUBSCRIPTIONS_DOCUMENT = 'event-subscriptions.json';
export const MAX_SUBSCRIPTIONS = 16;
const MAX_CONTEXT = 256;
const MAX_HEADERS = 16;
const MAX_DESTINATION = 2048;
/** Deprecated EventTypes clients such as Ironic still send; accepted and stored, not used to filter. */
export const EVENT_TYPES = ['StatusChange', 'ResourceUpdated', 'ResourceAdded', 'ResourceRemoved', 'Alert', 'Other'] as const;

export interface Subscription {
  readonly id: string;
  readonly destination: string;
  readonly context: string | undefined;
  readonly registryPrefixes: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly eventTypes: readonly string[];
  readonly verifyCertificate: boolean;
  /** Sent with every event; never returned or logged. */
  readonly httpHeaders: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export type Refusal = { readonly property: string; readonly value: Json | undefined; readonly rule: string; readonly kind: 'missing' | 'type' | 'value' | 'unknown' };

export type Validated = { readonly ok: true; readonly value: Omit<Subscription, 'id' | 'createdAt'> } | { readonly ok: false; readonly refusal: Refusal };

const KNOWN = new Set(['Destination', 'Protocol', 'Context', 'EventFormatType', 'RegistryPrefixes', 'ResourceTypes', 'EventTypes', 'HttpHeaders', 'SubscriptionType', 'VerifyCertificate', 'DeliveryRetryPolicy', 'Name', 'Description', 'Id']);

/** A POST body for the Subscriptions collection → the subscription, or the first rule it breaks. */
export function validateSubscription(body: JsonObject, allowLoopback: boolean): Validated {
  const refuse = (property: string, value: Json | undefined, kind: Refusal['kind'], rule: string): Validated => ({ ok: false, refusal: { property, value, kind, rule } });
  for (const key of Object.keys(body)) if (!KNOWN.has(key) && !key.includes('@')) return refuse(key, body[key], 'unknown', 'not a property of a subscription');
  const dest = body.Destination;
  if (dest === undefined) return refuse('Destination', undefined, 'missing', 'required');
  if (typeof dest !== 'string') return refuse('Destination', dest, 'type', 'a string (an http or https URL)');
  const destProblem = destinationProblem(dest, allowLoopback);
  if (destProblem) return refuse('Destination', dest, 'value', destProblem);
  const protocol = body.Protocol;
  if (protocol === undefined) return refuse('Protocol', undefined, 'missing', 'required (Redfish)');
  if (protocol !== 'Redfish') return refuse('Protocol', protocol, 'value', 'only Redfish is supported');
  if (body.SubscriptionType !== undefined && body.SubscriptionType !== 'RedfishEvent') return refuse('SubscriptionType', body.SubscriptionType, 'value', 'only RedfishEvent can be created (SSE streams are opened at ServerSentEventUri)');
  if (body.EventFormatType !== undefined && body.EventFormatType !== 'Event') return refuse('EventFormatType', body.EventFormatType, 'value', 'only Event is supported');
  if (body.DeliveryRetryPolicy !== undefined && body.DeliveryRetryPolicy !== 'TerminateAfterRetries') return refuse('DeliveryRetryPolicy', body.DeliveryRetryPolicy, 'value', 'only TerminateAfterRetries is supported');
  const context = body.Context;
  if (context !== undefined && context !== null && (typeof context !== 'string' || context.length > MAX_CONTEXT)) return refuse('Context', context, typeof context === 'string' ? 'value' : 'type', `a string of at most ${MAX_CONTEXT} characters`);
  const list = (property: string, allowed: readonly string[]): readonly string[] | Validated => {
    const v = body[property];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return refuse(property, v, 'type', 'an array of strings');
    const bad = (v as string[]).find((x) => !allowed.includes(x));
    if (bad !== undefined) return refuse(property, bad, 'value', `one of ${allowed.join(', ')}`);
    return [...new Set(v as string[])];
  };
  const registryPrefixes = list('RegistryPrefixes', REGISTRY_PREFIXES);
  if (!Array.isArray(registryPrefixes)) return registryPrefixes as Validated;
  const resourceTypes = list('ResourceTypes', RESOURCE_TYPES);
  if (!Array.isArray(resourceTypes)) return resourceTypes as Validated;
  const eventTypes = list('EventTypes', EVENT_TYPES);
  if (!Array.isArray(eventTypes)) return eventTypes as Validated;
  const verify = body.VerifyCertificate;
  if (verify !== undefined && typeof verify !== 'boolean') return refuse('VerifyCertificate', verify, 'type', 'a boolean');
  const headers = httpHeaders(body.HttpHeaders);
  if ('refusal' in headers) return { ok: false, refusal: headers.refusal };
  return {
    ok: true,
    value: {
      destination: dest, context: typeof context === 'string' ? context : undefined,
      registryPrefixes: registryPrefixes as string[], resourceTypes: resourceTypes as string[], eventTypes: eventTypes as string[],
      // DSP0268 EventDestination VerifyCertificate: assumed false when the client does not say.
      verifyCertificate: verify === true,
      httpHeaders: headers.headers,
    },
  };
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection']);

/** HttpHeaders: an array of objects of header name → value (DSP0268 HttpHeaderProperty). */
function httpHeaders(v: Json | undefined): { headers: Record<string, string> } | { refusal: Refusal } {
  const headers: Record<string, string> = {};
  if (v === undefined || v === null) return { headers };
  const bad = (rule: string): { refusal: Refusal } => ({ refusal: { property: 'HttpHeaders', value: '(not shown)', kind: 'value', rule } });
  if (!Array.isArray(v)) return { refusal: { property: 'HttpHeaders', value: '(not shown)', kind: 'type', rule: 'an array of objects of header names and values' } };
  for (const item of v) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return bad('an array of objects of header names and values');
    for (const [name, value] of Object.entries(item)) {
      if (!TOKEN.test(name) || FORBIDDEN_HEADERS.has(name.toLowerCase())) return bad(`'${name}' is not a header name a subscriber may set`);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 4096) return bad(`the value of ${name} must be a single-line string of at most 4096 characters`);
      headers[name] = value;
    }
  }
  if (Object.keys(headers).length > MAX_HEADERS) return bad(`at most ${MAX_HEADERS} headers`);
  return { headers };
}

/** Why a destination URL is refused, or undefined when it is acceptable. */
export function destinationProblem(text: string, allowLoopback: boolean): string | undefined {
  if (text.length > MAX_DESTINATION) return `a URL of at most ${MAX_DESTINATION} characters`;
  let url: URL;
  try { url = new URL(text); } catch { return 'an absolute http or https URL'; }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `the scheme ${url.protocol.replace(/:$/, '')} is not allowed (http or https only)`;
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not allowed (give them in HttpHeaders)';
  if (url.hash !== '') return 'a URL without a fragment';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') return 'a URL with a host';
  return addressProblem(host.toLowerCase() === 'localhost' ? '127.0.0.1' : host, allowLoopback);
}

/** Why events may not go to this address (a literal IP; names pass here and are checked when resolved). */
export function addressProblem(host: string, allowLoopback: boolean): string | undefined {
  const family = isIP(host);
  if (family === 0) return undefined;
  const v4 = family === 4 ? host : /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1];
  if (v4 !== undefined) {
    const [a, b] = v4.split('.').map(Number) as [number, number];
    if (a === 127) return allowLoopback ? undefined : 'a loopback destination is not allowed (REDFISH_EVENT_ALLOW_LOOPBACK=true allows it)';
    if (a === 0) return 'an unspecified address is not allowed';
    if (a === 169 && b === 254) return 'a link-local address is not allowed';
    if (a >= 224) return 'a multicast or reserved address is not allowed';
    return undefined;
  }
  const h = host.toLowerCase();
  if (h === '::1') return allowLoopback ? undefined : 'a loopback destination is not allowed (REDFISH_EVENT_ALLOW_LOOPBACK=true allows it)';
  if (h === '::') return 'an unspecified address is not allowed';
  if (/^fe[89ab]/.test(h)) return 'a link-local address is not allowed';
  if (h.startsWith('ff')) return 'a multicast address is not allowed';
  return undefined;
}

interface SubscriptionsDocument {
  readonly version: 1;
  readonly nextId: number;
  readonly subscriptions: Subscription[];
}

/** The subscriptions, kept in the state store after every change. */
export class SubscriptionTable {
  private subs: Subscription[] = [];
  private nextId = 1;

  constructor(private readonly store: StateStore) {
    let doc: Partial<SubscriptionsDocument> | undefined;
    try { doc = readJson<SubscriptionsDocument>(store, SUBSCRIPTIONS_DOCUMENT); } catch { doc = undefined; }
    if (doc && doc.version === 1 && Array.isArray(doc.subscriptions)) {
      this.subs = doc.subscriptions.filter((s) => typeof s.id === 'string' && typeof s.destination === 'string').slice(0, MAX_SUBSCRIPTIONS);
      this.nextId = typeof doc.nextId === 'number' ? doc.nextId : this.subs.length + 1;
    }
  }

  list(): readonly Subscription[] {
    return this.subs;
  }

  get(id: string): Subscription | undefined {
    return this.subs.find((s) => s.id === id);
  }

  /** undefined when the table is full. */
  add(value: Omit<Subscription, 'id' | 'createdAt'>, now: number): Subscription | undefined {
    if (this.subs.length >= MAX_SUBSCRIPTIONS) return undefined;
    const sub: Subscription = { ...value, id: String(this.nextId++), createdAt: now };
    this.subs = [...this.subs, sub];
    this.save();
    return sub;
  }

  remove(id: string): boolean {
    const before = this.subs.length;
    this.subs = this.subs.filter((s) => s.id !== id);
    if (this.subs.length === before) return false;
    this.save();
    return true;
  }

  private save(): void {
    writeJson(this.store, SUBSCRIPTIONS_DOCUMENT, { version: 1, nextId: this.nextId, subscriptions: this.subs } satisfies SubscriptionsDocument);
  }
}

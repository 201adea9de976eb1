/**
 * EventService (DSP0268 EventService v1_12_0), its Subscriptions (EventDestination v1_16_0),
 * `#EventService.SubmitTestEvent` and the Server-Sent Events stream at ServerSentEventUri
 * (DSP0266 section 13.5). Events themselves: events/event-hub.ts.
 */
import type { Json, JsonObject } from '../http-types';
import { notFound, RedfishError, typeError, unknownProperty } from '../errors';
import { collection, idRef, noContent, resourceResponse, type Principal, type Route } from '../router';
import type { EventHub } from '../events/event-hub';
import { RETRY_ATTEMPTS_RANGE, RETRY_INTERVAL_RANGE } from '../events/event-hub';
import { DEFAULT_TEST_MESSAGE_ID, REGISTRY_PREFIXES, RESOURCE_TYPES, type RedfishEventRecord, type Severity } from '../events/event-records';
import { parseSseFilter } from '../events/sse-filter';
import { EVENT_TYPES, MAX_SUBSCRIPTIONS, validateSubscription, type Subscription } from '../events/subscriptions';
import { P, ROOT, SCHEMA, typeOf } from './paths';

const SSE_FILTER_PROPERTIES = { EventFormatType: true, MessageId: true, RegistryPrefix: true, ResourceType: true, OriginResource: true, MetricReportDefinition: false, SubordinateResources: false };

function eventService(hub: EventHub): JsonObject {
  const s = hub.settings;
  return {
    '@odata.id': P.eventService,
    '@odata.type': typeOf(SCHEMA.EventService),
    Id: 'EventService',
    Name: 'Event Service',
    ServiceEnabled: s.serviceEnabled,
    Status: { State: s.serviceEnabled ? 'Enabled' : 'Disabled', Health: 'OK' },
    DeliveryRetryAttempts: s.deliveryRetryAttempts,
    DeliveryRetryIntervalSeconds: s.deliveryRetryIntervalSeconds,
    EventFormatTypes: ['Event'],
    // Deprecated (Event v1_3) but read by sushy; accepted on subscriptions, not used to filter.
    EventTypesForSubscription: [...EVENT_TYPES],
    RegistryPrefixes: [...REGISTRY_PREFIXES],
    ResourceTypes: [...RESOURCE_TYPES],
    ServerSentEventUri: P.sse,
    SSEFilterPropertiesSupported: SSE_FILTER_PROPERTIES,
    SubordinateResourcesSupported: false,
    IncludeOriginOfConditionSupported: false,
    Subscriptions: idRef(P.subscriptions),
    Actions: { '#EventService.SubmitTestEvent': { target: P.submitTestEvent } },
  };
}

function destination(s: Subscription): JsonObject {
  return {
    '@odata.id': `${P.subscriptions}/${s.id}`,
    '@odata.type': typeOf(SCHEMA.EventDestination),
    Id: s.id,
    Name: `Event subscription ${s.id}`,
    Destination: s.destination,
    Protocol: 'Redfish',
    Context: s.context ?? null,
    SubscriptionType: 'RedfishEvent',
    EventFormatType: 'Event',
    RegistryPrefixes: [...s.registryPrefixes],
    ResourceTypes: [...s.resourceTypes],
    ...(s.eventTypes.length > 0 ? { EventTypes: [...s.eventTypes] } : {}),
    // DSP0268 EventDestination HttpHeaders: null or empty in responses (they may hold credentials).
    HttpHeaders: [],
    VerifyCertificate: s.verifyCertificate,
    DeliveryRetryPolicy: 'TerminateAfterRetries',
    Status: { State: 'Enabled', Health: 'OK' },
  };
}

function patchSettings(hub: EventHub, body: JsonObject): void {
  const current = eventService(hub);
  const change: { serviceEnabled?: boolean; deliveryRetryAttempts?: number; deliveryRetryIntervalSeconds?: number } = {};
  const integer = (key: string, [lo, hi]: readonly [number, number]): number => {
    const v = body[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(v, key);
    if (v < lo || v > hi) throw new RedfishError(400, 'PropertyValueOutOfRange', `The value '${v}' for the property ${key} is not in the supported range of ${lo} to ${hi}.`, [String(v), key]);
    return v;
  };
  for (const key of Object.keys(body)) {
    if (key.includes('@')) continue;
    if (key === 'ServiceEnabled') {
      if (typeof body[key] !== 'boolean') throw typeError(body[key], key);
      change.serviceEnabled = body[key] as boolean;
    } else if (key === 'DeliveryRetryAttempts') change.deliveryRetryAttempts = integer(key, RETRY_ATTEMPTS_RANGE);
    else if (key === 'DeliveryRetryIntervalSeconds') change.deliveryRetryIntervalSeconds = integer(key, RETRY_INTERVAL_RANGE);
    else if (JSON.stringify(body[key]) !== JSON.stringify(current[key])) {
      throw key in current ? new RedfishError(400, 'PropertyNotWritable', `The property ${key} is a read only property and cannot be assigned a value.`, [key]) : unknownProperty(key);
    }
  }
  hub.updateSettings(change);
}

function createSubscription(hub: EventHub, body: JsonObject, now: number): Subscription {
  const v = validateSubscription(body, hub.allowLoopback);
  if (!v.ok) {
    const { property, value, kind, rule } = v.refusal;
    const shown = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    switch (kind) {
      case 'missing': throw new RedfishError(400, 'PropertyMissing', `The property ${property} is a required property and must be included in the request: ${rule}.`, [property]);
      case 'unknown': throw unknownProperty(property);
      case 'type': throw new RedfishError(400, 'PropertyValueTypeError', `The value '${shown}' for the property ${property} is not a type that the property can accept: ${rule}.`, [shown, property]);
      default: throw new RedfishError(400, 'PropertyValueIncorrect', `The property ${property} with the requested value of '${shown}' could not be written because the value does not meet the constraints of the implementation: ${rule}.`, [property, shown]);
    }
  }
  const sub = hub.subscriptions.add(v.value, now);
  if (!sub) throw new RedfishError(400, 'CreateLimitReachedForResource', `The create operation failed because the resource has reached the limit of ${MAX_SUBSCRIPTIONS} subscriptions.`);
  return sub;
}

const SEVERITIES: readonly Severity[] = ['OK', 'Warning', 'Critical'];

/** SubmitTestEvent parameters (EventService v1_12_0): all optional; a test event goes out like any other. */
function testRecord(body: JsonObject, now: number): RedfishEventRecord {
  const str = (key: string): string | undefined => {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw actionTypeError(v, key);
    return v;
  };
  const known = new Set(['EventGroupId', 'EventId', 'EventTimestamp', 'EventType', 'Message', 'MessageArgs', 'MessageId', 'MessageSeverity', 'OriginOfCondition', 'Severity']);
  for (const key of Object.keys(body)) {
    if (!known.has(key)) throw new RedfishError(400, 'ActionParameterNotSupported', `The parameter ${key} for the action EventService.SubmitTestEvent is not supported on the target resource.`, [key, 'EventService.SubmitTestEvent']);
  }
  const args = body.MessageArgs ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw actionTypeError(args, 'MessageArgs');
  const severity = str('MessageSeverity') ?? str('Severity') ?? 'OK';
  if (!(SEVERITIES as readonly string[]).includes(severity)) throw new RedfishError(400, 'ActionParameterNotSupported', `The parameter MessageSeverity for the action EventService.SubmitTestEvent is not supported: '${severity}' is not one of ${SEVERITIES.join(', ')}.`, ['MessageSeverity', 'EventService.SubmitTestEvent']);
  const stamp = str('EventTimestamp');
  const at = stamp === undefined ? now : Date.parse(stamp);
  if (Number.isNaN(at)) throw actionTypeError(stamp ?? null, 'EventTimestamp');
  const origin = (str('OriginOfCondition') ?? P.eventService).replace(/\/+$/, '');
  str('EventId'); str('EventType');
  const messageId = str('MessageId') ?? DEFAULT_TEST_MESSAGE_ID;
  return {
    messageId,
    message: str('Message') ?? 'Test event submitted through EventService.SubmitTestEvent.',
    messageArgs: args as string[],
    severity: severity as Severity,
    origin: origin.startsWith(ROOT) ? origin : P.eventService,
    resourceType: 'EventService', at,
  };
}

const actionTypeError = (value: Json, parameter: string): RedfishError =>
  new RedfishError(400, 'ActionParameterValueTypeError', `The value '${JSON.stringify(value)}' for the parameter ${parameter} in the action EventService.SubmitTestEvent is of a different type than the parameter can accept.`, [JSON.stringify(value), parameter, 'EventService.SubmitTestEvent']);

/** `stillAllowed(principal)`: whether a stream opened by `principal` may go on (its session still open). */
export function eventServiceRoutes(hub: EventHub, stillAllowed: (principal: Principal) => () => boolean): Route[] {
  return [
    {
      path: P.eventService, schema: SCHEMA.EventService,
      ops: {
        GET: { privilege: 'Login', handle: () => resourceResponse(eventService(hub)) },
        PATCH: { privilege: 'ConfigureManager', etagOf: () => eventService(hub), handle: (ctx) => { patchSettings(hub, ctx.json()); return resourceResponse(eventService(hub)); } },
      },
    },
    {
      path: P.subscriptions, schema: 'EventDestinationCollection',
      ops: {
        // Subscriptions are read by those who may make them: a destination's path or query may hold a receiver's token.
        GET: { privilege: 'ConfigureManager', handle: () => resourceResponse(collection(P.subscriptions, 'EventDestinationCollection', 'Event Subscriptions', hub.subscriptions.list().map((s) => `${P.subscriptions}/${s.id}`))) },
        POST: {
          privilege: 'ConfigureManager',
          handle: (ctx) => {
            const sub = createSubscription(hub, ctx.json(), ctx.now);
            return resourceResponse(destination(sub), 201, { Location: `${P.subscriptions}/${sub.id}` });
          },
        },
      },
    },
    {
      path: `${P.subscriptions}/{id}`, schema: SCHEMA.EventDestination,
      ops: {
        GET: {
          privilege: 'ConfigureManager',
          handle: (ctx) => {
            const sub = hub.subscriptions.get(ctx.params[0]!);
            if (!sub) throw notFound(ctx.path);
            return resourceResponse(destination(sub));
          },
        },
        DELETE: {
          privilege: 'ConfigureManager',
          handle: (ctx) => {
            if (!hub.subscriptions.remove(ctx.params[0]!)) throw notFound(ctx.path);
            hub.delivery.forget(ctx.params[0]!);
            return noContent();
          },
        },
      },
    },
    {
      path: P.submitTestEvent, schema: '#EventService.SubmitTestEvent',
      ops: { POST: { privilege: 'ConfigureManager', handle: (ctx) => { hub.publish([testRecord(ctx.json(), ctx.now)]); return noContent(); } } },
    },
    {
      path: P.sse, schema: 'Server-Sent Events (text/event-stream)',
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const filterText = new URLSearchParams(ctx.req.query ?? '').get('$filter') ?? undefined;
            const parsed = parseSseFilter(filterText);
            if (!parsed.ok) throw new RedfishError(400, 'QueryParameterValueFormatError', `The value '${filterText}' for the parameter $filter is of a different format than the parameter can accept: ${parsed.reason}.`, [filterText ?? '', '$filter']);
            if (!hub.settings.serviceEnabled) throw new RedfishError(503, 'ServiceTemporarilyUnavailable', 'The event service is disabled (EventService ServiceEnabled is false).', ['60'], { 'Retry-After': '60' });
            const stream = hub.openStream(parsed.filter, stillAllowed(ctx.principal!));
            if (!stream) throw new RedfishError(503, 'ServiceTemporarilyUnavailable', 'Too many event streams are open; retry after one has closed.', ['30'], { 'Retry-After': '30' });
            return { status: 200, headers: { 'Content-Type': 'text/event-stream' }, stream };
          },
        },
      },
    },
  ];
}

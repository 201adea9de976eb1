/**
 * Domain events (core/bmc-events.ts) as Redfish events (DSP0268 Event v1_13_0, DSP0266 section 13.5),
 * with MessageIds from DMTF's standard registries:
 * - ResourceEvent.1.4.2 ResourcePoweredOn / ResourcePoweredOff: the system's PowerState changed;
 * - ResourceEvent.1.4.2 ResourceChanged: the boot override or a virtual media slot changed;
 * - ResourceEvent.1.4.2 ResourceCreated: an entry was added to the SEL (origin: the LogEntry);
 * - TaskEvent.1.0.3 TaskStarted / TaskCompletedOK / TaskAborted: tasks (TaskService);
 * - test events carry what the client submitted (default Base.1.16.0.Success).
 * Pure: the event's id and time are given.
 */
import type { BmcDomainEvent } from '../../core/bmc-events';
import type { JsonObject } from '../http-types';
import { BASE_REGISTRY } from '../errors';
import { P, typeOf } from '../resources/paths';

export const RESOURCE_EVENT_REGISTRY = 'ResourceEvent.1.4.2';
export const TASK_EVENT_REGISTRY = 'TaskEvent.1.0.3';
export const EVENT_SCHEMA = 'Event.v1_13_0';
/** Registry prefixes events come from (EventService RegistryPrefixes). */
export const REGISTRY_PREFIXES = ['Base', 'ResourceEvent', 'TaskEvent'] as const;
/** Resource types events originate from (EventService ResourceTypes). */
export const RESOURCE_TYPES = ['ComputerSystem', 'LogEntry', 'VirtualMedia', 'Task'] as const;

/** Every MessageId this service sends on its own (test events carry what the client submitted). */
export const EVENT_MESSAGE_IDS = [
  `${RESOURCE_EVENT_REGISTRY}.ResourcePoweredOn`, `${RESOURCE_EVENT_REGISTRY}.ResourcePoweredOff`, `${RESOURCE_EVENT_REGISTRY}.ResourceChanged`,
  `${RESOURCE_EVENT_REGISTRY}.ResourceCreated`, `${TASK_EVENT_REGISTRY}.TaskStarted`, `${TASK_EVENT_REGISTRY}.TaskCompletedOK`, `${TASK_EVENT_REGISTRY}.TaskAborted`,
] as const;

export type Severity = 'OK' | 'Warning' | 'Critical';

/** One event record before it is addressed to a subscriber. */
export interface RedfishEventRecord {
  readonly messageId: string;
  readonly message: string;
  readonly messageArgs: readonly string[];
  readonly severity: Severity;
  /** @odata.id of the resource the event is about. */
  readonly origin: string;
  /** Its resource type (ComputerSystem, LogEntry, …), for ResourceTypes filters. */
  readonly resourceType: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** Where a virtual media slot lives (the Manager's VirtualMedia collection). */
export const mediaPath = (slot: string): string => `${P.managerVirtualMedia}/${encodeURIComponent(slot)}`;

export function recordsOf(event: BmcDomainEvent): RedfishEventRecord[] {
  switch (event.kind) {
    case 'power': {
      const on = event.state === 'on';
      return [{
        messageId: `${RESOURCE_EVENT_REGISTRY}.${on ? 'ResourcePoweredOn' : 'ResourcePoweredOff'}`,
        message: `The resource '${P.system}' has powered ${on ? 'on' : 'off'}.`,
        messageArgs: [P.system],
        severity: event.cause === 'failure' ? 'Critical' : 'OK',
        origin: P.system, resourceType: 'ComputerSystem', at: event.at,
      }];
    }
    case 'boot-override':
      return [changed(P.system, 'ComputerSystem', event.at)];
    case 'media':
      return [changed(mediaPath(event.slot), 'VirtualMedia', event.at)];
    case 'event-log-entry':
      return [{
        messageId: `${RESOURCE_EVENT_REGISTRY}.ResourceCreated`,
        message: 'The resource was created successfully.',
        messageArgs: [],
        severity: event.entry.event === 'failure' ? 'Critical' : 'OK',
        origin: `${P.selEntries}/${event.entry.id}`, resourceType: 'LogEntry', at: event.at,
      }];
  }
}

const changed = (origin: string, resourceType: string, at: number): RedfishEventRecord => ({
  messageId: `${RESOURCE_EVENT_REGISTRY}.ResourceChanged`,
  message: 'One or more resource properties have changed.',
  messageArgs: [], severity: 'OK', origin, resourceType, at,
});

export function taskRecord(kind: 'TaskStarted' | 'TaskCompletedOK' | 'TaskAborted', taskId: string, taskPath: string, at: number): RedfishEventRecord {
  const text = { TaskStarted: 'has started', TaskCompletedOK: 'has completed', TaskAborted: 'has been aborted' }[kind];
  return {
    messageId: `${TASK_EVENT_REGISTRY}.${kind}`, message: `The task with Id '${taskId}' ${text}.`, messageArgs: [taskId],
    severity: kind === 'TaskAborted' ? 'Critical' : 'OK',
    origin: taskPath, resourceType: 'Task', at,
  };
}

export const DEFAULT_TEST_MESSAGE_ID = `${BASE_REGISTRY}.Success`;

/** The registry prefix of a MessageId ("ResourceEvent.1.4.2.ResourceChanged" → "ResourceEvent"). */
export const registryPrefixOf = (messageId: string): string => messageId.split('.')[0] ?? '';

export const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The Event resource sent to one subscriber (DSP0268 Event v1_13_0); `id` is the event's sequence number. */
export function eventPayload(id: number, records: readonly RedfishEventRecord[], context: string | undefined): JsonObject {
  return {
    '@odata.type': typeOf(EVENT_SCHEMA),
    Id: String(id),
    Name: 'Event',
    ...(context !== undefined ? { Context: context } : {}),
    Events: records.map((r, i) => ({
      EventId: String(id),
      EventTimestamp: isoTime(r.at),
      // Deprecated in Event v1_3 but required: "Other" for events found by MessageId.
      EventType: 'Other',
      MemberId: String(i),
      MessageId: r.messageId,
      Message: r.message,
      MessageArgs: [...r.messageArgs],
      MessageSeverity: r.severity,
      OriginOfCondition: { '@odata.id': r.origin },
      ...(context !== undefined ? { Context: context } : {}),
    })),
  };
}

/** What a subscription or an SSE stream takes (an empty list: everything). */
export interface EventSelection {
  readonly registryPrefixes: readonly string[];
  readonly resourceTypes: readonly string[];
  /** Exact MessageIds (SSE $filter MessageId eq '…'). */
  readonly messageIds?: readonly string[];
  /** Origins (SSE $filter OriginResource eq '…'). */
  readonly origins?: readonly string[];
}

export function selects(s: EventSelection, r: RedfishEventRecord): boolean {
  const inList = (list: readonly string[] | undefined, value: string): boolean => list === undefined || list.length === 0 || list.includes(value);
  return inList(s.registryPrefixes, registryPrefixOf(r.messageId)) && inList(s.resourceTypes, r.resourceType)
    && inList(s.messageIds, r.messageId) && inList(s.origins, r.origin);
}

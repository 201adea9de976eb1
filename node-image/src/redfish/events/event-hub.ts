/**
 * The EventService's engine: turns domain events (core/bmc-events.ts) into Redfish events and hands
 * each one to every subscription and Server-Sent Events stream whose filters take it. Push
 * subscriptions go through EventDelivery (queue, retries); SSE streams get the bytes at once and are
 * ended when their client falls too far behind. Settings (ServiceEnabled, DeliveryRetryAttempts,
 * DeliveryRetryIntervalSeconds) and subscriptions are kept in the state store.
 */
import type { BmcEvents } from '../../core/bmc-events';
import type { Logger } from '../../util/logger';
import type { ResponseStream } from '../http-types';
import { readJson, writeJson, type StateStore } from '../../state/state-store';
import { EventDelivery, type EventPoster } from './event-delivery';
import { eventPayload, recordsOf, selects, type RedfishEventRecord } from './event-records';
import type { SseFilter } from './sse-filter';
import { SubscriptionTable } from './subscriptions';

export const EVENT_SETTINGS_DOCUMENT = 'event-service.json';
export const MAX_SSE_STREAMS = 8;

export interface EventSettings {
  readonly serviceEnabled: boolean;
  readonly deliveryRetryAttempts: number;
  readonly deliveryRetryIntervalSeconds: number;
}

export const DEFAULT_EVENT_SETTINGS: EventSettings = { serviceEnabled: true, deliveryRetryAttempts: 3, deliveryRetryIntervalSeconds: 30 };
export const RETRY_ATTEMPTS_RANGE = [0, 10] as const;
export const RETRY_INTERVAL_RANGE = [1, 600] as const;

export interface EventHubDeps {
  readonly store: StateStore;
  readonly post: EventPoster;
  readonly log: Logger;
  /** REDFISH_EVENT_ALLOW_LOOPBACK: subscriptions may name a loopback destination. */
  readonly allowLoopback: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface SseClient {
  readonly filter: SseFilter;
  /** False once the client's session or account no longer allows it: the stream ends. */
  readonly allowed: () => boolean;
  readonly write: (chunk: string) => boolean;
  readonly end: () => void;
}

export class EventHub {
  readonly subscriptions: SubscriptionTable;
  readonly delivery: EventDelivery;
  private settingsValue: EventSettings;
  private readonly streams = new Set<SseClient>();
  private sequence = 0;

  constructor(private readonly deps: EventHubDeps) {
    this.subscriptions = new SubscriptionTable(deps.store);
    this.settingsValue = loadSettings(deps.store);
    this.delivery = new EventDelivery({
      post: deps.post,
      log: deps.log,
      retry: () => ({ attempts: this.settingsValue.deliveryRetryAttempts, intervalMs: this.settingsValue.deliveryRetryIntervalSeconds * 1000 }),
      onGiveUp: (id) => { this.subscriptions.remove(id); },
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
  }

  get allowLoopback(): boolean {
    return this.deps.allowLoopback;
  }

  get settings(): EventSettings {
    return this.settingsValue;
  }

  updateSettings(change: Partial<EventSettings>): void {
    this.settingsValue = { ...this.settingsValue, ...change };
    writeJson(this.deps.store, EVENT_SETTINGS_DOCUMENT, { version: 1, ...this.settingsValue });
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Follows the core's events until the returned function is called. */
  attach(bus: BmcEvents): () => void {
    return bus.on((event) => this.publish(recordsOf(event)));
  }

  /** Sends `records` (one event) to every subscriber whose filters take some of them. */
  publish(records: readonly RedfishEventRecord[]): void {
    if (!this.settingsValue.serviceEnabled || records.length === 0) return;
    const id = ++this.sequence;
    for (const sub of this.subscriptions.list()) {
      const taken = records.filter((r) => selects(sub, r));
      if (taken.length > 0) this.delivery.enqueue(sub, eventPayload(id, taken, sub.context));
    }
    for (const client of this.streams) {
      if (!client.allowed()) {
        client.end();
        this.streams.delete(client);
        continue;
      }
      const taken = records.filter(client.filter);
      if (taken.length === 0) continue;
      // DSP0266 section 13.5.2: each event is one SSE message with its id.
      if (!client.write(`id: ${id}\ndata: ${JSON.stringify(eventPayload(id, taken, undefined))}\n\n`)) {
        this.deps.log.warn('SSE client falls behind; ending its stream', {});
        client.end();
        this.streams.delete(client);
      }
    }
  }

  /**
   * A Server-Sent Events stream, or undefined when MAX_SSE_STREAMS are open. `allowed` is asked
   * before each event: once the client's session has ended (or its account may no longer log in),
   * the stream ends.
   */
  openStream(filter: SseFilter, allowed: () => boolean): ResponseStream | undefined {
    if (this.streams.size >= MAX_SSE_STREAMS) return undefined;
    return {
      open: (write, end) => {
        // Requests that passed the check above at the same time: the limit holds here.
        if (this.streams.size >= MAX_SSE_STREAMS) { end(); return () => {}; }
        const client: SseClient = { filter, allowed, write, end };
        this.streams.add(client);
        // A comment line first: clients see the stream is open before the first event.
        write(': stream open\n\n');
        return () => { this.streams.delete(client); };
      },
    };
  }

  close(): void {
    this.delivery.close();
    for (const client of this.streams) client.end();
    this.streams.clear();
  }
}

function loadSettings(store: StateStore): EventSettings {
  let doc: Partial<EventSettings> | undefined;
  try { doc = readJson<Partial<EventSettings>>(store, EVENT_SETTINGS_DOCUMENT); } catch { doc = undefined; }
  const pick = <K extends keyof EventSettings>(k: K, ok: (v: unknown) => boolean): EventSettings[K] => (doc && ok(doc[k]) ? doc[k] as EventSettings[K] : DEFAULT_EVENT_SETTINGS[k]);
  const inRange = ([lo, hi]: readonly [number, number]) => (v: unknown): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  return {
    serviceEnabled: pick('serviceEnabled', (v) => typeof v === 'boolean'),
    deliveryRetryAttempts: pick('deliveryRetryAttempts', inRange(RETRY_ATTEMPTS_RANGE)),
    deliveryRetryIntervalSeconds: pick('deliveryRetryIntervalSeconds', inRange(RETRY_INTERVAL_RANGE)),
  };
}

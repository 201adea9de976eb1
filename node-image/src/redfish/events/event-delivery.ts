/**
 * Push delivery of events to subscribers: the one place the BMC makes outbound HTTP requests.
 *
 * - `httpEventPoster`: one POST of one event (JSON) to a destination, over http or https; TLS
 *   verified against the system's CAs (and NODE_EXTRA_CA_CERTS) when the subscription asks for it;
 *   redirects are not followed; the resolved address is checked against the destination rules
 *   (subscriptions.ts addressProblem) so that a name cannot lead to a refused address; bounded in time.
 * - `EventDelivery`: a queue per subscription, in order, at most MAX_QUEUED events each (the oldest
 *   is dropped when a slow receiver falls behind, and the drop is logged); a failed POST (no answer,
 *   or a status other than 2xx) is retried DeliveryRetryAttempts times, DeliveryRetryIntervalSeconds
 *   apart; after the last one the subscription ends (DeliveryRetryPolicy TerminateAfterRetries).
 * Logs name a subscription by its id and its destination's origin only: the path, query and the
 * subscriber's headers may carry credentials and are never logged.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Logger } from '../../util/logger';
import type { JsonObject } from '../http-types';
import { addressProblem, type Subscription } from './subscriptions';

export const MAX_QUEUED = 100;
export const POST_TIMEOUT_MS = 10_000;

export interface EventPostRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly verifyCertificate: boolean;
}

/** POSTs one event; resolves with the HTTP status, rejects when no answer came. */
export type EventPoster = (req: EventPostRequest) => Promise<number>;

export function httpEventPoster(opts: { readonly allowLoopback: boolean; readonly timeoutMs?: number }): EventPoster {
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) { callback(err, '', 0); return; }
      const refused = addresses.map((a) => addressProblem(a.address, opts.allowLoopback)).find((p) => p !== undefined);
      if (refused) { callback(Object.assign(new Error(`destination address refused: ${refused}`), { code: 'EREFUSED' }), '', 0); return; }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return (req) => new Promise<number>((resolve, reject) => {
    const url = new URL(req.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(req.body);
    const r = send(url, {
      method: 'POST',
      headers: { ...req.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length), 'OData-Version': '4.0' },
      timeout: opts.timeoutMs ?? POST_TIMEOUT_MS,
      lookup,
      agent: false,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: req.verifyCertificate, minVersion: 'TLSv1.2' as const } : {}),
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`no answer within ${opts.timeoutMs ?? POST_TIMEOUT_MS} ms`)));
    r.on('error', reject);
    r.end(body);
  });
}

export interface RetrySettings {
  /** Retries after the first attempt (DeliveryRetryAttempts). */
  readonly attempts: number;
  readonly intervalMs: number;
}

export interface EventDeliveryDeps {
  readonly post: EventPoster;
  readonly retry: () => RetrySettings;
  /** Called when a subscription's retries are spent: it ends. */
  readonly onGiveUp: (subscriptionId: string) => void;
  readonly log: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly maxQueued?: number;
}

interface Queue {
  sub: Subscription;
  events: JsonObject[];
  dropped: number;
  running: boolean;
}

export const originOf = (url: string): string => { try { return new URL(url).origin; } catch { return '(invalid URL)'; } };

export class EventDelivery {
  private readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly sleep: (ms: number) => Promise<void>;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: EventDeliveryDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.timers.delete(t); resolve(); }, ms);
      this.timers.add(t);
    }));
  }

  /** Queues `event` for `sub`; delivery runs in the background, in order. */
  enqueue(sub: Subscription, event: JsonObject): void {
    if (this.closed) return;
    let q = this.queues.get(sub.id);
    if (!q) { q = { sub, events: [], dropped: 0, running: false }; this.queues.set(sub.id, q); }
    q.sub = sub;
    q.events.push(event);
    const max = this.deps.maxQueued ?? MAX_QUEUED;
    if (q.events.length > max) {
      q.events.splice(0, q.events.length - max);
      if (q.dropped++ === 0) this.deps.log.warn('event subscriber falls behind; dropping its oldest events', { subscription: sub.id, destination: originOf(sub.destination), maxQueued: max });
    }
    if (!q.running) void this.run(q);
  }

  /** Forgets a subscription's queue (it was deleted). */
  forget(subscriptionId: string): void {
    const q = this.queues.get(subscriptionId);
    if (q) q.events = [];
    this.queues.delete(subscriptionId);
  }

  /** Number of events waiting (all subscriptions). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.events.length + (q.running ? 1 : 0);
    return n;
  }

  /** Resolves once nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queues.clear();
    this.notifyIdle();
  }

  private async run(q: Queue): Promise<void> {
    q.running = true;
    try {
      while (!this.closed && this.queues.get(q.sub.id) === q && q.events.length > 0) {
        const event = q.events.shift()!;
        if (!(await this.deliver(q.sub, event))) {
          this.forget(q.sub.id);
          this.deps.log.warn('event subscription ended: deliveries failed after every retry', { subscription: q.sub.id, destination: originOf(q.sub.destination) });
          this.deps.onGiveUp(q.sub.id);
          break;
        }
      }
    } finally {
      q.running = false;
      this.notifyIdle();
    }
  }

  private async deliver(sub: Subscription, event: JsonObject): Promise<boolean> {
    const body = JSON.stringify(event);
    const { attempts, intervalMs } = this.deps.retry();
    for (let attempt = 0; attempt <= attempts; attempt++) {
      if (attempt > 0) await this.sleep(intervalMs);
      if (this.closed || !this.queues.has(sub.id)) return true;
      let problem: string;
      try {
        const status = await this.deps.post({ url: sub.destination, headers: sub.httpHeaders, body, verifyCertificate: sub.verifyCertificate });
        if (status >= 200 && status < 300) return true;
        problem = `HTTP ${status}`;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      this.deps.log.info('event delivery failed', { subscription: sub.id, destination: originOf(sub.destination), attempt: attempt + 1, of: attempts + 1, problem });
    }
    return false;
  }

  private notifyIdle(): void {
    if (this.pending !== 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

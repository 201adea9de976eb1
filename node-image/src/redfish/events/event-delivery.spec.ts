/**
 * Push delivery: the bounded queue per subscription, and the address check at connection time
 * (a name that resolves to a refused address is not connected to).
 */
import { silentLogger } from '../../util/logger';
import { EventDelivery, httpEventPoster, type EventPostRequest } from './event-delivery';
import type { Subscription } from './subscriptions';

const sub = (id: string): Subscription => ({
  id, destination: `https://198.51.100.7/${id}`, context: undefined, registryPrefixes: [], resourceTypes: [], eventTypes: [],
  verifyCertificate: false, httpHeaders: {}, createdAt: 0,
});

describe('EventDelivery', () => {
  it('keeps at most maxQueued events per subscription, dropping the oldest, and delivers the rest in order', async () => {
    const posted: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const d = new EventDelivery({
      post: async (r: EventPostRequest) => { await gate; posted.push(JSON.parse(r.body).n); return 204; },
      retry: () => ({ attempts: 0, intervalMs: 0 }), onGiveUp: () => {}, log: silentLogger, maxQueued: 3,
    });
    for (let n = 1; n <= 10; n++) d.enqueue(sub('a'), { n });
    // Event 1 is being sent; of 2..10 the newest 3 wait.
    expect(d.pending).toBe(4);
    release();
    await d.idle();
    expect(posted).toEqual([1, 8, 9, 10]);
  });

  it('a subscription forgotten while it waits gets nothing more', async () => {
    const posted: number[] = [];
    const d = new EventDelivery({ post: async (r) => { posted.push(JSON.parse(r.body).n); return 500; }, retry: () => ({ attempts: 5, intervalMs: 0 }), onGiveUp: () => {}, log: silentLogger, sleep: async () => { d.forget('a'); } });
    d.enqueue(sub('a'), { n: 1 });
    d.enqueue(sub('a'), { n: 2 });
    await d.idle();
    expect(posted).toEqual([1]);
  });
});

describe('httpEventPoster', () => {
  it('refuses a name that resolves to loopback unless loopback is allowed', async () => {
    const post = httpEventPoster({ allowLoopback: false, timeoutMs: 2_000 });
    await expect(post({ url: 'http://localhost:9/events', headers: {}, body: '{}', verifyCertificate: false })).rejects.toThrow(/destination address refused: a loopback destination/);
  });
});

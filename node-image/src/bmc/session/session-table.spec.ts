import { SessionTable } from './session-table';
import type { HalfOpenSession, EstablishedSession } from './session-types';
import { parseCipherSuiteList } from '../../protocol/crypto/cipher-suites';
import { EMPTY_WINDOW } from '../../protocol/session/sequence-window';

const suite = parseCipherSuiteList('17')[0]!;
const remote = { address: '127.0.0.1', port: 1 };
const half = (id: number, createdAt = 0): HalfOpenSession => ({ stage: 'awaiting-rakp1', bmcSessionId: id, consoleSessionId: 1, suite, maxPrivilege: 4, remote, createdAt });
const est = (id: number, handle: number, lastActivity = 0): EstablishedSession => ({
  protocol: 'rmcpplus', bmcSessionId: id, consoleSessionId: 1, handle, userId: 2, userName: 'admin', remote, privilege: 2, maxPrivilege: 4,
  inbound: EMPTY_WINDOW, outboundSequence: 0, lastActivity, suite, keys: { sik: Buffer.alloc(0), k1: Buffer.alloc(0), k2: Buffer.alloc(0) },
});

describe('SessionTable', () => {
  const limits = { maxSessions: 2, reservedForAdministrator: 0, reservedForOperator: 0, maxHalfOpen: 3, halfOpenTimeoutMs: 5_000, idleTimeoutMs: 60_000 };

  it('evicts the oldest half-open session when full, never an established one', () => {
    const t = new SessionTable(limits);
    t.addEstablished(est(100, 1));
    for (let id = 1; id <= 3; id++) expect(t.addHalfOpen(half(id))).toBeUndefined();
    expect(t.addHalfOpen(half(4))?.bmcSessionId).toBe(1);
    expect(t.getHalfOpen(1)).toBeUndefined();
    expect(t.getEstablished(100)).toBeDefined();
    expect(t.halfOpenCount).toBe(3);
  });

  it('caps established sessions and hands out the lowest free handle', () => {
    const t = new SessionTable(limits);
    t.addEstablished(est(10, t.nextHandle()));
    t.addEstablished(est(11, t.nextHandle()));
    expect(t.hasEstablishedCapacity()).toBe(false);
    t.removeEstablished(10);
    expect(t.nextHandle()).toBe(1);
  });

  it('expires half-open sessions after 5 s and idle ones after 60 s', () => {
    const t = new SessionTable(limits);
    t.addHalfOpen(half(1, 0));
    t.addEstablished(est(2, 1, 0));
    expect(t.nextDeadline()).toBe(5_000);
    expect(t.expire(4_999).halfOpen).toHaveLength(0);
    expect(t.expire(5_000).halfOpen.map((s) => s.bmcSessionId)).toEqual([1]);
    expect(t.expire(59_999).established).toHaveLength(0);
    expect(t.expire(60_000).established.map((s) => s.bmcSessionId)).toEqual([2]);
    expect(t.nextDeadline()).toBeNull();
  });

  it('session ids are unique across tables and never 0', () => {
    const t = new SessionTable(limits);
    t.addHalfOpen(half(7));
    t.addEstablished(est(8, 1));
    expect([t.isFreeId(0), t.isFreeId(7), t.isFreeId(8), t.isFreeId(9)]).toEqual([false, false, false, true]);
  });
});

describe('SessionTable under a flood of handshakes from one console', () => {
  const limits = { maxSessions: 16, reservedForAdministrator: 2, reservedForOperator: 2, maxHalfOpen: 4, halfOpenTimeoutMs: 5_000, idleTimeoutMs: 60_000 };
  const flood = { address: '127.0.0.1', port: 40000 };
  const slow = { address: '127.0.0.1', port: 40001 };
  const from = (id: number, r: { address: string; port: number }): HalfOpenSession => ({ ...half(id), remote: r });

  it('evicts from the busiest address even when its flood uses a new port for every handshake', () => {
    const t = new SessionTable(limits);
    t.addHalfOpen(from(1, { address: '192.0.2.1', port: 623 }));
    for (let id = 100; id < 400; id++) t.addHalfOpen(from(id, { address: '192.0.2.66', port: 10_000 + id }));
    expect(t.getHalfOpen(1)).toBeDefined();
    expect(t.halfOpenCount).toBe(limits.maxHalfOpen);
  });

  it('evicts the flooding remote\'s oldest half-open session, never another console\'s handshake', () => {
    const t = new SessionTable(limits);
    t.addHalfOpen(from(1, slow));
    const evicted: number[] = [];
    for (let id = 100; id < 1100; id++) {
      const e = t.addHalfOpen(from(id, flood));
      if (e) evicted.push(e.bmcSessionId);
    }
    expect(t.getHalfOpen(1)?.remote).toEqual(slow);
    expect(t.halfOpenCount).toBe(limits.maxHalfOpen);
    // The flood recycles its own slots, oldest first.
    expect(evicted.slice(0, 3)).toEqual([100, 101, 102]);
    expect(evicted).not.toContain(1);
    // The slow console's RAKP1 moves its session on (same id, same age); it still is not the one to go.
    t.replaceHalfOpen({ ...from(1, slow), stage: 'awaiting-rakp3' });
    t.addHalfOpen(from(2000, flood));
    expect(t.getHalfOpen(1)?.stage).toBe('awaiting-rakp3');
  });

  it('with one remote (or one entry per remote) it drops the oldest, as before', () => {
    const t = new SessionTable(limits);
    for (let id = 1; id <= 4; id++) t.addHalfOpen(from(id, { address: '127.0.0.1', port: id }));
    expect(t.addHalfOpen(from(5, { address: '127.0.0.1', port: 5 }))?.bmcSessionId).toBe(1);
    expect(t.addHalfOpen(from(6, { address: '127.0.0.1', port: 6 }))?.bmcSessionId).toBe(2);
  });

  it('keeps its per-remote counts through removal, expiry and clearing', () => {
    const t = new SessionTable(limits);
    t.addHalfOpen({ ...from(1, slow), createdAt: 0 });
    for (let id = 10; id < 13; id++) t.addHalfOpen({ ...from(id, flood), createdAt: 1_000 });
    t.removeHalfOpen(10);
    expect(t.expire(5_000).halfOpen.map((s) => s.bmcSessionId)).toEqual([1]);
    // Two flood entries left and two free slots: nothing is evicted until the table is full again.
    expect(t.addHalfOpen(from(20, slow))).toBeUndefined();
    expect(t.addHalfOpen(from(21, slow))).toBeUndefined();
    // Now slow holds 2, flood 2: the tie goes to the remote seen first among those left (flood).
    expect(t.addHalfOpen(from(22, slow))?.bmcSessionId).toBe(11);
    t.clearAll();
    expect(t.halfOpenCount).toBe(0);
    for (let id = 30; id < 34; id++) t.addHalfOpen(from(id, flood));
    expect(t.addHalfOpen(from(40, slow))?.bmcSessionId).toBe(30);
  });

  it('bounds IPMI 1.5 challenges the same way', () => {
    const t = new SessionTable(limits);
    const user = { id: 2, name: 'admin', password: Buffer.from('password') };
    const challenge = (id: number, r: { address: string; port: number }) => ({ temporarySessionId: id, challenge: Buffer.alloc(16), authType: 2, user, remote: r, createdAt: 0 });
    t.addChallenge(challenge(1, slow));
    for (let id = 100; id < 200; id++) t.addChallenge(challenge(id, flood));
    expect(t.takeChallenge(1)?.remote).toEqual(slow);
    expect(t.takeChallenge(1)).toBeUndefined();
    expect(t.takeChallenge(100)).toBeUndefined();
    expect(t.takeChallenge(199)?.temporarySessionId).toBe(199);
  });
});

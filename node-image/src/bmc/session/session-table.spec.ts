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
  const limits = { maxSessions: 2, maxHalfOpen: 3, halfOpenTimeoutMs: 5_000, idleTimeoutMs: 60_000 };

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

import { randomBytes } from 'node:crypto';
import { FleetSessions, MAX_FLEET_SESSIONS } from './fleet-sessions';

/** Deterministic "randomness": counting bytes, so every id and token differs. */
function counter(): (bytes: number) => Buffer {
  let next = 0;
  return (bytes) => Buffer.from(Array.from({ length: bytes }, () => (next += 1) % 256));
}

const ALICE = { user: 'admin', password: 'node-pass-1' };

describe('FleetSessions', () => {
  it('finds a session by its token, slides its timeout, and ends it after the timeout without a request', () => {
    const sut = new FleetSessions(counter(), 1000);
    const session = sut.create(ALICE, '127.0.0.1', 0)!;
    expect(session.token).toMatch(/^[0-9a-f]{32}$/);
    expect(sut.authenticate(session.token, 900)?.credentials).toEqual(ALICE);
    expect(sut.authenticate(session.token, 1800)).toBeDefined();
    expect(sut.authenticate(session.token, 2800)).toBeUndefined();
    expect(sut.get(session.id, 2800)).toBeUndefined();
  });

  it('refuses a wrong or shorter token, lists sessions by user, and deletes', () => {
    const sut = new FleetSessions(counter());
    const a = sut.create(ALICE, '127.0.0.1', 0)!;
    sut.create({ user: 'root', password: 'x' }, '127.0.0.1', 0);
    expect(sut.authenticate(a.token.slice(1), 1)).toBeUndefined();
    expect(sut.authenticate(`${a.token.slice(0, -1)}${a.token.endsWith('0') ? '1' : '0'}`, 1)).toBeUndefined();
    expect(sut.ofUser('admin', 1).map((s) => s.id)).toEqual([a.id]);
    expect(sut.delete(a.id)).toBe(true);
    expect(sut.authenticate(a.token, 2)).toBeUndefined();
  });

  it('opens at most MAX_FLEET_SESSIONS at once', () => {
    const sut = new FleetSessions((bytes) => randomBytes(bytes));
    for (let i = 0; i < MAX_FLEET_SESSIONS; i += 1) expect(sut.create(ALICE, '127.0.0.1', 0)).toBeDefined();
    expect(sut.create(ALICE, '127.0.0.1', 0)).toBeUndefined();
  });
});

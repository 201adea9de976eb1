import { LOCKOUT_MS, LoginLimiter, MAX_FAILURES } from './login-limiter';

describe('LoginLimiter', () => {
  it('locks a user name from one address after MAX_FAILURES failures in a row, for LOCKOUT_MS', () => {
    const sut = new LoginLimiter();
    for (let i = 0; i < MAX_FAILURES - 1; i += 1) sut.failed('admin', '10.0.0.9', i);
    expect(sut.isLocked('admin', '10.0.0.9', 10)).toBe(false);
    sut.failed('admin', '10.0.0.9', 10);
    expect(sut.isLocked('admin', '10.0.0.9', 11)).toBe(true);
    expect(sut.lockedUntil('admin', '10.0.0.9', 11)).toBe(10 + LOCKOUT_MS);
    // Another address, or another user, is not locked out by it.
    expect(sut.isLocked('admin', '127.0.0.1', 11)).toBe(false);
    expect(sut.isLocked('root', '10.0.0.9', 11)).toBe(false);
    expect(sut.lockedUntil('admin', '127.0.0.1', 11)).toBe(0);
    expect(sut.isLocked('admin', '10.0.0.9', 10 + LOCKOUT_MS)).toBe(false);
    expect(sut.lockedUntil('admin', '10.0.0.9', 10 + LOCKOUT_MS)).toBe(0);
    // After the lockout one failure does not lock again at once.
    sut.failed('admin', '10.0.0.9', 20 + LOCKOUT_MS);
    expect(sut.isLocked('admin', '10.0.0.9', 21 + LOCKOUT_MS)).toBe(false);
  });

  it('forgets the failures of a pair that logs in', () => {
    const sut = new LoginLimiter();
    for (let i = 0; i < MAX_FAILURES - 1; i += 1) sut.failed('admin', '10.0.0.9', i);
    sut.succeeded('admin', '10.0.0.9');
    sut.failed('admin', '10.0.0.9', 100);
    expect(sut.isLocked('admin', '10.0.0.9', 101)).toBe(false);
  });
});

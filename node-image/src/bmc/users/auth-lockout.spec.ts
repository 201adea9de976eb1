import {
  AuthLockout, DEFAULT_LOCKOUT_POLICY, FAMILIAR_SOURCE_MS, GLOBAL_THRESHOLD_FACTOR, MAX_TRACKED_SOURCES,
  decodeBadPasswordThreshold, encodeBadPasswordThreshold,
} from './auth-lockout';

const A = '192.0.2.1';
const B = '192.0.2.2';

describe('AuthLockout per user and source address', () => {
  const locked = (sut: AuthLockout, id: number, source: string, now: number): boolean => !sut.checkLogin(id, source, now).allowed;

  it('locks until re-enabled when the lockout interval is 0, from that address only', () => {
    const sut = new AuthLockout({ threshold: 2, attemptWindowMs: 10_000, lockoutMs: 0 });
    expect(sut.recordFailure(7, A, 0).allowed).toBe(true);
    expect(sut.recordFailure(7, A, 1)).toEqual({ allowed: false, reason: 'source-locked', until: Infinity });
    expect(locked(sut, 7, A, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(locked(sut, 7, B, 5)).toBe(false);
    sut.recordSuccess(7, A, 5); // a success cannot end a lockout
    expect(locked(sut, 7, A, 5)).toBe(true);
    sut.clear(7);
    expect(locked(sut, 7, A, 5)).toBe(false);
  });

  it('counts failures forever when the reset interval is 0', () => {
    const sut = new AuthLockout({ threshold: 3, attemptWindowMs: 0, lockoutMs: 10_000 });
    sut.recordFailure(1, A, 0);
    sut.recordFailure(1, A, 1_000_000);
    expect(sut.recordFailure(1, A, 2_000_000).allowed).toBe(false);
    expect(locked(sut, 1, A, 2_009_999)).toBe(true);
    expect(locked(sut, 1, A, 2_010_000)).toBe(false);
  });

  it('starts counting afresh once a lockout has expired', () => {
    const sut = new AuthLockout(DEFAULT_LOCKOUT_POLICY);
    for (let i = 0; i < 5; i++) sut.recordFailure(2, A, 0);
    expect(locked(sut, 2, A, 30_000)).toBe(false);
    expect(sut.recordFailure(2, A, 30_000).allowed).toBe(true);
  });

  it('throttles unfamiliar addresses when failures of one user from many addresses reach the global threshold; familiar ones keep working', () => {
    const sut = new AuthLockout(DEFAULT_LOCKOUT_POLICY);
    const t0 = 1_000_000;
    sut.recordSuccess(2, A, t0); // the administrator's usual console
    const global = DEFAULT_LOCKOUT_POLICY.threshold * GLOBAL_THRESHOLD_FACTOR;
    // A guesser spread over addresses, each staying below the per-address threshold.
    for (let i = 0; i < global - 1; i++) sut.recordFailure(2, `198.51.100.${Math.floor(i / 4)}`, t0 + i);
    expect(locked(sut, 2, '203.0.113.9', t0 + global)).toBe(false);
    sut.recordFailure(2, '198.51.100.200', t0 + global);
    expect(sut.checkLogin(2, '203.0.113.9', t0 + global)).toEqual({ allowed: false, reason: 'user-throttled', until: t0 + global + 30_000 });
    expect(locked(sut, 2, A, t0 + global)).toBe(false);
    expect(locked(sut, 3, '203.0.113.9', t0 + global)).toBe(false);
    expect(locked(sut, 2, '203.0.113.9', t0 + global + 30_000)).toBe(false);
  });

  it('forgets a familiar address after a day', () => {
    const sut = new AuthLockout(DEFAULT_LOCKOUT_POLICY);
    sut.recordSuccess(2, A, 0);
    const t = FAMILIAR_SOURCE_MS;
    for (let i = 0; i < DEFAULT_LOCKOUT_POLICY.threshold * GLOBAL_THRESHOLD_FACTOR; i++) sut.recordFailure(2, `198.51.100.${i}`, t);
    expect(locked(sut, 2, A, t)).toBe(true);
  });

  it('keeps at most MAX_TRACKED_SOURCES entries, dropping stale ones first', () => {
    const sut = new AuthLockout({ threshold: 2, attemptWindowMs: 10_000, lockoutMs: 600_000 });
    sut.recordFailure(5, A, 0);
    sut.recordFailure(5, A, 0); // locked for 10 minutes
    for (let i = 0; i < MAX_TRACKED_SOURCES + 100; i++) sut.recordFailure(9, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 20_000 + i);
    expect(sut.trackedSources).toBeLessThanOrEqual(MAX_TRACKED_SOURCES);
    expect(locked(sut, 5, A, 200_000)).toBe(true);
  });

  it('does nothing with threshold 0', () => {
    const sut = new AuthLockout({ threshold: 0, attemptWindowMs: 0, lockoutMs: 0 });
    for (let i = 0; i < 100; i++) sut.recordFailure(2, `198.51.100.${i}`, i);
    expect(locked(sut, 2, '198.51.100.1', 100)).toBe(false);
  });

  it('refuses policies that LAN parameter 26 cannot express', () => {
    expect(() => new AuthLockout({ threshold: 256, attemptWindowMs: 0, lockoutMs: 0 })).toThrow();
    expect(() => new AuthLockout({ threshold: 1, attemptWindowMs: 15_000, lockoutMs: 0 })).toThrow();
    expect(() => new AuthLockout({ threshold: 1, attemptWindowMs: 0, lockoutMs: -10_000 })).toThrow();
  });
});

describe('LAN parameter 26 (bad password threshold)', () => {
  it('encodes the default policy: 5 failures, 60 s reset interval, 30 s lockout', () => {
    expect(encodeBadPasswordThreshold(DEFAULT_LOCKOUT_POLICY).toString('hex')).toBe('000506000300');
  });

  it('decodes what it encodes and refuses event generation, reserved bits or a wrong length', () => {
    expect(decodeBadPasswordThreshold(Buffer.from('000a2c010001', 'hex'))).toEqual({ threshold: 10, attemptWindowMs: 3_000_000, lockoutMs: 2_560_000 });
    expect(decodeBadPasswordThreshold(Buffer.from('010506000300', 'hex'))).toBeUndefined();
    expect(decodeBadPasswordThreshold(Buffer.from('800506000300', 'hex'))).toBeUndefined();
    expect(decodeBadPasswordThreshold(Buffer.from('0005060003', 'hex'))).toBeUndefined();
  });
});

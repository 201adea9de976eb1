import { AuthLockout, DEFAULT_LOCKOUT_POLICY, decodeBadPasswordThreshold, encodeBadPasswordThreshold } from './auth-lockout';

describe('AuthLockout', () => {
  it('locks until re-enabled when the lockout interval is 0', () => {
    const sut = new AuthLockout({ threshold: 2, attemptWindowMs: 10_000, lockoutMs: 0 });
    expect(sut.recordFailure(7, 0)).toBe(false);
    expect(sut.recordFailure(7, 1)).toBe(true);
    expect(sut.isLockedOut(7, Number.MAX_SAFE_INTEGER)).toBe(true);
    sut.recordSuccess(7, 5); // a success cannot end a lockout
    expect(sut.isLockedOut(7, 5)).toBe(true);
    sut.clear(7);
    expect(sut.isLockedOut(7, 5)).toBe(false);
  });

  it('counts failures forever when the reset interval is 0', () => {
    const sut = new AuthLockout({ threshold: 3, attemptWindowMs: 0, lockoutMs: 10_000 });
    sut.recordFailure(1, 0);
    sut.recordFailure(1, 1_000_000);
    expect(sut.recordFailure(1, 2_000_000)).toBe(true);
    expect(sut.isLockedOut(1, 2_009_999)).toBe(true);
    expect(sut.isLockedOut(1, 2_010_000)).toBe(false);
  });

  it('starts counting afresh once a lockout has expired', () => {
    const sut = new AuthLockout(DEFAULT_LOCKOUT_POLICY);
    for (let i = 0; i < 5; i++) sut.recordFailure(2, 0);
    expect(sut.isLockedOut(2, 30_000)).toBe(false);
    expect(sut.recordFailure(2, 30_000)).toBe(false);
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

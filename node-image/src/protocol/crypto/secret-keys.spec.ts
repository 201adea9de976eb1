import { createHmac } from 'node:crypto';
import { secretKey, sharedSecretKey, SHARED_KEYS_MAX } from './secret-keys';

describe('secretKey', () => {
  it('gives the KeyObject of the key bytes, made once per key', () => {
    const k = Buffer.from('000102030405060708090a0b0c0d0e0f1011121314', 'hex');
    const a = secretKey(k);
    expect(secretKey(k)).toBe(a);
    expect(a.export().equals(k)).toBe(true);
    expect(createHmac('sha1', a).update('x').digest()).toEqual(createHmac('sha1', k).update('x').digest());
  });

  it('takes the first bytes of a longer key (K2 of suite 17 for AES-128)', () => {
    const k2 = Buffer.alloc(32, 7);
    expect(secretKey(k2, 16).export()).toEqual(Buffer.alloc(16, 7));
    expect(secretKey(k2, 16)).toBe(secretKey(k2, 16));
  });

  it('notices a Buffer changed in place and makes a new KeyObject', () => {
    const k = Buffer.alloc(20, 1);
    const first = secretKey(k);
    k.fill(2);
    const second = secretKey(k);
    expect(second).not.toBe(first);
    expect(second.export()).toEqual(Buffer.alloc(20, 2));
  });

  it('accepts an empty key (a user without a password)', () => {
    expect(createHmac('sha1', secretKey(Buffer.alloc(0))).update('x').digest()).toEqual(createHmac('sha1', Buffer.alloc(0)).update('x').digest());
  });
});

describe('sharedSecretKey', () => {
  it('gives one KeyObject for every Buffer holding the same password', () => {
    const a = sharedSecretKey(Buffer.from('farm-secret'));
    expect(sharedSecretKey(Buffer.from('farm-secret'))).toBe(a);
    expect(a.export()).toEqual(Buffer.from('farm-secret'));
    expect(sharedSecretKey(Buffer.from('other'))).not.toBe(a);
  });

  it('keeps a copy: changing the Buffer afterwards does not change the key', () => {
    const b = Buffer.from('changeable');
    const k = sharedSecretKey(b);
    b.fill(0);
    expect(k.export()).toEqual(Buffer.from('changeable'));
    expect(sharedSecretKey(b)).not.toBe(k);
  });

  it('keeps at most SHARED_KEYS_MAX passwords, letting the oldest go', () => {
    const first = sharedSecretKey(Buffer.from('first-of-many'));
    for (let i = 0; i < SHARED_KEYS_MAX; i++) sharedSecretKey(Buffer.from(`password-${i}`));
    const again = sharedSecretKey(Buffer.from('first-of-many'));
    expect(again).not.toBe(first);
    expect(again.export()).toEqual(first.export());
  });
});

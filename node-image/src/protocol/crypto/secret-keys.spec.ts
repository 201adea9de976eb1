import { createHmac } from 'node:crypto';
import { secretKey } from './secret-keys';

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

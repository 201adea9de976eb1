import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FarmStateStore } from './farm-state-store';

describe('FarmStateStore', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'farm-state-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps each BMC its own documents', () => {
    const store = FarmStateStore.open(dir, 4);
    const a = store.forBmc(0);
    const b = store.forBmc(1);
    a.write('users', Buffer.from('alice'));
    expect(a.read('users')?.toString()).toBe('alice');
    expect(b.read('users')).toBeUndefined();
    b.write('users', Buffer.from('bob'));
    a.remove('users');
    expect(a.read('users')).toBeUndefined();
    expect(b.read('users')?.toString()).toBe('bob');
  });

  it('writes nothing until flushed, then only the shards that changed', async () => {
    const store = FarmStateStore.open(dir, 4);
    store.forBmc(1).write('guid', Buffer.from([1, 2, 3]));
    store.forBmc(9).write('guid', Buffer.from([9]));
    expect(readdirSync(dir)).toEqual([]);
    await store.flush();
    expect(readdirSync(dir).sort()).toEqual(['farm-state-00000.json', 'farm-state-00002.json']);
    rmSync(join(dir, 'farm-state-00002.json'));
    store.forBmc(2).write('sel', Buffer.from('x'));
    await store.flush();
    expect(readdirSync(dir).sort()).toEqual(['farm-state-00000.json']); // shard 2 unchanged: not rewritten
  });

  it('restores every BMC after a restart, binary documents intact', async () => {
    const store = FarmStateStore.open(dir, 3);
    for (let i = 0; i < 20; i++) store.forBmc(i).write('doc', Buffer.from([i, 0xff, 0x00, i]));
    store.forBmc(5).write('other', Buffer.from('{"a":1}\n'));
    await store.flush();
    const again = FarmStateStore.open(dir, 3);
    expect(again.bmcCount).toBe(20);
    for (let i = 0; i < 20; i++) expect([...again.forBmc(i).read('doc')!]).toEqual([i, 0xff, 0x00, i]);
    expect(again.documentsOf(5)).toEqual({ doc: `b${Buffer.from([5, 0xff, 0, 5]).toString('base64')}`, other: 'j{"a":1}' });
    expect(JSON.parse(again.forBmc(5).read('other')!.toString())).toEqual({ a: 1 });
  });

  it('does not mark a shard changed when a write changes nothing', async () => {
    const store = FarmStateStore.open(dir, 4);
    store.forBmc(0).write('a', Buffer.from('same'));
    await store.flush();
    rmSync(join(dir, 'farm-state-00000.json'));
    store.forBmc(0).write('a', Buffer.from('same'));
    store.forBmc(0).remove('missing');
    await store.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps JSON documents as compact JSON and everything else byte for byte', () => {
    const store = FarmStateStore.open(dir);
    store.forBmc(0).write('json', Buffer.from('{\n  "users": [1, 2]\n}\n'));
    store.forBmc(0).write('text', Buffer.from('-----BEGIN CERTIFICATE-----\nMII\n'));
    expect(store.forBmc(0).read('json')!.toString()).toBe('{"users":[1,2]}');
    expect(store.forBmc(0).read('text')!.toString()).toBe('-----BEGIN CERTIFICATE-----\nMII\n');
  });

  it('refuses a damaged or foreign state file, naming it', () => {
    writeFileSync(join(dir, 'farm-state-00000.json'), '{"version":1,"bmcs":');
    expect(() => FarmStateStore.open(dir)).toThrow(/farm-state-00000.json cannot be read/);
    writeFileSync(join(dir, 'farm-state-00000.json'), '{"version":7,"bmcs":{}}');
    expect(() => FarmStateStore.open(dir)).toThrow(/is not a version 1 or 2 farm state file/);
    writeFileSync(join(dir, 'farm-state-00000.json'), '{"version":2,"values":["ja"],"bmcs":{"0":{"x.json":3}}}');
    expect(() => FarmStateStore.open(dir)).toThrow(/BMC 0's x.json names no stored value/);
  });

  it('writes each distinct document of a shard once and reads it back for every BMC holding it', async () => {
    const store = FarmStateStore.open(dir, 4);
    const users = Buffer.from('{"users":["admin"]}');
    for (let i = 0; i < 4; i++) {
      store.forBmc(i).write('users.json', users);
      store.forBmc(i).write('identity.json', Buffer.from(`{"guid":${i}}`));
    }
    await store.flush();
    const file = JSON.parse(readFileSync(join(dir, 'farm-state-00000.json'), 'utf8')) as { version: number; values: string[] };
    expect(file.version).toBe(2);
    expect(file.values.filter((v) => v.includes('admin'))).toHaveLength(1);
    const again = FarmStateStore.open(dir, 4);
    for (let i = 0; i < 4; i++) {
      expect(again.forBmc(i).read('users.json')!.toString()).toBe('{"users":["admin"]}');
      expect(again.forBmc(i).read('identity.json')!.toString()).toBe(`{"guid":${i}}`);
    }
  });

  it('reads the version 1 layout (documents inline), as farms before version 2 wrote it', () => {
    writeFileSync(join(dir, 'farm-state-00000.json'), JSON.stringify({ version: 1, bmcs: { 3: { 'users.json': 'j{"a":1}' } } }));
    const store = FarmStateStore.open(dir);
    expect(store.forBmc(3).read('users.json')!.toString()).toBe('{"a":1}');
    expect(store.bmcCount).toBe(1);
  });
});

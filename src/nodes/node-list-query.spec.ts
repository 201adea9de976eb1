import { decodeCursor, DEFAULT_PAGE_LIMIT, encodeCursor, NAME_PREFIX_END, NodeListQueryError, pageOf, planNodeList } from './node-list-query';
import { NODE_NAME_PATTERN } from './node.model';

describe('planNodeList', () => {
  it('keeps the unpaginated list without limit and cursor, filters or not', () => {
    expect(planNodeList({})).toEqual({ paged: false, filters: {} });
    expect(planNodeList({ name: 'rack1-', machine: 'sim', powerState: 'on' })).toEqual({ paged: false, filters: { name: 'rack1-', machine: 'sim', powerState: 'on' } });
  });

  it('pages with a limit, from the first name', () => {
    expect(planNodeList({ limit: 50, machine: 'sim' })).toEqual({ paged: true, filters: { machine: 'sim' }, limit: 50, after: null });
  });

  it('continues after the cursor\'s name, with the default limit when none is given', () => {
    const cursor = encodeCursor('rack1-0099', { name: 'rack1-' });
    expect(planNodeList({ cursor, name: 'rack1-' })).toEqual({ paged: true, filters: { name: 'rack1-' }, limit: DEFAULT_PAGE_LIMIT, after: 'rack1-0099' });
  });

  it.each([0, 1001, 2.5])('refuses limit %p', (limit) => {
    expect(() => planNodeList({ limit })).toThrow(new NodeListQueryError('limit must be a whole number from 1 to 1000'));
  });

  it('refuses a cursor used with other filters, naming both', () => {
    const cursor = encodeCursor('n5', { machine: 'sim' });
    expect(() => planNodeList({ cursor, limit: 10, machine: 'qemu' })).toThrow('cursor was issued for machine=sim, not machine=qemu');
    expect(() => planNodeList({ cursor, limit: 10 })).toThrow('cursor was issued for machine=sim, not no filters');
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{{').toString('base64url')],
    ['another version', Buffer.from(JSON.stringify({ v: 2, after: 'a', f: {} })).toString('base64url')],
    ['an unknown filter', Buffer.from(JSON.stringify({ v: 1, after: 'a', f: { state: 'running' } })).toString('base64url')],
    ['a bad machine', Buffer.from(JSON.stringify({ v: 1, after: 'a', f: { machine: 'vmware' } })).toString('base64url')],
    ['no name', Buffer.from(JSON.stringify({ v: 1, f: {} })).toString('base64url')],
  ])('refuses a cursor that is %s', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow('cursor is not one this API issued');
  });
});

describe('pageOf', () => {
  const rows = ['a', 'b', 'c'].map((name) => ({ name }));

  it('gives a cursor after the last item when the extra row shows more follow', () => {
    const page = pageOf(rows, 2, { name: 'x' });
    expect(page.items).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(decodeCursor(page.nextCursor as string)).toEqual({ v: 1, after: 'b', f: { name: 'x' } });
  });

  it('ends with a null cursor', () => {
    expect(pageOf(rows, 3, {})).toEqual({ items: rows, nextCursor: null });
    expect(pageOf([], 3, {})).toEqual({ items: [], nextCursor: null });
  });
});

describe('NAME_PREFIX_END', () => {
  it('sorts after every character a node name may hold, as UTF-8 bytes (SQLite BINARY collation)', () => {
    const end = Buffer.from(NAME_PREFIX_END, 'utf8');
    for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-') {
      expect(Buffer.compare(Buffer.from(c), end)).toBe(-1);
    }
    expect(NODE_NAME_PATTERN.source).toContain('[a-z0-9-]');
  });
});

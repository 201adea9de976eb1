import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';
import { formatLinks, linkFromEndpoints, parseLinks } from './links';

function refusal(fn: () => unknown): ContainerlabError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ContainerlabError) return err;
    throw err;
  }
  throw new Error('expected a ContainerlabError');
}

describe('parseLinks', () => {
  it('reads links separated by ";", endpoints by ",", node and interface by ":"', () => {
    expect(parseLinks('node1:eth1,node2:eth1;node2:eth2,switch:e1-1')).toEqual([
      { endpoints: [{ node: 'node1', interface: 'eth1' }, { node: 'node2', interface: 'eth1' }] },
      { endpoints: [{ node: 'node2', interface: 'eth2' }, { node: 'switch', interface: 'e1-1' }] },
    ]);
  });

  it('ignores white space around parts and an empty trailing link', () => {
    expect(parseLinks(' node1 : eth1 , node2:eth1 ; ')).toEqual([
      { endpoints: [{ node: 'node1', interface: 'eth1' }, { node: 'node2', interface: 'eth1' }] },
    ]);
    expect(parseLinks('')).toEqual([]);
  });

  it('splits an endpoint at its first ":" as containerlab does', () => {
    expect(parseLinks('a:x:y,b:eth1')[0]!.endpoints[0]).toEqual({ node: 'a', interface: 'x:y' });
  });

  it.each([
    ['node1:eth1', /link 1 .*two endpoints separated by ","/],
    ['node1:eth1,node2:eth1,node3:eth1', /link 1 .*two endpoints/],
    ['node1:eth1,node2', /link 1 .*endpoint "node2" must be node:interface/],
    ['node1:eth1,:eth1', /endpoint ":eth1" must be node:interface/],
    ['a:eth1,b:eth1;node1:,node2:eth1', /link 2 .*endpoint "node1:" must be node:interface/],
  ])('refuses %j naming the link and the fix', (text, message) => {
    const err = refusal(() => parseLinks(text));
    expect(err.code).toBe(ContainerlabErrorCode.InvalidLink);
    expect(err.message).toMatch(message);
  });
});

describe('linkFromEndpoints', () => {
  it('reads the JSON body form', () => {
    expect(linkFromEndpoints(['node1:eth1', 'switch:eth3'], 'link 1')).toEqual({
      endpoints: [{ node: 'node1', interface: 'eth1' }, { node: 'switch', interface: 'eth3' }],
    });
  });

  it('refuses anything but two endpoints', () => {
    expect(refusal(() => linkFromEndpoints(['node1:eth1'], 'link 3')).message).toBe('link 3: a link has exactly 2 endpoints, got 1');
  });
});

describe('formatLinks', () => {
  it('writes what parseLinks reads', () => {
    const text = 'node1:eth1,node2:eth1;node2:eth2,switch:e1-1';
    expect(formatLinks(parseLinks(text))).toBe(text);
  });
});

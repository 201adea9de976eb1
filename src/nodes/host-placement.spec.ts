import type { RuntimeHost } from '../runtime/node-runtime';
import { HostPlacementError, namedHost, placeNode } from './host-placement';

const GIB = 1024 ** 3;
const host = (name: string, extra: Partial<RuntimeHost> = {}): RuntimeHost =>
  ({ name, id: `id-${name}`, address: null, accepting: true, memoryBytes: 8 * GIB, cpus: 4, kvm: false, ...extra });
const size = { memoryMiB: 1024, cpus: 2, diskSizeGiB: 10 };

describe('namedHost', () => {
  const hosts = [host('h1'), host('h2', { accepting: false })];

  it('finds a host by name or by the runtime\'s id of it', () => {
    expect(namedHost(hosts, 'h1').name).toBe('h1');
    expect(namedHost(hosts, 'id-h1').name).toBe('h1');
  });

  it('refuses an unknown host naming the field and the hosts, and a host that takes no nodes', () => {
    expect(() => namedHost(hosts, 'h9')).toThrow(new HostPlacementError('host must be one of the runtime\'s hosts: h1, h2 (takes no new nodes) (got "h9")', 'unknown-host'));
    expect(() => namedHost(hosts, 'h2')).toThrow('host h2 takes no new nodes (it is down, paused or draining); choose another of: h1');
    expect(() => namedHost([], 'h1')).toThrow('host must be one of the runtime\'s hosts: none (got "h1")');
  });
});

describe('placeNode', () => {
  it('takes the named host as it is', () => {
    const wanted = host('h2');
    expect(placeNode([host('h1'), wanted], new Map([['h2', 9]]), wanted, size, 100)).toBe(wanted);
  });

  it('spreads: the accepting host with the fewest nodes, ties by name', () => {
    const hosts = [host('h3'), host('h1'), host('h2')];
    expect(placeNode(hosts, new Map(), null, size, 100).name).toBe('h1');
    expect(placeNode(hosts, new Map([['h1', 2], ['h2', 1], ['h3', 1]]), null, size, 100).name).toBe('h2');
    expect(placeNode([host('h1', { accepting: false }), host('h2')], new Map([['h2', 5]]), null, size, 100).name).toBe('h2');
  });

  it('skips hosts too small for the node, and says so when none is left', () => {
    const hosts = [host('small', { memoryBytes: 1 * GIB }), host('big', { memoryBytes: 64 * GIB })];
    expect(placeNode(hosts, new Map([['big', 10]]), null, size, 100).name).toBe('big');
    expect(() => placeNode([host('small', { memoryBytes: 1 * GIB })], new Map(), null, size, 100)).toThrow(/no host takes a node of this size now \(hosts: small\)/);
  });
});

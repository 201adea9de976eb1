import type { NodeView } from '../nodes/node.model';
import { diffFleet, viewKey } from './fleet-message';

function view(name: string, powerState: NodeView['powerState'], observed = '2026-01-01T00:00:00.000Z'): NodeView {
  return { name, powerState, powerObservedAt: observed, updatedAt: observed, state: 'running' } as unknown as NodeView;
}

describe('diffFleet', () => {
  it('reports new, changed and removed nodes, and ignores a power check that found the same state', () => {
    const before = new Map([
      ['a', viewKey(view('a', 'off'))],
      ['b', viewKey(view('b', 'off'))],
      ['c', viewKey(view('c', 'on'))],
    ]);
    const sut = diffFleet(before, [view('a', 'off', '2026-01-01T00:00:09.000Z'), view('b', 'on'), view('d', 'off')]);
    expect(sut.changed.map((node) => node.name)).toEqual(['b', 'd']);
    expect(sut.removed).toEqual(['c']);
    expect([...sut.keys.keys()]).toEqual(['a', 'b', 'd']);
  });
});

import { ExportError, ExportErrorCode } from './export.error';
import { selectNodes, type SelectableNode } from './export-selection';

const fleet: SelectableNode[] = [
  { name: 'rack1-a', machine: 'sim', state: 'running' },
  { name: 'rack1-b', machine: 'qemu', state: 'running' },
  { name: 'rack1-c', machine: 'sim', state: 'creating' },
  { name: 'rack2-a', machine: 'sim', state: 'failed' },
  { name: 'rack2-b', machine: 'sim', state: 'deleting' },
];
const names = (nodes: readonly SelectableNode[]): string[] => nodes.map((node) => node.name);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ExportError ? error.code : 'not an ExportError';
  }
  return undefined;
}

describe('selectNodes', () => {
  it('exports every running or failed node, counting those being created or deleted', () => {
    const sut = selectNodes(fleet, {});
    expect(names(sut.nodes)).toEqual(['rack1-a', 'rack1-b', 'rack2-a']);
    expect(sut.notReady).toEqual(['rack1-c', 'rack2-b']);
  });

  it('combines a name prefix, a machine kind and a list of names', () => {
    expect(names(selectNodes(fleet, { prefix: 'rack1-' }).nodes)).toEqual(['rack1-a', 'rack1-b']);
    expect(names(selectNodes(fleet, { machine: 'sim' }).nodes)).toEqual(['rack1-a', 'rack2-a']);
    expect(names(selectNodes(fleet, { prefix: 'rack1-', machine: 'sim' }).nodes)).toEqual(['rack1-a']);
    expect(names(selectNodes(fleet, { names: ['rack2-a', 'rack1-b'] }).nodes)).toEqual(['rack1-b', 'rack2-a']);
    expect(names(selectNodes(fleet, { names: ['rack2-a', 'rack1-b'], machine: 'sim' }).nodes)).toEqual(['rack2-a']);
    expect(selectNodes(fleet, { prefix: 'rack9' }).nodes).toEqual([]);
  });

  it('refuses names the fleet does not have, naming them', () => {
    expect(codeOf(() => selectNodes(fleet, { names: ['rack1-a', 'ghost', 'ghost2'] }))).toBe(ExportErrorCode.UnknownNode);
    expect(() => selectNodes(fleet, { names: ['ghost'] })).toThrow(/ghost/);
  });

  it('refuses naming a node that is being created or deleted', () => {
    expect(codeOf(() => selectNodes(fleet, { names: ['rack1-a', 'rack2-b'] }))).toBe(ExportErrorCode.NodeNotReady);
    expect(() => selectNodes(fleet, { names: ['rack1-c'] })).toThrow(/rack1-c/);
  });
});

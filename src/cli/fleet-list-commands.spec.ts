/**
 * `nodes ls` filters and pages and `nodes create-batch`, through the whole command line (commander
 * parsing, option mapping, output, exit codes) against a strict FleetApi stub (an unstubbed call fails).
 */
import type { NodeView } from '../nodes/node.model';
import { FAILURE_EXIT_CODE, runCli, USAGE_EXIT_CODE } from './cli-program';
import { CreatedNodeBatch, CreateNodeBatchRequest, FleetApi, FleetApiError, NodeListQuery, NodePage } from './fleet-api';
import type { Terminal } from './terminal';

const unstubbed = (what: string) => async (): Promise<never> => { throw new Error(`unexpected call: ${what}`); };

class StubApi extends FleetApi {
  listNodes = jest.fn<Promise<NodeView[]>, [NodeListQuery?]>(unstubbed('listNodes'));
  listNodePage = jest.fn<Promise<NodePage>, [NodeListQuery]>(unstubbed('listNodePage'));
  createNodeBatch = jest.fn<Promise<CreatedNodeBatch>, [CreateNodeBatchRequest]>(unstubbed('createNodeBatch'));
  getNode = jest.fn(unstubbed('getNode'));
  createNode = jest.fn(unstubbed('createNode'));
  deleteNode = jest.fn(unstubbed('deleteNode'));
  power = jest.fn(unstubbed('power'));
  powerStatus = jest.fn(unstubbed('powerStatus'));
  topology = jest.fn(unstubbed('topology'));
  vnc = jest.fn(unstubbed('vnc'));
  screenshot = jest.fn(unstubbed('screenshot'));
  listFaults = jest.fn(unstubbed('listFaults'));
  addFaults = jest.fn(unstubbed('addFaults'));
  clearFaults = jest.fn(unstubbed('clearFaults'));
  export = jest.fn(unstubbed('export'));
}

function nodeView(name: string, powerState: NodeView['powerState'] = 'off'): NodeView {
  return {
    id: `id-${name}`, name, state: 'running', powerState, powerObservedAt: null, machine: 'sim', memoryMiB: 2048, cpus: 2, diskSizeGiB: 20, cdrom: null,
    bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'auto', powerOnAtStart: false, networks: [], labInterfaces: [],
    ipmi: { host: '127.0.0.1', port: 16230, user: 'admin' }, vnc: { host: '127.0.0.1', port: 15900, passwordAt: null }, redfish: { host: '127.0.0.1', port: 17000 }, bmcUsers: 'reset', bmcReachable: true, container: { name: `bmcfleet-${name}`, id: null }, host: null,
    lastError: null, createdAt: '2026-11-24T10:00:00.000Z', updatedAt: '2026-11-24T10:00:00.000Z',
  };
}

describe('bmcfleet nodes ls (filters, pages) and nodes create-batch', () => {
  let api: StubApi;
  let out: string;
  let err: string;

  beforeEach(() => {
    api = new StubApi();
    out = '';
    err = '';
  });

  const terminal = (): Terminal => ({
    isInteractive: false,
    stdout: { write: (d: string | Uint8Array) => { out += Buffer.from(d).toString('utf8'); return true; } },
    stderr: { write: (d: string | Uint8Array) => { err += Buffer.from(d).toString('utf8'); return true; } },
    onInput: () => () => {},
    enterRawMode: () => {},
    restoreMode: () => {},
    promptHidden: unstubbed('promptHidden'),
    onSignal: () => () => {},
  });
  const cli = (...argv: string[]): Promise<number> => runCli(argv, {
    env: {}, terminal: terminal(), api: () => api,
    openConsole: unstubbed('openConsole'), openSerialConsole: unstubbed('openSerialConsole'),
    writeFile: unstubbed('writeFile'), writeSecretFile: unstubbed('writeSecretFile'),
  });
  const names = (): string[] => out.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]!);

  it('filters without a page ask for the plain list with them (ls and its alias list)', async () => {
    api.listNodes.mockResolvedValue([nodeView('rack1-001', 'on')]);
    expect(await cli('nodes', 'ls', '--name', 'rack1-', '--machine', 'sim', '--power-state', 'on')).toBe(0);
    expect(await cli('nodes', 'list')).toBe(0);
    expect(api.listNodes.mock.calls).toEqual([[{ name: 'rack1-', machine: 'sim', powerState: 'on' }], [{}]]);
    expect(out).toContain('rack1-001  running  on');
  });

  it('--limit prints one page and the command for the next one on stderr; --cursor asks for that page', async () => {
    api.listNodePage.mockResolvedValueOnce({ items: [nodeView('n1'), nodeView('n2')], nextCursor: 'CUR2' }).mockResolvedValueOnce({ items: [nodeView('n3')], nextCursor: null });
    expect(await cli('nodes', 'ls', '--limit', '2', '--machine', 'sim')).toBe(0);
    expect(names()).toEqual(['n1', 'n2']);
    expect(err).toBe('more nodes: bmcfleet nodes ls --machine sim --limit 2 --cursor CUR2   (or --all for every page)\n');
    out = '';
    err = '';
    expect(await cli('nodes', 'ls', '--limit', '2', '--machine', 'sim', '--cursor', 'CUR2')).toBe(0);
    expect(names()).toEqual(['n3']);
    expect(err).toBe('');
    expect(api.listNodePage.mock.calls).toEqual([[{ machine: 'sim', limit: 2 }], [{ machine: 'sim', limit: 2, cursor: 'CUR2' }]]);
  });

  it('--limit --json prints the page as the API answers it: { items, nextCursor }', async () => {
    const page: NodePage = { items: [nodeView('n1')], nextCursor: 'C' };
    api.listNodePage.mockResolvedValue(page);
    expect(await cli('nodes', 'ls', '--limit', '1', '--json')).toBe(0);
    expect(JSON.parse(out)).toEqual(page);
  });

  it('--all follows nextCursor to the last page (pages of 1000 unless --limit) and prints one table', async () => {
    api.listNodePage
      .mockResolvedValueOnce({ items: [nodeView('n1'), nodeView('n2')], nextCursor: 'A' })
      .mockResolvedValueOnce({ items: [nodeView('n3'), nodeView('n4')], nextCursor: 'B' })
      .mockResolvedValueOnce({ items: [nodeView('n5')], nextCursor: null });
    expect(await cli('nodes', 'ls', '--all', '--power-state', 'off')).toBe(0);
    expect(names()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(api.listNodePage.mock.calls).toEqual([
      [{ powerState: 'off', limit: 1000 }], [{ powerState: 'off', limit: 1000, cursor: 'A' }], [{ powerState: 'off', limit: 1000, cursor: 'B' }],
    ]);
    api.listNodePage.mockReset();
    api.listNodePage.mockResolvedValueOnce({ items: [nodeView('n1')], nextCursor: null });
    out = '';
    expect(await cli('nodes', 'ls', '--all', '--limit', '50', '--json')).toBe(0);
    expect(JSON.parse(out)).toEqual([nodeView('n1')]);
    expect(api.listNodePage).toHaveBeenCalledWith({ limit: 50 });
  });

  it('--all stops with an error when the orchestrator repeats a cursor (no endless loop)', async () => {
    api.listNodePage.mockResolvedValue({ items: [nodeView('n1')], nextCursor: 'SAME' });
    expect(await cli('nodes', 'ls', '--all')).toBe(FAILURE_EXIT_CODE);
    expect(err).toContain('the orchestrator answered the same nextCursor twice');
    expect(api.listNodePage).toHaveBeenCalledTimes(2);
  });

  it('bad options exit 2 before any request: --limit out of range, an unknown power state or machine, empty --name', async () => {
    expect(await cli('nodes', 'ls', '--limit', '0')).toBe(USAGE_EXIT_CODE);
    expect(err).toContain('--limit must be 1..1000, got 0');
    expect(await cli('nodes', 'ls', '--limit', 'ten')).toBe(USAGE_EXIT_CODE);
    expect(await cli('nodes', 'ls', '--power-state', 'maybe')).toBe(USAGE_EXIT_CODE);
    expect(err).toContain("argument 'maybe' is invalid. Allowed choices are on, off, unknown");
    expect(await cli('nodes', 'ls', '--machine', 'vm')).toBe(USAGE_EXIT_CODE);
    expect(await cli('nodes', 'ls', '--name', '')).toBe(USAGE_EXIT_CODE);
    expect(api.listNodes).not.toHaveBeenCalled();
    expect(api.listNodePage).not.toHaveBeenCalled();
  });

  it('the API\'s 400 for a cursor issued for other filters is printed (exit 1)', async () => {
    api.listNodePage.mockRejectedValue(new FleetApiError(400, 'cursor was issued for machine=sim; ask again with the same filters or without a cursor'));
    expect(await cli('nodes', 'ls', '--cursor', 'X')).toBe(FAILURE_EXIT_CODE);
    expect(err).toContain('cursor was issued for machine=sim');
  });

  const batch: CreatedNodeBatch = {
    namePrefix: 'rack1', count: 2, machine: 'sim',
    nodes: [
      { id: 'a', name: 'rack1-1', ipmi: { host: '127.0.0.1', port: 16230, user: 'admin' }, redfish: { host: '127.0.0.1', port: 17000 } },
      { id: 'b', name: 'rack1-2', ipmi: { host: '127.0.0.1', port: 16231, user: 'admin' }, redfish: null },
    ],
    generatedIpmiPassword: 'Gen3rated-pw',
  };

  it('create-batch posts a sim batch and prints every node\'s addresses, then the generated password once', async () => {
    api.createNodeBatch.mockResolvedValue(batch);
    expect(await cli('nodes', 'create-batch', '--prefix', 'rack1', '--count', '2', '--first-index', '1', '--ipmi-user', 'admin', '--power-on')).toBe(0);
    expect(api.createNodeBatch).toHaveBeenCalledWith({ namePrefix: 'rack1', count: 2, machine: 'sim', firstIndex: 1, ipmiUser: 'admin', powerOnAtStart: true });
    expect(out).toBe(
      'NAME     IPMI             USER   REDFISH\n'
      + 'rack1-1  127.0.0.1:16230  admin  https://127.0.0.1:17000/redfish/v1\n'
      + 'rack1-2  127.0.0.1:16231  admin  -\n'
      + '2 sim nodes created (rack1)\n'
      + 'ipmi password: Gen3rated-pw (generated, the same for every node of the batch; shown only now)\n',
    );
    out = '';
    expect(await cli('nodes', 'create-batch', '--prefix', 'rack1', '--count', '2', '--ipmi-password', 'secret-pw', '--json')).toBe(0);
    expect(JSON.parse(out)).toEqual(batch);
    expect(api.createNodeBatch).toHaveBeenLastCalledWith({ namePrefix: 'rack1', count: 2, machine: 'sim', ipmiPassword: 'secret-pw' });
  });

  it('create-batch: missing or bad --prefix/--count exit 2 before any request; the API\'s 409 is printed (exit 1)', async () => {
    expect(await cli('nodes', 'create-batch', '--count', '2')).toBe(USAGE_EXIT_CODE);
    expect(err).toContain("required option '--prefix <prefix>' not specified");
    expect(await cli('nodes', 'create-batch', '--prefix', 'r', '--count', '0')).toBe(USAGE_EXIT_CODE);
    expect(err).toContain('--count must be');
    expect(api.createNodeBatch).not.toHaveBeenCalled();
    api.createNodeBatch.mockRejectedValue(new FleetApiError(409, 'names already taken: rack1-1'));
    expect(await cli('nodes', 'create-batch', '--prefix', 'rack1', '--count', '1')).toBe(FAILURE_EXIT_CODE);
    expect(err).toContain('names already taken: rack1-1');
  });
});

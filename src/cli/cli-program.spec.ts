/**
 * The whole command line (commander parsing, option mapping, output, exit codes) against a strict
 * FleetApi stub (an unstubbed call fails), a fake terminal and a fake SOL link.
 */
import type { SolConsoleEnd } from '../../node-image/src/client/sol-console';
import { ContainerlabError, ContainerlabErrorCode } from '../containerlab/containerlab.error';
import type { ExportQuery } from '../exports/export-client';
import type { ExportFormat } from '../exports/exports.paths';
import type { NodeView } from '../nodes/node.model';
import { CliDeps, FAILURE_EXIT_CODE, runCli, USAGE_EXIT_CODE } from './cli-program';
import type { Connection } from './cli-options';
import type { ConsoleLink, ConsoleTarget, SerialConsoleTarget } from './console-command';
import { CreatedNode, CreatedNodeBatch, CreateNodeBatchRequest, CreateNodeRequest, FleetApi, FleetApiError, NodeFaults, NodeListQuery, NodePage, OrchestratorUnreachableError, PowerResult, TopologyQuery, VncAccess } from './fleet-api';
import { PromptCancelledError, Terminal, TerminalSignal } from './terminal';

const unstubbed = (what: string) => async (): Promise<never> => { throw new Error(`unexpected call: ${what}`); };

class StubApi extends FleetApi {
  listNodes = jest.fn<Promise<NodeView[]>, [NodeListQuery?]>(unstubbed('listNodes'));
  listNodePage = jest.fn<Promise<NodePage>, [NodeListQuery]>(unstubbed('listNodePage'));
  createNodeBatch = jest.fn<Promise<CreatedNodeBatch>, [CreateNodeBatchRequest]>(unstubbed('createNodeBatch'));
  getNode = jest.fn<Promise<NodeView>, [string]>(unstubbed('getNode'));
  createNode = jest.fn<Promise<CreatedNode>, [CreateNodeRequest]>(unstubbed('createNode'));
  deleteNode = jest.fn<Promise<void>, [string, boolean]>(unstubbed('deleteNode'));
  power = jest.fn<Promise<PowerResult>, [string, string]>(unstubbed('power'));
  powerStatus = jest.fn<Promise<PowerResult>, [string]>(unstubbed('powerStatus'));
  topology = jest.fn<Promise<string>, [TopologyQuery]>(unstubbed('topology'));
  vnc = jest.fn<Promise<VncAccess>, [string]>(unstubbed('vnc'));
  screenshot = jest.fn<Promise<Buffer>, [string, number | undefined]>(unstubbed('screenshot'));
  listFaults = jest.fn<Promise<NodeFaults>, [string]>(unstubbed('listFaults'));
  addFaults = jest.fn<Promise<NodeFaults>, [string, readonly unknown[]]>(unstubbed('addFaults'));
  clearFaults = jest.fn<Promise<number>, [string, string | undefined]>(unstubbed('clearFaults'));
  export = jest.fn<Promise<string>, [ExportFormat, ExportQuery]>(unstubbed('export'));
}

class FakeTerminal implements Terminal {
  isInteractive = false;
  out = '';
  err = '';
  raw = false;
  rawEntered = 0;
  inputListeners = new Set<(chunk: Buffer | null) => void>();
  signalListeners = new Set<(s: TerminalSignal) => void>();
  promptAnswer: string | null = null;
  readonly stdout = { write: (d: string | Uint8Array): boolean => { this.out += Buffer.from(d).toString('latin1'); return true; } };
  readonly stderr = { write: (d: string | Uint8Array): boolean => { this.err += Buffer.from(d).toString('latin1'); return true; } };
  onInput(l: (chunk: Buffer | null) => void): () => void { this.inputListeners.add(l); return () => this.inputListeners.delete(l); }
  enterRawMode(): void { this.raw = true; this.rawEntered++; }
  restoreMode(): void { this.raw = false; }
  async promptHidden(): Promise<string> {
    if (this.promptAnswer === null) throw new PromptCancelledError();
    return this.promptAnswer;
  }
  onSignal(l: (s: TerminalSignal) => void): () => void { this.signalListeners.add(l); return () => this.signalListeners.delete(l); }
  type(text: string | null): void { for (const l of [...this.inputListeners]) l(text === null ? null : Buffer.from(text, 'latin1')); }
}

class FakeLink implements ConsoleLink {
  written = '';
  breaks = 0;
  closed = 0;
  breakWorks = true;
  private resolveEnded!: (e: SolConsoleEnd) => void;
  readonly ended = new Promise<SolConsoleEnd>((r) => { this.resolveEnded = r; });
  write(data: Buffer): boolean { this.written += data.toString('latin1'); return true; }
  sendBreak(): boolean { this.breaks++; return this.breakWorks; }
  async close(): Promise<SolConsoleEnd> { this.closed++; this.resolveEnded({ kind: 'closed' }); return this.ended; }
  endFromBmc(message: string): void { this.resolveEnded({ kind: 'deactivated', message }); }
}

function nodeView(name: string, overrides: Partial<NodeView> = {}): NodeView {
  return {
    id: `id-${name}`, name, state: 'running', powerState: 'off', powerObservedAt: null, machine: 'sim', memoryMiB: 2048, cpus: 2, diskSizeGiB: 20, cdrom: null,
    bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'auto', powerOnAtStart: false, networks: [], labInterfaces: [],
    ipmi: { host: '127.0.0.1', port: 16230, user: 'admin' }, vnc: { host: '127.0.0.1', port: 15900, passwordAt: null }, redfish: { host: '127.0.0.1', port: 17000 }, bmcUsers: 'reset', bmcReachable: true, container: { name: `bmcfleet-${name}`, id: null }, host: null,
    lastError: null, createdAt: '2026-11-24T10:00:00.000Z', updatedAt: '2026-11-24T10:00:00.000Z', ...overrides,
  };
}

describe('bmcfleet command line', () => {
  let api: StubApi;
  let terminal: FakeTerminal;
  let connections: Connection[];
  let targets: ConsoleTarget[];
  let wsTargets: SerialConsoleTarget[];
  let link: FakeLink;
  let files: Record<string, string | Buffer>;
  let secretFiles: Record<string, string>;
  let env: Record<string, string>;

  beforeEach(() => {
    api = new StubApi();
    terminal = new FakeTerminal();
    connections = [];
    targets = [];
    wsTargets = [];
    link = new FakeLink();
    files = {};
    secretFiles = {};
    env = {};
  });

  const deps = (): CliDeps => ({
    env,
    terminal,
    api: (c) => { connections.push(c); return api; },
    openConsole: async (t) => { targets.push(t); return link; },
    openSerialConsole: async (t) => { wsTargets.push(t); return link; },
    writeFile: async (path, data) => { files[path] = data; },
    writeSecretFile: async (path, data) => { secretFiles[path] = data; },
  });
  const cli = (...argv: string[]): Promise<number> => runCli(argv, deps());

  describe('nodes faults', () => {
    const busy = { match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } };
    const listed: NodeFaults = {
      name: 'node1',
      rules: [{ id: 'f1', ...busy, addedAt: '2026-12-07T19:00:00.000Z', matches: 2, applied: 2, status: 'exhausted' }],
      totals: { 'completion-code': 2 },
    };

    it('lists the rules as a table (NAME alone, or ls NAME); --json the API answer', async () => {
      api.listFaults.mockResolvedValue(listed);
      expect(await cli('nodes', 'faults', 'node1')).toBe(0);
      expect(terminal.out).toBe(
        'ID  STATUS     MATCHES  APPLIED  MATCH                     ACTION                     WHEN\n'
        + 'f1  exhausted  2        2        ipmi netFn=0x00 cmd=0x01  completion-code code=0xc0  maxTimes=2\n'
        + 'totals since the BMC started: completion-code=2\n',
      );
      terminal.out = '';
      expect(await cli('nodes', 'faults', 'ls', 'node1', '--json')).toBe(0);
      expect(JSON.parse(terminal.out)).toEqual(listed);
      expect(api.listFaults.mock.calls).toEqual([['node1'], ['node1']]);
    });

    it('add takes --rule JSON (repeatable) or builds one rule from flags', async () => {
      api.addFaults.mockImplementation(async (name, rules) => ({ name, rules: rules.map((_, i) => ({ ...listed.rules[0]!, id: `f${i + 1}` })) }));
      expect(await cli('nodes', 'faults', 'add', 'node1', '--rule', JSON.stringify(busy), '--rule', '{"match":{"protocol":"sol"},"action":{"kind":"sol-deactivate"}}')).toBe(0);
      expect(api.addFaults).toHaveBeenLastCalledWith('node1', [busy, { match: { protocol: 'sol' }, action: { kind: 'sol-deactivate' } }]);
      expect(terminal.out).toBe('fault rule f1 added to node1\nfault rule f2 added to node1\n');
      expect(await cli('nodes', 'faults', 'add', 'node1', '--protocol', 'ipmi', '--netfn', '0x00', '--cmd', '1', '--action', 'completion-code', '--code', '0xC0', '--max-times', '2')).toBe(0);
      expect(api.addFaults).toHaveBeenLastCalledWith('node1', [{ match: { protocol: 'ipmi', netFn: '0x00', cmd: 1 }, action: { kind: 'completion-code', code: '0xC0' }, when: { maxTimes: 2 } }]);
      expect(await cli('nodes', 'faults', 'add', 'node1', '--protocol', 'redfish', '--method', 'get', '--path', '/redfish/v1/Systems/*', '--action', 'http-status', '--status', '503', '--retry-after', '2')).toBe(0);
      expect(api.addFaults).toHaveBeenLastCalledWith('node1', [{ match: { protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/*' }, action: { kind: 'http-status', status: 503, retryAfter: 2 } }]);
    });

    it('refuses a malformed add before calling the API (exit 2), and prints the API\'s 400 (exit 1)', async () => {
      expect(await cli('nodes', 'faults', 'add', 'node1', '--rule', '{nope')).toBe(USAGE_EXIT_CODE);
      expect(terminal.err).toBe('bmcfleet: error: --rule is not JSON: {nope\n');
      expect(await cli('nodes', 'faults', 'add', 'node1', '--protocol', 'ipmi')).toBe(USAGE_EXIT_CODE);
      expect(await cli('nodes', 'faults', 'add', 'node1', '--rule', '{}', '--protocol', 'ipmi')).toBe(USAGE_EXIT_CODE);
      expect(await cli('nodes', 'faults', 'add', 'node1', '--protocol', 'ipmi', '--action', 'delay', '--ms', 'soon')).toBe(USAGE_EXIT_CODE);
      expect(api.addFaults).not.toHaveBeenCalled();
      api.addFaults.mockRejectedValue(new FleetApiError(400, 'match.netFn must be an integer from 0 to 63'));
      terminal.err = '';
      expect(await cli('nodes', 'faults', 'add', 'node1', '--protocol', 'ipmi', '--netfn', '99', '--action', 'drop')).toBe(1);
      expect(terminal.err).toBe('bmcfleet: error: match.netFn must be an integer from 0 to 63\n');
    });

    it('clear removes one rule or all', async () => {
      api.clearFaults.mockResolvedValueOnce(1).mockResolvedValueOnce(3);
      expect(await cli('nodes', 'faults', 'clear', 'node1', 'f1')).toBe(0);
      expect(await cli('nodes', 'faults', 'clear', 'node1')).toBe(0);
      expect(api.clearFaults.mock.calls).toEqual([['node1', 'f1'], ['node1', undefined]]);
      expect(terminal.out).toBe('fault rule f1 removed from node1\n3 fault rules removed from node1\n');
    });
  });

  it('nodes ls prints the table; --json the API answer', async () => {
    api.listNodes.mockResolvedValue([nodeView('node1')]);
    expect(await cli('nodes', 'ls')).toBe(0);
    expect(terminal.out).toBe('NAME   STATE    POWER  IPMI             VNC              REDFISH          MACHINE  HOST\nnode1  running  off    127.0.0.1:16230  127.0.0.1:15900  127.0.0.1:17000  sim      -\n');
    terminal.out = '';
    expect(await cli('nodes', 'ls', '--json')).toBe(0);
    expect(JSON.parse(terminal.out)).toEqual([nodeView('node1')]);
  });

  it('--url and --token go before the command; the environment fills in otherwise', async () => {
    api.listNodes.mockResolvedValue([]);
    env.BMCFLEET_URL = 'http://env:1';
    env.BMCFLEET_API_TOKEN = 'env-token';
    await cli('nodes', 'ls');
    await cli('--url', 'http://flag:2', '--token', 'flag-token', 'nodes', 'ls');
    expect(connections).toEqual([{ url: 'http://env:1', token: 'env-token' }, { url: 'http://flag:2', token: 'flag-token' }]);
  });

  it('nodes create maps its options into the create body and prints a generated password once', async () => {
    api.createNode.mockImplementation(async (r) => ({ ...nodeView(r.name), generatedIpmiPassword: 'Gen3ratedPassw0rd' }));
    const code = await cli('nodes', 'create', 'node7', '--memory', '1024', '--cpus', '1', '--disk', '8', '--cdrom', 'iso/t.iso', '--boot-mode', 'uefi',
      '--machine', 'sim', '--network', 'lan-a', '--network', 'lan-b', '--lab-interface', 'eth3', '--ipmi-user', 'root', '--power-on', '--enable-kvm', 'false');
    expect(code).toBe(0);
    expect(api.createNode).toHaveBeenCalledWith({
      name: 'node7', memoryMiB: 1024, cpus: 1, diskSizeGiB: 8, cdrom: 'iso/t.iso', bootMode: 'uefi', machine: 'sim',
      networks: ['lan-a', 'lan-b'], labInterfaces: ['eth3'], ipmiUser: 'root', powerOnAtStart: true, enableKvm: 'false',
    });
    expect(terminal.out).toContain('name:           node7\n');
    expect(terminal.out).toContain('ipmi password: Gen3ratedPassw0rd (generated; shown only now)\n');
  });

  it('refuses a bad create option before calling the API (exit 2)', async () => {
    expect(await cli('nodes', 'create', 'node7', '--cpus', 'many')).toBe(USAGE_EXIT_CODE);
    expect(terminal.err).toBe('bmcfleet: error: --cpus must be a whole number, got "many"\n');
    expect(await cli('nodes', 'create', 'node7', '--boot-mode', 'efi')).toBe(USAGE_EXIT_CODE);
    expect(terminal.err).toContain("argument 'efi' is invalid. Allowed choices are bios, uefi.");
    expect(await cli('nodes', 'create')).toBe(USAGE_EXIT_CODE);
    expect(await cli('nodes', 'frobnicate')).toBe(USAGE_EXIT_CODE);
    expect(api.createNode).not.toHaveBeenCalled();
  });

  it('nodes rm deletes, with --purge when asked', async () => {
    api.deleteNode.mockResolvedValue();
    expect(await cli('nodes', 'rm', 'node1')).toBe(0);
    expect(await cli('nodes', 'rm', 'node1', '--purge')).toBe(0);
    expect(api.deleteNode.mock.calls).toEqual([['node1', false], ['node1', true]]);
    expect(terminal.out).toBe('node node1 removed\nnode node1 removed, disk deleted\n');
  });

  it('nodes power runs an action or reads the status', async () => {
    api.power.mockResolvedValue({ name: 'node1', action: 'cycle', powerState: 'on' });
    api.powerStatus.mockResolvedValue({ name: 'node1', powerState: 'off' });
    expect(await cli('nodes', 'power', 'node1', 'cycle')).toBe(0);
    expect(await cli('nodes', 'power', 'node1', 'status')).toBe(0);
    expect(api.power).toHaveBeenCalledWith('node1', 'cycle');
    expect(terminal.out).toBe('node1: power cycle done, power is on\nnode1: power is off\n');
    expect(await cli('nodes', 'power', 'node1', 'diag')).toBe(USAGE_EXIT_CODE);
  });

  it('nodes vnc prints the console address and its password, or says there is none yet', async () => {
    api.vnc.mockResolvedValueOnce({ name: 'node1', host: '127.0.0.1', port: 15900, password: 'Xy7kPq2m' });
    expect(await cli('nodes', 'vnc', 'node1')).toBe(0);
    expect(api.vnc).toHaveBeenCalledWith('node1');
    expect(terminal.out).toBe('vnc://127.0.0.1:15900\npassword: Xy7kPq2m\n');
    api.vnc.mockResolvedValueOnce({ name: 'old', host: '127.0.0.1', port: 15901, password: null });
    terminal.out = '';
    expect(await cli('nodes', 'vnc', 'old')).toBe(0);
    expect(terminal.out).toMatch(/^vnc:\/\/127\.0\.0\.1:15901\npassword: none yet/);
  });

  it('nodes create --keep-bmc-users asks the orchestrator to keep a kept disk\'s BMC users', async () => {
    api.createNode.mockResolvedValue(nodeView('node1'));
    expect(await cli('nodes', 'create', 'node1', '--keep-bmc-users', '--json')).toBe(0);
    expect(api.createNode).toHaveBeenCalledWith({ name: 'node1', keepBmcUsers: true });
  });

  it('prints the API message of an HTTP error and exits 1; likewise when the orchestrator is not running', async () => {
    api.getNode.mockRejectedValue(new FleetApiError(404, 'node ghost does not exist (HTTP 404 Not Found)'));
    expect(await cli('nodes', 'show', 'ghost')).toBe(FAILURE_EXIT_CODE);
    expect(terminal.err).toBe('bmcfleet: error: node ghost does not exist (HTTP 404 Not Found)\n');
    api.listNodes.mockRejectedValue(new OrchestratorUnreachableError('the orchestrator is not running at http://127.0.0.1:8080 (connection refused)'));
    expect(await cli('nodes', 'ls')).toBe(FAILURE_EXIT_CODE);
    expect(terminal.err).toContain('bmcfleet: error: the orchestrator is not running at http://127.0.0.1:8080');
  });

  it('containerlab topology passes the query through and prints or writes the YAML', async () => {
    api.topology.mockResolvedValue('name: lab\n');
    expect(await cli('containerlab', 'topology', '--nodes', 'a,b', '--mode', 'ext-container', '--links', 'a:eth1,b:eth1')).toBe(0);
    expect(api.topology).toHaveBeenCalledWith({ nodes: ['a', 'b'], mode: 'ext-container', links: 'a:eth1,b:eth1' });
    expect(terminal.out).toBe('name: lab\n');
    expect(await cli('containerlab', 'topology', '-o', 'lab.clab.yml')).toBe(0);
    expect(files).toEqual({ 'lab.clab.yml': 'name: lab\n' });
    expect(terminal.err).toBe('topology written to lab.clab.yml\n');
    expect(await cli('containerlab', 'topology', '--mode', 'bridge')).toBe(USAGE_EXIT_CODE);
    api.topology.mockRejectedValue(new ContainerlabError(ContainerlabErrorCode.InvalidLink, 'link 1: a link is two endpoints separated by ","'));
    terminal.err = '';
    expect(await cli('containerlab', 'topology', '--links', 'a:eth1')).toBe(USAGE_EXIT_CODE);
    expect(terminal.err).toBe('bmcfleet: error: link 1: a link is two endpoints separated by ","\n');
  });

  describe('nodes console (the orchestrator\'s serial console WebSocket)', () => {
    it('opens the node\'s console with the orchestrator URL and token, passes keystrokes, says ~B has no break there, quits on ~.', async () => {
      const running = cli('--url', 'http://fleet:8080', '--token', 't0k', 'nodes', 'console', 'node1');
      for (let i = 0; i < 100 && terminal.inputListeners.size === 0; i++) await new Promise((r) => setImmediate(r));
      expect(wsTargets).toEqual([expect.objectContaining({ url: 'http://fleet:8080', token: 't0k', name: 'node1' })]);
      wsTargets[0]!.onData(Buffer.from('# '));
      expect(terminal.out).toBe('# ');
      link.breakWorks = false;
      terminal.type('ls\r~B~.');
      expect(await running).toBe(0);
      expect(link.written).toBe('ls\r');
      expect(terminal.err).toContain('[no serial break on this console: use --sol for one]');
      expect(targets).toEqual([]);
    });

    it('exits 1 with the close reason when the orchestrator ends it (e.g. the node was deleted)', async () => {
      const running = cli('nodes', 'console', 'node1');
      for (let i = 0; i < 100 && terminal.inputListeners.size === 0; i++) await new Promise((r) => setImmediate(r));
      link.endFromBmc('node node1 was deleted (close code 4410)');
      expect(await running).toBe(FAILURE_EXIT_CODE);
      expect(terminal.err).toContain('[console of node1 ended: node node1 was deleted (close code 4410)]');
    });
  });

  describe('nodes screenshot', () => {
    it('writes the PNG to -o, passing --width; refuses a bad width before any request', async () => {
      api.screenshot.mockResolvedValue(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      expect(await cli('nodes', 'screenshot', 'node1', '-o', 'shot.png', '--width', '320')).toBe(0);
      expect(api.screenshot).toHaveBeenCalledWith('node1', 320);
      expect(files['shot.png']).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      expect(await cli('nodes', 'screenshot', 'node1', '-o', 'x.png', '--width', '9')).toBe(USAGE_EXIT_CODE);
      expect(terminal.err).toContain('--width must be an integer from 16 to 4096');
      expect(api.screenshot).toHaveBeenCalledTimes(1);
    });
  });

  describe('nodes console --sol', () => {
    beforeEach(() => {
      api.getNode.mockResolvedValue(nodeView('node1', { ipmi: { host: '127.0.0.1', port: 16240, user: 'root' } }));
    });

    /** Starts the console and waits until it listens for keystrokes (wrapped: an async function would flatten the promise). */
    const start = async (...extra: string[]): Promise<{ running: Promise<number> }> => {
      const running = cli('nodes', 'console', 'node1', '--sol', ...extra);
      for (let i = 0; i < 100 && terminal.inputListeners.size === 0; i++) await new Promise((r) => setImmediate(r));
      expect(terminal.inputListeners.size).toBe(1);
      return { running };
    };

    it('connects to the leased IPMI port with the user from the API, passes keystrokes and ~B, quits on ~. and restores the terminal', async () => {
      const { running } = await start('--password', 'pw-flag');
      expect(targets).toEqual([expect.objectContaining({ host: '127.0.0.1', port: 16240, user: 'root', password: 'pw-flag' })]);
      expect(terminal.raw).toBe(true);
      targets[0]!.onData(Buffer.from('login: '));
      expect(terminal.out).toBe('login: ');
      terminal.type('root\r');
      terminal.type('~B');
      terminal.type('~?');
      terminal.type('~.');
      expect(await running).toBe(0);
      expect(link.written).toBe('root\r');
      expect(link.breaks).toBe(1);
      expect(link.closed).toBe(1);
      expect(terminal.raw).toBe(false);
      expect(terminal.inputListeners.size).toBe(0);
      expect(terminal.signalListeners.size).toBe(0);
      expect(terminal.err).toContain('~.  end the console');
      expect(terminal.err).toContain('[console of node1 closed]');
    });

    it('takes the password from BMCFLEET_IPMI_PASSWORD, then from the prompt on a terminal', async () => {
      env.BMCFLEET_IPMI_PASSWORD = 'pw-env';
      let { running } = await start();
      terminal.type(null); // end of input closes the console
      expect(await running).toBe(0);
      delete env.BMCFLEET_IPMI_PASSWORD;
      terminal.isInteractive = true;
      terminal.promptAnswer = 'pw-typed';
      link = new FakeLink();
      ({ running } = await start());
      terminal.type('~.');
      expect(await running).toBe(0);
      expect(targets.map((t) => t.password)).toEqual(['pw-env', 'pw-typed']);
    });

    it('without a password and no terminal to ask on, says how to give it (exit 2) and opens nothing', async () => {
      expect(await cli('nodes', 'console', 'node1', '--sol')).toBe(USAGE_EXIT_CODE);
      expect(terminal.err).toContain('give --password or set BMCFLEET_IPMI_PASSWORD');
      expect(targets).toEqual([]);
      expect(terminal.rawEntered).toBe(0);
    });

    it('exits 1 with the reason when the BMC ends SOL, and with 128+n on a signal', async () => {
      env.BMCFLEET_IPMI_PASSWORD = 'pw';
      let { running } = await start();
      link.endFromBmc('the BMC deactivated SOL');
      expect(await running).toBe(FAILURE_EXIT_CODE);
      expect(terminal.err).toContain('[console of node1 ended: the BMC deactivated SOL]');
      expect(terminal.raw).toBe(false);
      link = new FakeLink();
      ({ running } = await start());
      for (const l of [...terminal.signalListeners]) l('SIGTERM');
      expect(await running).toBe(143);
      expect(link.closed).toBe(1);
    });
  });
  it('export metal3 prints the YAML as the API answers it, with the options as its query', async () => {
    api.export.mockResolvedValue('---\napiVersion: v1\n');
    expect(await cli('export', 'metal3', '--driver', 'redfish-virtualmedia', '--name', 'rack1-', '--namespace', 'metal3', '--online', '--host', '192.0.2.10')).toBe(0);
    expect(api.export).toHaveBeenCalledWith('metal3', { driver: 'redfish-virtualmedia', name: 'rack1-', namespace: 'metal3', online: true, host: '192.0.2.10' });
    expect(terminal.out).toBe('---\napiVersion: v1\n');
  });

  it('export ironic|maas indents the JSON; -o writes an owner-only file instead of stdout', async () => {
    api.export.mockResolvedValue('{"nodes":[{"name":"n1"}]}');
    expect(await cli('export', 'ironic', '--names', 'n1, n2', '--machine', 'sim', '-o', 'nodes.json')).toBe(0);
    expect(api.export).toHaveBeenCalledWith('ironic', { names: ['n1', 'n2'], machine: 'sim' });
    expect(secretFiles['nodes.json']).toBe('{\n  "nodes": [\n    {\n      "name": "n1"\n    }\n  ]\n}\n');
    expect(files).toEqual({});
    expect(terminal.out).toBe('');
    expect(terminal.err).toBe('ironic export written to nodes.json\n');
  });

  it('export refuses an unknown format or driver and an empty --names before any request', async () => {
    expect(await cli('export', 'tinkerbell')).toBe(USAGE_EXIT_CODE);
    expect(await cli('export', 'maas', '--driver', 'snmp')).toBe(USAGE_EXIT_CODE);
    expect(await cli('export', 'maas', '--names', ',')).toBe(USAGE_EXIT_CODE);
    expect(terminal.err).toMatch(/--names needs at least one node name/);
    expect(api.export).not.toHaveBeenCalled();
  });

  it('export passes the orchestrator\'s refusal through with exit 1', async () => {
    api.export.mockRejectedValue(new FleetApiError(409, 'MAAS needs a MAC address per machine ...: vm1 (HTTP 409 Conflict)'));
    expect(await cli('export', 'maas')).toBe(FAILURE_EXIT_CODE);
    expect(terminal.err).toMatch(/vm1 \(HTTP 409 Conflict\)/);
  });
});

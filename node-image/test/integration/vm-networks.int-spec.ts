/**
 * VM_NETWORKS against the real kernel, in network namespaces this test creates (each stands for a
 * node container); root and iproute2 needed, no Docker.
 *
 * 1. The adapter (node-image/dist/machine/vm-networks.js) runs inside a namespace through
 *    `ip netns exec`: an interface with an address is bridged (bridge, tap, no address left, the MAC
 *    from node and interface), one plugged while power-on waits is taken too, a second run changes
 *    nothing; an interface plugged after power-on is handed to the hot-add callback.
 * 2. With QEMU and the test guest (scripts/build-test-guest.sh): two agents (MACHINE=qemu, TCG), one
 *    per namespace, VM_NETWORKS=eth1,eth2, driven with ipmitool on each namespace's loopback. eth1 is
 *    a veth pair joining the namespaces before power-on; eth2 is plugged while the guests run and is
 *    hot-plugged into both VMs. The guests (configured over SOL) ping each other over both.
 *
 * Every namespace, interface and process is removed in afterAll, also after a failure; every wait is
 * bounded (no duration is asserted). About 1 to 2 minutes under TCG, most of it the two guests booting.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachProblems, networkNames, parseIpLinks, vmNicMac } from '../../src/machine/vm-networks';
import { AGENT_MAIN } from '../support/agent-process';
import { sleep, TerminalSession } from '../support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs, run, type RunResult } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const DIST_VM_NETWORKS = join(__dirname, '..', '..', 'dist', 'machine', 'vm-networks.js');
const GUEST_DIR = join(REPO_ROOT, '.cache', 'test-guest');
const BUILD_TIMEOUT_MS = 180_000;
/** Namespace names of this run (pid: two runs on one machine do not meet). */
const RUN = `bmcfvn${process.pid}`;
const IPMI_PORT = 623;
/** Generous bounds: two TCG guests boot side by side on a busy machine. */
const BOOT_MS = 150_000;
const STEP_MS = 30_000;

jest.setTimeout(60_000);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** Root is needed for namespaces: skipped loudly without it, failing under CI=true (CI runs as root). */
const describeAsRoot = ((): jest.Describe => {
  if (isRoot) return describeWithTools(['ip']);
  const msg = 'NOT ROOT: the VM_NETWORKS integration tests (network namespaces) are SKIPPED';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
})();

function ok(r: RunResult, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const ip = (...args: string[]): string => ok(run('ip', args, { timeoutMs: 10_000 }), `ip ${args.join(' ')}`);

/** Namespaces (and processes inside them) created by this file; removed in afterAll. */
const namespaces = new Set<string>();
const processes = new Set<ChildProcess>();
const terminals = new Set<TerminalSession>();

function addNamespace(suffix: string): string {
  const ns = `${RUN}-${suffix}`;
  namespaces.add(ns);
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  return ns;
}

function linksIn(ns: string) {
  return parseIpLinks(ip('-n', ns, '-d', '-j', 'link', 'show'), ip('-n', ns, '-j', 'addr', 'show'));
}

/** A process inside `ns` with its output collected; lines can be awaited. */
class NsProcess {
  private out = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(ns: string, argv: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.add(this.child);
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => { processes.delete(this.child); resolve(code); }));
  }

  output(): string { return this.out; }

  /** JSON lines printed so far (the agent's log, the adapter script's reports). */
  lines(): Array<Record<string, unknown>> {
    return this.out.split('\n').flatMap((l) => {
      try {
        const v: unknown = JSON.parse(l);
        return typeof v === 'object' && v !== null ? [v as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  async waitForLine(pred: (l: Record<string, unknown>) => boolean, what: string, ms = STEP_MS): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > end || this.child.exitCode !== null) throw new Error(`${what} did not come within ${ms} ms; output:\n${this.out}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Kills what still runs in our namespaces (QEMU of an agent that did not stop), then removes them. */
async function cleanUp(): Promise<void> {
  await Promise.all([...terminals].map((t) => t.kill()));
  terminals.clear();
  for (const child of processes) child.kill('SIGKILL');
  for (const ns of namespaces) {
    const pids = run('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 }).stdout.split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  // Bounded wait for the processes to be gone before their namespaces are.
  for (let i = 0; i < 50 && [...namespaces].some((ns) => run('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 }).stdout.trim() !== ''); i++) await sleep(100);
  for (const ns of namespaces) run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
  namespaces.clear();
}

/**
 * The adapter inside a namespace, as the agent uses it: prepare() (the power-on), then watch() for
 * `watchMs` with a hot-add that reports the NIC. Prints one JSON line per step; logs go to stderr.
 */
const ADAPTER_SCRIPT = String.raw`
const { VmNetworks } = require(process.env.VMNET_MODULE);
const opts = JSON.parse(process.env.VMNET_OPTS);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const log = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (msg, fields) => say({ level, msg, ...fields })]));
const nets = new VmNetworks({ interfaces: opts.interfaces, nodeName: opts.nodeName, waitMs: opts.waitMs, log, timing: { watchPollMs: 200, settleMs: 1000 } });
(async () => {
  const nics = await nets.prepare();
  say({ event: 'prepared', nics });
  if (!opts.watchMs) return;
  const stop = nets.watch(nics, async (nic) => say({ event: 'hot-add', nic }));
  setTimeout(() => { stop(); say({ event: 'done' }); }, opts.watchMs);
})().catch((err) => { say({ event: 'failed', message: err.message }); process.exitCode = 1; });
`;

function runAdapter(ns: string, opts: { interfaces: string[]; nodeName: string; waitMs: number; watchMs?: number }): NsProcess {
  return new NsProcess(ns, [process.execPath, '-e', ADAPTER_SCRIPT], {
    PATH: process.env.PATH ?? '',
    VMNET_MODULE: DIST_VM_NETWORKS,
    VMNET_OPTS: JSON.stringify(opts),
  });
}

function ensureBuilt(): void {
  if (!existsSync(AGENT_MAIN) || !existsSync(DIST_VM_NETWORKS)) {
    execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
  }
}

afterAll(cleanUp, 60_000);

describeAsRoot('VM_NETWORKS: bridging in a network namespace', () => {
  beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

  it('bridges a present interface (its address removed) and one plugged while power-on waits; a second run changes nothing', async () => {
    const ns = addNamespace('a');
    // eth1: Docker's way, an address first, then up; its peer stays in a second namespace.
    const peer = addNamespace('a-peer');
    ip('link', 'add', 'name', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', peer);
    ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'eth1');
    ip('-n', ns, 'link', 'set', 'eth1', 'mtu', '9000', 'up');

    const first = runAdapter(ns, { interfaces: ['eth1', 'eth2'], nodeName: 'node-a', waitMs: 60_000 });
    await first.waitForLine((l) => l['msg'] === 'power-on waits for VM_NETWORKS interfaces', 'the wait for eth2');
    // eth2 arrives later (containerlab's way: created in the namespace, then brought up).
    ip('link', 'add', 'name', 'eth2', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth2', 'netns', peer);
    ip('-n', ns, 'link', 'set', 'eth2', 'up');
    const prepared = await first.waitForLine((l) => l['event'] === 'prepared' || l['event'] === 'failed', 'prepare()');
    expect(prepared).toEqual({
      event: 'prepared',
      nics: [
        { id: 'net0', tapName: 'tap-eth1', mac: vmNicMac('node-a', 'eth1') },
        { id: 'net1', tapName: 'tap-eth2', mac: vmNicMac('node-a', 'eth2') },
      ],
    });
    expect(await first.exited).toBe(0);
    expect(first.lines().find((l) => l['msg'] === 'VM_NETWORKS interface bridged into the VM' && l['interface'] === 'eth1')).toMatchObject({
      bridge: 'br-eth1', tap: 'tap-eth1', mac: vmNicMac('node-a', 'eth1'), removedAddresses: expect.arrayContaining(['10.99.0.1/24']),
    });
    expect(first.lines().filter((l) => l['level'] === 'warn' || l['level'] === 'error')).toEqual([]);

    const links = linksIn(ns);
    for (const name of ['eth1', 'eth2']) {
      const names = networkNames(name);
      expect(attachProblems(names, links)).toEqual([]);
      expect(links.get(names.bridge)).toMatchObject({ kind: 'bridge', up: true, addresses: [] });
      expect(links.get(names.tap)).toMatchObject({ kind: 'tun', tunType: 'tap', up: true, master: names.bridge, addresses: [] });
      expect(links.get(name)).toMatchObject({ up: true, master: names.bridge, addresses: [] });
    }
    // The tap follows the interface's MTU, so the bridge keeps it.
    expect(links.get('tap-eth1')?.mtu).toBe(9000);
    expect(links.get('br-eth1')?.mtu).toBe(9000);

    // A power cycle: the same NICs, nothing to change.
    const second = runAdapter(ns, { interfaces: ['eth1', 'eth2'], nodeName: 'node-a', waitMs: 60_000 });
    expect(await second.exited).toBe(0);
    expect(second.lines().find((l) => l['event'] === 'prepared')).toEqual(prepared);
    expect(second.lines().filter((l) => l['level'] !== undefined && l['level'] !== 'debug')).toEqual([]);
    expect(linksIn(ns)).toEqual(links);
  });

  it('starts without an interface that does not come (logged), and hands it to the hot-add once it is plugged', async () => {
    const ns = addNamespace('b');
    const peer = addNamespace('b-peer');
    const sut = runAdapter(ns, { interfaces: ['eth1'], nodeName: 'node-b', waitMs: 500, watchMs: 45_000 });
    const prepared = await sut.waitForLine((l) => l['event'] === 'prepared' || l['event'] === 'failed', 'prepare()');
    expect(prepared).toEqual({ event: 'prepared', nics: [] });
    expect(sut.lines().find((l) => l['level'] === 'warn')).toMatchObject({ missing: ['eth1'] });

    ip('link', 'add', 'name', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', peer);
    ip('-n', ns, 'link', 'set', 'eth1', 'up');
    const added = await sut.waitForLine((l) => l['event'] === 'hot-add', 'the hot-add');
    expect(added).toEqual({ event: 'hot-add', nic: { id: 'net0', tapName: 'tap-eth1', mac: vmNicMac('node-b', 'eth1') } });
    expect(attachProblems(networkNames('eth1'), linksIn(ns))).toEqual([]);
    await sut.stop();
  });
});

const QEMU_TOOLS = ['ip', 'qemu-system-x86_64', 'qemu-img', 'ipmitool', 'script'];
const describeQemu = isRoot ? describeWithTools(QEMU_TOOLS) : describe.skip;

describeQemu('VM_NETWORKS: two QEMU nodes on one L2 network (TCG, the test guest)', () => {
  let work: string;

  beforeAll(() => {
    ensureBuilt();
    // Idempotent: only checks when the guest is already built.
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-test-guest.sh')], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    work = mkdtempSync(join(tmpdir(), 'bmcfleet-vmnet-'));
  }, 2 * BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await cleanUp();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  interface Node {
    readonly ns: string;
    readonly name: string;
    readonly agent: NsProcess;
    readonly sol: TerminalSession;
  }

  async function startNode(suffix: string): Promise<Node> {
    const ns = addNamespace(suffix);
    const name = `node-${suffix}`;
    const dir = join(work, suffix);
    const agent = new NsProcess(ns, [process.execPath, AGENT_MAIN], {
      PATH: process.env.PATH ?? '',
      MACHINE: 'qemu',
      NODE_NAME: name,
      IPMI_ADDRESS: '127.0.0.1',
      IPMI_PORT: String(IPMI_PORT),
      BMC_STATE_DIR: join(dir, 'bmc'),
      VM_DISK: join(dir, 'disk.qcow2'),
      VM_DISK_SIZE: '64M',
      VM_CDROM: join(GUEST_DIR, 'guest.iso'),
      VM_BOOT: 'd',
      VM_MEMORY: '256',
      VM_CPUS: '1',
      ENABLE_KVM: 'false',
      VNC_PORT: 'none',
      VM_NETWORKS: 'eth1,eth2',
      // eth2 comes after power-on: do not hold the boot for it.
      VM_NETWORKS_WAIT: '1',
    });
    await agent.waitForLine((l) => l['msg'] === 'BMC listening', `${name}: the agent listening`);
    const sol = new TerminalSession(['ip', 'netns', 'exec', ns, 'ipmitool', ...ipmitoolArgs(IPMI_PORT, ['sol', 'activate'])]);
    terminals.add(sol);
    if (!(await sol.waitFor('SOL Session operational', STEP_MS))) throw new Error(`${name}: SOL did not start:\n${sol.output()}`);
    return { ns, name, agent, sol };
  }

  const ipmi = (node: Node, extra: string[]): string =>
    ok(run('ip', ['netns', 'exec', node.ns, 'ipmitool', ...ipmitoolArgs(IPMI_PORT, extra)], { timeoutMs: 30_000 }), `${node.name}: ipmitool ${extra.join(' ')}`);

  /** Types a command; `marker` is what its output shows (never its echo, see the $((...)) below). */
  async function guest(node: Node, command: string, marker: RegExp, ms = STEP_MS): Promise<string> {
    const from = node.sol.output().length;
    node.sol.type(`${command}\r`);
    const end = Date.now() + ms;
    while (!marker.test(node.sol.output().slice(from))) {
      if (Date.now() > end) throw new Error(`${node.name}: ${String(marker)} did not appear after "${command}"; SOL showed:\n${node.sol.output().slice(from)}\nagent:\n${node.agent.output()}`);
      await sleep(50);
    }
    return node.sol.output().slice(from);
  }

  /** Pings from `from`; prints PING-<n>-OK or PING-<n>-FAIL, which the typed line (with $((…))) does not contain. */
  async function ping(from: Node, address: string, n: number): Promise<string> {
    const out = await guest(from, `ping -c 3 -w 20 ${address} >/dev/null && echo PING-$((${n}+0))-OK || echo PING-$((${n}+0))-FAIL`,
      new RegExp(`PING-${n}-(OK|FAIL)`), 40_000);
    return new RegExp(`PING-${n}-(OK|FAIL)`).exec(out)![1]!;
  }

  it('the guests reach each other over eth1, and over eth2 plugged while they run (hot-plug)', async () => {
    const nodes = [await startNode('x'), await startNode('y')];
    const [a, b] = nodes as [Node, Node];
    ip('link', 'add', 'name', 'eth1', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', b.ns);
    for (const n of nodes) ip('-n', n.ns, 'link', 'set', 'eth1', 'up');

    for (const n of nodes) expect(ipmi(n, ['chassis', 'power', 'on'])).toContain('Up/On');
    for (const n of nodes) {
      // The guest's own DHCP attempt on eth0 ends with this marker; configure eth0 after it.
      if (!(await n.sol.waitFor(/BMCFLEET-GUEST-NET iface=eth0/, BOOT_MS))) {
        throw new Error(`${n.name}: the guest did not come up; SOL showed:\n${n.sol.output()}\nagent:\n${n.agent.output()}`);
      }
    }
    // Power-on went on without eth2, and said so.
    for (const n of nodes) expect(n.agent.lines().find((l) => l['level'] === 'warn' && Array.isArray(l['missing']))).toMatchObject({ missing: ['eth2'] });
    // No address left on the container side; the guest's NIC has the MAC derived from node and interface.
    for (const n of nodes) expect(linksIn(n.ns).get('eth1')).toMatchObject({ master: 'br-eth1', addresses: [] });
    for (const n of nodes) {
      const out = await guest(n, 'echo MAC=$(cat /sys/class/net/eth0/address)=', /MAC=([0-9a-f:]{17})=/);
      expect(/MAC=([0-9a-f:]{17})=/.exec(out)![1]).toBe(vmNicMac(n.name, 'eth1'));
    }
    await guest(a, 'ip addr add 10.77.1.1/24 dev eth0; ip link set eth0 up; echo ETH0-$((1+0))-UP', /ETH0-1-UP/);
    await guest(b, 'ip addr add 10.77.1.2/24 dev eth0; ip link set eth0 up; echo ETH0-$((2+0))-UP', /ETH0-2-UP/);
    expect(await ping(a, '10.77.1.2', 1)).toBe('OK');

    // eth2 is plugged into both containers while the VMs run.
    ip('link', 'add', 'name', 'eth2', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'eth2', 'netns', b.ns);
    for (const n of nodes) ip('-n', n.ns, 'link', 'set', 'eth2', 'up');
    for (const n of nodes) {
      await n.agent.waitForLine((l) => l['msg'] === 'VM_NETWORKS interface appeared: NIC hot-plugged into the VM' && l['interface'] === 'eth2', `${n.name}: the hot-plug of eth2`);
    }
    for (const [n, address] of [[a, '10.77.2.1/24'], [b, '10.77.2.2/24']] as const) {
      // The guest names the second NIC eth1 once its driver has probed it.
      await guest(n, 'i=0; while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; ls /sys/class/net | tr "\\n" " "; echo NICS-$((3+0))', /NICS-3/, 45_000);
      const out = await guest(n, 'echo MAC=$(cat /sys/class/net/eth1/address)=', /MAC=([0-9a-f:]{17})=/);
      expect(/MAC=([0-9a-f:]{17})=/.exec(out)![1]).toBe(vmNicMac(n.name, 'eth2'));
      await guest(n, `ip addr add ${address} dev eth1; ip link set eth1 up; echo ETH1-$((4+0))-UP`, /ETH1-4-UP/);
    }
    expect(await ping(a, '10.77.2.2', 2)).toBe('OK');
    expect(await ping(b, '10.77.1.1', 3)).toBe('OK');

    for (const n of nodes) expect(ipmi(n, ['chassis', 'power', 'off'])).toContain('Down/Off');
    await Promise.all(nodes.map((n) => n.agent.stop()));
    for (const n of nodes) expect(n.agent.lines().filter((l) => l['level'] === 'error')).toEqual([]);
  }, 300_000);
});

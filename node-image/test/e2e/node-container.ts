/**
 * End-to-end helpers: node containers (the image bmcfleet/node:latest) in the real Docker engine,
 * driven the way a user drives them: `ipmitool` on a UDP port published on 127.0.0.1, and `ipmitool sol
 * activate` on a pseudo-terminal (util-linux `script`, as node-image/test/support/ipmitool-runner.ts).
 * The VM runs under TCG (ENABLE_KVM=false) and boots the test guest (scripts/build-test-guest.sh),
 * whose serial markers the tests read from SOL.
 *
 * Ownership: every container carries the label bmcfleet.test=1 and a label naming this test file's
 * run, and E2eFleet.cleanup() removes by that run label (never another run's containers), plus the
 * temporary directories it made. Every wait is bounded by a count and a time; nothing here measures
 * durations for an assertion.
 *
 * The IPMI port is the same inside and outside by default (IPMI_PORT=P, published as P:P/udp). A node
 * started with `remapped` is published as a user does it by hand, X:623/udp: ipmitool 1.8.19 refuses
 * `sol activate` when the BMC's SOL payload port differs from the port it talks to ("Error: BMC
 * requests SOL session on different port"), so such a node needs IPMI_SOL_PORT=X for SOL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, freeUdpPortBelow32768 } from '../support/agent-process';
import { ipmitool, pollUntil, runAsync, sleep, TerminalSession } from '../support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs, type RunResult } from '../support/tools';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const NODE_IMAGE = process.env['BMCFLEET_NODE_IMAGE'] ?? 'bmcfleet/node:latest';
/** Output of scripts/build-test-guest.sh (guest.iso, vmlinuz, initrd.img, debs/, versions.txt). */
export const GUEST_DIR = process.env['BMCFLEET_TEST_GUEST_DIR'] ?? join(REPO_ROOT, '.cache', 'test-guest');
export const TEST_LABEL = 'bmcfleet.test=1';
/** The agent's IPMI port when IPMI_PORT is not set (design.md section 1). */
export const DEFAULT_IPMI_PORT = 623;
const RUN_LABEL_KEY = 'bmcfleet.test.run';

/** Generous bounds (the machine has 2 cores; a TCG boot takes 10–20 s when idle). */
export const BOOT_TIMEOUT_MS = 120_000;
export const STEP_TIMEOUT_MS = 30_000;
const AGENT_START_TIMEOUT_MS = 30_000;
const DOCKER_TIMEOUT_MS = 60_000;
const IPMITOOL_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 500;

const E2E_TOOLS = ['docker', 'ipmitool', 'script'];
/** Docker, ipmitool and script must exist (skipped loudly locally, failing under CI=true). */
export const describeE2e = describeWithTools(E2E_TOOLS);
/** The same, for specs that need more host tools. */
export function describeE2eWith(tools: string[]): jest.Describe {
  return describeWithTools([...E2E_TOOLS, ...tools]);
}

export const DOCKER_IMAGE_HINT = 'run "bash scripts/setup.sh" (or "npm run build:image" and "bash scripts/build-test-guest.sh")';

/** `docker ARGS` with a hard time limit. */
export function docker(args: string[], timeoutMs = DOCKER_TIMEOUT_MS): Promise<RunResult> {
  return runAsync('docker', args, { timeoutMs });
}

export async function dockerOk(args: string[], timeoutMs = DOCKER_TIMEOUT_MS): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Fails with what to do when the engine, the image or the test guest is missing. */
export async function checkPrerequisites(): Promise<void> {
  const info = await docker(['version', '--format', '{{.Server.Version}}'], 20_000);
  if (info.status !== 0) throw new Error(`no Docker engine answers (${info.stderr.trim()}): ${DOCKER_IMAGE_HINT}`);
  const image = await docker(['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE], 20_000);
  if (image.status !== 0) throw new Error(`the node image ${NODE_IMAGE} is missing: ${DOCKER_IMAGE_HINT}`);
  if (!existsSync(join(GUEST_DIR, 'guest.iso'))) throw new Error(`the test guest ${join(GUEST_DIR, 'guest.iso')} is missing: ${DOCKER_IMAGE_HINT}`);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function randomWord(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function expectIpmiOk(r: RunResult, what: string): RunResult {
  if (r.status !== 0) throw new Error(`ipmitool ${what} failed: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** The serial marker of the test guest (node-image/test/guest/README.md). */
export const READY_MARKER = /BMCFLEET-GUEST-READY firmware=(\w+) bootdev=(\w+)/;
export const POWERDOWN_MARKER = 'BMCFLEET-GUEST-POWERDOWN';
export const GUEST_PROMPT = 'guest# ';

/**
 * A SOL client on a pty (`ipmitool sol activate`, FreeIPMI's `ipmiconsole`): everything it printed,
 * and a keyboard. Offsets (mark()) let a test look only at what came after a step, within the same
 * session.
 */
export class SolConsole {
  constructor(private readonly terminal: TerminalSession, private readonly label: string) {}

  /** The current end of the output: pass it as `from` to look only at what follows. */
  mark(): number {
    return this.terminal.output().length;
  }

  text(from = 0): string {
    return this.terminal.output().slice(from);
  }

  get hasExited(): boolean {
    return this.terminal.hasExited;
  }

  type(text: string): void {
    this.terminal.type(text);
  }

  /** Types a command line and presses Enter (the guest's tty turns CR into NL). */
  run(command: string): void {
    this.type(`${command}\r`);
  }

  /** How many times `pattern` occurs in the output after `from`. */
  count(pattern: RegExp, from = 0): number {
    return [...this.text(from).matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))].length;
  }

  /**
   * Waits (bounded) until the output after `from` matches; returns the match, or throws with what the
   * console showed. Fails at once when ipmitool has exited.
   */
  async expect(pattern: RegExp | string, what: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const from = opts.from ?? 0;
    const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const deadline = Date.now() + (opts.timeoutMs ?? STEP_TIMEOUT_MS);
    for (;;) {
      const m = re.exec(this.text(from));
      if (m) return m;
      if (this.terminal.hasExited || Date.now() > deadline) {
        const why = this.terminal.hasExited ? 'the SOL client exited' : 'timed out';
        throw new Error(`${this.label}: ${what}: ${String(re)} not seen (${why}); SOL showed after the mark:\n${tail(this.text(from), 4000)}`);
      }
      await sleep(100);
    }
  }

  /** Waits for the guest's READY marker after `from`; returns firmware and boot device. */
  async ready(what: string, from: number): Promise<{ firmware: string; bootdev: string; end: number }> {
    const m = await this.expect(READY_MARKER, what, { from, timeoutMs: BOOT_TIMEOUT_MS });
    return { firmware: m[1]!, bootdev: m[2]!, end: from + m.index! + m[0].length };
  }

  /**
   * Types the client's escape sequence to quit (ipmitool: `~.` at the start of a line; ipmiconsole:
   * `&.`) and waits (bounded) until it ended; null when it still runs.
   */
  quit(escape: string, timeoutMs = STEP_TIMEOUT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    this.terminal.type(escape);
    return this.terminal.waitForExit(timeoutMs);
  }

  kill(): Promise<void> {
    return this.terminal.kill();
  }
}

export interface NodeOptions {
  /** Extra environment; a value of undefined removes a default (e.g. VM_CDROM). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Host directory mounted on /vm (default: a new temporary directory, removed by cleanup()). */
  readonly vmDir?: string;
  /** Host directory mounted read-only on /iso (default: the test guest's directory). */
  readonly isoDir?: string;
  /**
   * Publish the BMC as a user does by hand: a free host port X as `X:623/udp`, the agent on its
   * default port 623 inside; `solPort: true` tells it IPMI_SOL_PORT=X. X is below 32768, so FreeIPMI's
   * ipmiconsole can take it (see freeUdpPortBelow32768).
   */
  readonly remapped?: { readonly solPort: boolean };
  /** More `docker run` options (e.g. a published TCP port), placed before the image. */
  readonly extraArgs?: readonly string[];
}

/** Defaults of every test node: TCG, a small VM, the test guest's ISO in the CD-ROM drive. */
const NODE_DEFAULT_ENV: Readonly<Record<string, string>> = {
  ENABLE_KVM: 'false',
  MACHINE: 'qemu',
  VM_CDROM: '/iso/guest.iso',
  VM_MEMORY: '512',
  VM_CPUS: '1',
  VNC_PORT: 'none',
};

/** One node container of this run. */
export class NodeContainer {
  private readonly consoles: SolConsole[] = [];

  constructor(readonly id: string, readonly name: string, readonly port: number, readonly vmDir: string) {}

  ipmi(extra: string[], timeoutMs = IPMITOOL_TIMEOUT_MS): Promise<RunResult> {
    return ipmitool(this.port, extra, { timeoutMs });
  }

  async ipmiOk(extra: string[]): Promise<string> {
    return expectIpmiOk(await this.ipmi(extra), `${extra.join(' ')} (${this.name})`).stdout;
  }

  /** 'on', 'off', or undefined when ipmitool got no answer. */
  async powerState(): Promise<'on' | 'off' | undefined> {
    const m = /Chassis Power is (on|off)/.exec((await this.ipmi(['power', 'status'])).stdout);
    return m ? (m[1] as 'on' | 'off') : undefined;
  }

  /** Polls `power status` (bounded) until it says `state`; returns the last answer. */
  async waitForPower(state: 'on' | 'off', timeoutMs = STEP_TIMEOUT_MS): Promise<string | undefined> {
    return pollUntil(() => this.powerState(), (s) => s === state, { attempts: Math.ceil(timeoutMs / POLL_INTERVAL_MS), timeoutMs, intervalMs: POLL_INTERVAL_MS });
  }

  /** `chassis bootparam get 5` as ipmitool prints it. */
  bootParam5(): Promise<string> {
    return this.ipmiOk(['chassis', 'bootparam', 'get', '5']);
  }

  /** Everything the agent logged (stdout and stderr of the container). */
  async logs(): Promise<string> {
    const r = await docker(['logs', this.id]);
    return r.stdout + r.stderr;
  }

  async inspect(format: string): Promise<string> {
    return (await dockerOk(['inspect', '--format', format, this.id])).trim();
  }

  /** FreeIPMI's `ipmiconsole` (default cipher suite 3) on this node's port, once SOL is established; `&.` quits it. */
  async ipmiconsole(): Promise<SolConsole> {
    const terminal = new TerminalSession(['ipmiconsole', '-h', `127.0.0.1:${this.port}`, '-u', 'admin', '-p', 'password'], { ...process.env, TERM: 'dumb' });
    const sol = new SolConsole(terminal, `ipmiconsole of ${this.name}`);
    this.consoles.push(sol);
    await sol.expect('[SOL established]', 'SOL activation');
    return sol;
  }

  /** Starts `ipmitool sol activate` and waits until the session is operational. */
  async sol(): Promise<SolConsole> {
    const terminal = new TerminalSession(['ipmitool', ...ipmitoolArgs(this.port, ['sol', 'activate'])]);
    const sol = new SolConsole(terminal, `SOL of ${this.name}`);
    this.consoles.push(sol);
    await sol.expect('[SOL Session operational.  Use ~? for help]', 'SOL activation');
    return sol;
  }

  async closeConsoles(): Promise<void> {
    await Promise.all(this.consoles.splice(0).map((c) => c.kill()));
  }

  /** docker rm -f (the VM dies with the container; its /vm directory stays). */
  async remove(): Promise<void> {
    await this.closeConsoles();
    await docker(['rm', '-f', '-v', this.id]);
  }
}

/** The containers and directories of one spec file, and their removal. */
export class E2eFleet {
  readonly runLabel = `${RUN_LABEL_KEY}=e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly nodes: NodeContainer[] = [];
  private readonly dirs: string[] = [];
  private seq = 0;

  constructor(private readonly prefix: string) {}

  /** A new temporary directory, removed by cleanup(). */
  tempDir(what: string): string {
    const dir = mkdtempSync(join(tmpdir(), `bmcfleet-e2e-${what}-`));
    this.dirs.push(dir);
    return dir;
  }

  /**
   * `docker run -d` of a node (publishing a free UDP port on 127.0.0.1; retried with another port if
   * that one was taken meanwhile), then waits until the agent listens and answers ipmitool.
   */
  async start(opts: NodeOptions = {}): Promise<NodeContainer> {
    const vmDir = opts.vmDir ?? this.tempDir('vm');
    const name = `bmcfleet-e2e-${this.prefix}-${process.pid}-${++this.seq}-${randomBytes(2).toString('hex')}`;
    const env: Record<string, string | undefined> = { ...NODE_DEFAULT_ENV, ...opts.env };
    for (let attempt = 1; ; attempt++) {
      const port = opts.remapped ? await freeUdpPortBelow32768() : await freeUdpPort();
      const ipmiEnv = opts.remapped ? (opts.remapped.solPort ? [`IPMI_SOL_PORT=${port}`] : []) : [`IPMI_PORT=${port}`];
      const args = [
        'run', '-d', '--name', name, '--label', TEST_LABEL, '--label', this.runLabel,
        '--device', '/dev/net/tun', '--cap-add', 'NET_ADMIN',
        ...ipmiEnv.flatMap((variable) => ['-e', variable]),
        ...Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : ['-e', `${k}=${v}`])),
        '-v', `${opts.isoDir ?? GUEST_DIR}:/iso:ro`, '-v', `${vmDir}:/vm`,
        '-p', `127.0.0.1:${port}:${opts.remapped ? DEFAULT_IPMI_PORT : port}/udp`,
        ...(opts.extraArgs ?? []),
        NODE_IMAGE,
      ];
      const r = await docker(args);
      if (r.status === 0) {
        const node = new NodeContainer(r.stdout.trim(), name, port, vmDir);
        this.nodes.push(node);
        await this.waitUntilListening(node);
        return node;
      }
      // A container that was created but could not publish its port: remove it and try another port.
      await docker(['rm', '-f', name]);
      if (attempt >= 3 || !/port is already allocated|address already in use/i.test(r.stderr)) {
        throw new Error(`docker run of ${name} failed (exit ${r.status}):\n${r.stderr}`);
      }
    }
  }

  private async waitUntilListening(node: NodeContainer): Promise<void> {
    const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
    for (;;) {
      const logs = await node.logs();
      if (logs.includes('"BMC listening"')) break;
      const running = await docker(['inspect', '--format', '{{.State.Running}}', node.id]);
      if (running.stdout.trim() !== 'true') throw new Error(`${node.name} stopped before its agent listened:\n${logs}`);
      if (Date.now() > deadline) throw new Error(`${node.name}: the agent did not listen within ${AGENT_START_TIMEOUT_MS} ms:\n${logs}`);
      await sleep(200);
    }
    // The published port goes through Docker's proxy: wait until ipmitool gets an answer through it.
    if ((await pollUntil(() => node.powerState(), (s) => s !== undefined, { attempts: 20, timeoutMs: STEP_TIMEOUT_MS, intervalMs: POLL_INTERVAL_MS })) === undefined) {
      throw new Error(`${node.name}: ipmitool power status got no answer on 127.0.0.1:${node.port}:\n${await node.logs()}`);
    }
  }

  /**
   * Removes this run's containers (by their label, so a container whose `docker run` timed out on the
   * client side goes too) and temporary directories. Never throws; safe to call twice.
   */
  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.closeConsoles()));
    const listed = await docker(['ps', '-aq', '--filter', `label=${this.runLabel}`]);
    const ids = listed.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids]);
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Dumps the agent's log of a node when a test fails (jest prints the error, this adds context). */
export async function withNodeLogs<T>(node: NodeContainer, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const logs = await node.logs().catch(() => '(docker logs failed)');
    if (err instanceof Error) err.message += `\n--- log of ${node.name} (last lines)\n${tail(logs, 6000)}`;
    throw err;
  }
}

function tail(text: string, chars: number): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

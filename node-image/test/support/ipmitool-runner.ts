/**
 * Helpers for running the real ipmitool against the agent process without blocking the test's event
 * loop (the agent's log pipe keeps draining while a client runs, and several clients can run at
 * once), plus a terminal for `sol activate` (util-linux `script` gives ipmitool the pty it needs).
 * Every wait here is bounded by a count and a time limit.
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { RunningAgent } from './agent-process';
import { ipmitoolArgs, RunResult } from './tools';

export interface IpmitoolOptions {
  readonly user?: string;
  readonly password?: string;
  readonly iface?: string;
  readonly timeoutMs?: number;
}

/** Runs a command with a hard time limit (SIGKILL when it is exceeded; status is then null). */
export function runAsync(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `ipmitool -I lanplus -H 127.0.0.1 -p <port> -U … -P … <extra>` with a time limit. */
export function ipmitool(port: number, extra: string[], opts: IpmitoolOptions = {}): Promise<RunResult> {
  return runAsync('ipmitool', ipmitoolArgs(port, extra, opts), { timeoutMs: opts.timeoutMs ?? 30_000 });
}

/** Shell-quotes one argument for `script -c`. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command running on a pseudo-terminal through `script -qefc CMD /dev/null`: what it prints (stdout
 * and stderr of the command both arrive on the pty) and a way to type into it. `script -e` exits
 * with the command's own exit status.
 */
export class TerminalSession {
  private text = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(command: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn('script', ['-qefc', command.map(shellQuote).join(' '), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.text += d.toString('latin1'); });
    this.child.stderr!.on('data', (d: Buffer) => { this.text += d.toString('latin1'); });
    this.child.stdin!.on('error', () => { /* the command may already be gone */ });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined { return this.child.pid; }

  /** Everything printed so far. */
  output(): string { return this.text; }

  get hasExited(): boolean { return this.exitInfo !== null; }

  type(text: string): void {
    if (!this.hasExited) this.child.stdin!.write(text);
  }

  /** Waits until the output matches (or the time is up); returns whether it matched. */
  async waitFor(pattern: string | RegExp, timeoutMs: number): Promise<boolean> {
    const matches = (): boolean => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text));
    const deadline = Date.now() + timeoutMs;
    while (!matches()) {
      if (Date.now() > deadline || this.hasExited) return matches();
      await sleep(25);
    }
    return true;
  }

  /** Waits for the process to end; null when it is still running after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the terminal and what runs in it (its own process only: script forwards the hangup). */
  async kill(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    if ((await this.waitForExit(3_000)) === null) {
      this.child.kill('SIGKILL');
      await this.waitForExit(3_000);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Repeats `probe` until `ok` holds, at most `attempts` times and `timeoutMs`; returns the last value. */
export async function pollUntil<T>(probe: () => Promise<T>, ok: (v: T) => boolean, opts: { attempts: number; timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let value = await probe();
  for (let i = 1; i < opts.attempts && !ok(value) && Date.now() < deadline; i++) {
    await sleep(opts.intervalMs ?? 100);
    value = await probe();
  }
  return value;
}

export interface AgentLogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The agent's JSON log lines (other lines are skipped), optionally only those after `fromOffset` characters. */
export function agentLog(agent: RunningAgent, fromOffset = 0): AgentLogLine[] {
  const lines: AgentLogLine[] = [];
  for (const line of agent.output().slice(fromOffset).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as AgentLogLine);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

/** Marks the current end of the agent's output, to look only at what a step adds. */
export function logMark(agent: RunningAgent): number {
  return agent.output().length;
}

/** Waits until the agent has logged a line matching `pred` after `fromOffset`. */
export async function waitForLog(agent: RunningAgent, pred: (l: AgentLogLine) => boolean, opts: { fromOffset?: number; timeoutMs: number }): Promise<AgentLogLine | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const hit = agentLog(agent, opts.fromOffset ?? 0).find(pred);
    if (hit || Date.now() > deadline) return hit;
    await sleep(25);
  }
}

/** One request as ipmitool -vvv reports it (">> Sending IPMI command payload" block). */
export interface VerboseRequest { readonly netFn: number; readonly cmd: number; readonly data: number[] }
/** One response header as ipmitool -vvv reports it ("<< IPMI Response Message Header" block). */
export interface VerboseResponse { readonly netFn: number; readonly cmd: number; readonly cc: number }

/**
 * The requests ipmitool (run with -vvv) sent, in order. It prints one block for the first try and
 * another for every retry, so counting blocks counts attempts.
 */
export function verboseRequests(verboseOutput: string): VerboseRequest[] {
  const lines = verboseOutput.split('\n').map((l) => l.trim());
  const out: VerboseRequest[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '>> Sending IPMI command payload') continue;
    const netFn = /^>>\s+netfn\s+: 0x([0-9a-f]{2})$/i.exec(lines[i + 1] ?? '');
    const cmd = /^>>\s+command\s+: 0x([0-9a-f]{2})$/i.exec(lines[i + 2] ?? '');
    const data = /^>>\s+data\s+:(.*)$/i.exec(lines[i + 3] ?? '');
    if (!netFn || !cmd || !data) continue;
    out.push({ netFn: parseInt(netFn[1]!, 16), cmd: parseInt(cmd[1]!, 16), data: data[1]!.trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)) });
  }
  return out;
}

/** The response headers ipmitool (run with -vvv) decoded, in order (NetFn as received, i.e. odd). */
export function verboseResponses(verboseOutput: string): VerboseResponse[] {
  const lines = verboseOutput.split('\n').map((l) => l.trim());
  const out: VerboseResponse[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '<< IPMI Response Message Header') continue;
    const fields = new Map<string, string>();
    for (let j = i + 1; j < Math.min(lines.length, i + 10); j++) {
      const m = /^<<\s+([A-Za-z ]+?)\s*: (\S+)$/.exec(lines[j]!);
      if (!m) break;
      fields.set(m[1]!, m[2]!);
    }
    const netFn = fields.get('NetFn');
    const cmd = fields.get('Command');
    const cc = fields.get('Compl Code');
    if (netFn && cmd && cc) out.push({ netFn: parseInt(netFn, 16), cmd: parseInt(cmd, 16), cc: parseInt(cc, 16) });
  }
  return out;
}

/** How many times a request with this NetFn/command (and, if given, exactly this data) was sent. */
export function attempts(verboseOutput: string, netFn: number, cmd: number, data?: number[]): number {
  return verboseRequests(verboseOutput).filter((r) => r.netFn === netFn && r.cmd === cmd && (data === undefined || r.data.join() === data.join())).length;
}

/** The completion codes of the responses to this request NetFn (even) and command. */
export function completionCodes(verboseOutput: string, netFn: number, cmd: number): number[] {
  return verboseResponses(verboseOutput).filter((r) => r.netFn === (netFn | 1) && r.cmd === cmd).map((r) => r.cc);
}

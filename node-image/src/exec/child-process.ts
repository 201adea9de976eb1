/**
 * The agent's one door to child processes (execa): every program the agent runs (qemu-system-x86_64,
 * qemu-img, ip) is started here, with an argument array (never a shell), and nothing outlives the
 * agent.
 *
 * - runCommand: a short-lived tool. Always a time limit; on it the tool gets SIGKILL. Resolves with
 *   stdout, rejects with a CommandError that says why (timed out, exit code, signal, not found) and
 *   carries the tool's stderr. While it runs, execa's `cleanup` kills it if the agent exits.
 * - SupervisedProcess: a long-running child (QEMU) in its own process group (detached), so a kill
 *   reaches everything it started. No time limit: it is stopped by the agent (kill) on power-off
 *   and on shutdown, and by an 'exit' hook of the agent as a last resort. Every running one is known
 *   to `killAllSupervised`.
 *
 * execa is loaded on first use: loading it costs about 10 MiB of resident memory, which a node that
 * is powered off (and so runs no program) does not need to pay.
 */
import type { ResultPromise } from 'execa';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

export type CommandFailure = 'timeout' | 'exit-code' | 'signal' | 'not-found' | 'output-too-large' | 'start-failed';

export class CommandError extends Error {
  constructor(
    message: string,
    readonly failure: CommandFailure,
    /** What the tool wrote on stderr, trimmed (empty when nothing). */
    readonly stderr: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface RunCommandOptions {
  /** The tool is killed (SIGKILL) after this long and the call rejects with failure 'timeout'. */
  readonly timeoutMs: number;
  /** Largest stdout or stderr kept (default 4 MiB); more fails with 'output-too-large'. */
  readonly maxOutputBytes?: number;
  /** Text written to the tool's standard input (default: none, stdin is closed). */
  readonly input?: string;
}

const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

let execaModule: Promise<typeof import('execa')> | undefined;
/** execa, loaded once, when the first program is started. */
function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= import('execa');
  return execaModule;
}

/** Runs `binary args...` to its end and resolves with its stdout. */
export async function runCommand(binary: string, args: readonly string[], options: RunCommandOptions): Promise<string> {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError(`runCommand ${binary}: timeoutMs must be a positive number`);
  const { execa } = await loadExeca();
  const result = await execa(binary, [...args], {
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stripFinalNewline: false,
    reject: false,
    cleanup: true,
    // The agent's environment holds secrets (IPMI_PASS, VNC_PASSWORD): tools get only what they need.
    extendEnv: false,
    env: toolEnvironment(),
  });
  if (!result.failed) return result.stdout;
  const stderr = result.stderr.trim();
  const command = `${binary}${args[0] === undefined ? '' : ` ${args[0]}`}`;
  let failure: CommandFailure;
  let why: string;
  if (result.timedOut) {
    failure = 'timeout';
    why = `timed out after ${options.timeoutMs} ms`;
  } else if (result.isMaxBuffer) {
    failure = 'output-too-large';
    why = 'its output was larger than allowed';
  } else if (result.exitCode !== undefined) {
    failure = 'exit-code';
    why = `exit code ${result.exitCode}`;
  } else if (result.signal !== undefined) {
    failure = 'signal';
    why = `killed by ${result.signal}`;
  } else if (causeCode(result.cause) === 'ENOENT') {
    failure = 'not-found';
    why = `${binary} was not found`;
  } else {
    failure = 'start-failed';
    why = causeMessage(result.cause) ?? result.shortMessage ?? 'it could not be started';
  }
  throw new CommandError(`${command} failed (${why})${stderr ? `: ${stderr}` : ''}`, failure, stderr, result.exitCode);
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. spawn ENOENT). */
  readonly error?: string;
}

export interface SupervisedProcessOptions {
  readonly log?: Logger;
  /** Prefix of the log lines of its stdout and stderr (default: the binary's name). */
  readonly logName?: string;
  /** How much of its stderr to keep for error messages (default 4 KiB). */
  readonly stderrTailBytes?: number;
}

const DEFAULT_STDERR_TAIL_BYTES = 4096;
/** After 'exit', how long to wait for the output pipes to drain before reporting the exit. */
const PIPE_DRAIN_MS = 200;

const running = new Set<SupervisedProcess>();

/** SIGKILL to every supervised process group still running (the agent's shutdown and exit hook). */
export function killAllSupervised(): void {
  for (const proc of running) proc.signal('SIGKILL');
}

export class SupervisedProcess {
  /** Resolves when the process has ended (never rejects). */
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private stderr = '';
  private readonly tailBytes: number;
  private readonly log: Logger;
  private readonly logName: string;

  private constructor(private readonly child: ResultPromise, binary: string, options: SupervisedProcessOptions) {
    this.log = options.log ?? silentLogger;
    this.logName = options.logName ?? binary.split('/').pop() ?? binary;
    this.tailBytes = options.stderrTailBytes ?? DEFAULT_STDERR_TAIL_BYTES;
    running.add(this);
    if (running.size === 1) process.on('exit', killAllSupervised);
    this.exited = new Promise((resolve) => {
      const done = (exit: ProcessExit): void => {
        if (this.exit) return;
        this.exit = exit;
        running.delete(this);
        if (running.size === 0) process.off('exit', killAllSupervised);
        resolve(exit);
      };
      // reject: false, so this settles once, with the start error when there was no process at all.
      void child.then((result) => {
        if (child.pid === undefined || (result.exitCode === undefined && result.signal === undefined && result.failed)) {
          done({ code: null, signal: null, error: causeMessage(result.cause) ?? result.shortMessage ?? 'it could not be started' });
        }
      });
      child.once('exit', (code, signal) => {
        const timer = setTimeout(() => done({ code, signal }), PIPE_DRAIN_MS);
        child.once('close', () => { clearTimeout(timer); done({ code, signal }); });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => this.log.debug(`${this.logName} stdout`, { text: chunk.toString('utf8').trimEnd() }));
  }

  /** Starts `binary` with `args` in a new process group; its environment is `env` only. */
  static async start(binary: string, args: readonly string[], env: Readonly<Record<string, string>>, options: SupervisedProcessOptions = {}): Promise<SupervisedProcess> {
    const { execa } = await loadExeca();
    const child = execa(binary, [...args], {
      detached: true,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      // Stopped by kill() / killAllSupervised, never by a time limit.
      timeout: 0,
      extendEnv: false,
      env: { ...toolEnvironment(), ...env },
    });
    return new SupervisedProcess(child, binary, options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The end of what the process wrote on stderr (its error messages), trimmed. */
  stderrTail(): string {
    return this.stderr.trim();
  }

  /** SIGKILL to the process group, then waits for the exit (rejects after timeoutMs). */
  async kill(timeoutMs: number): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.signal('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.logName} (pid ${this.pid}) did not exit within ${timeoutMs} ms of SIGKILL`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `signal` to the whole process group; nothing when it has ended. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exit) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private onStderr(text: string): void {
    this.stderr = (this.stderr + text).slice(-this.tailBytes);
    for (const line of text.split('\n')) {
      if (line.trim() !== '') this.log.warn(`${this.logName} stderr`, { line: line.trimEnd() });
    }
  }
}

/** The environment a child gets: where to find programs and the locale, nothing of the agent's secrets. */
function toolEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function causeCode(cause: unknown): string | undefined {
  return typeof cause === 'object' && cause !== null && typeof (cause as { code?: unknown }).code === 'string' ? (cause as { code: string }).code : undefined;
}

/** The start error's own message (e.g. "spawn qemu-img ENOENT"), without execa's command line. */
function causeMessage(cause: unknown): string | undefined {
  return typeof cause === 'object' && cause !== null && typeof (cause as { message?: unknown }).message === 'string' ? (cause as { message: string }).message : undefined;
}

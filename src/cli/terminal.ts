/**
 * The CLI's terminal: stdin/stdout/stderr, raw mode, a no-echo prompt and the signals that end a
 * console. The only file of the CLI that touches process.stdin, TTY modes and signal handlers;
 * restoreMode() puts the terminal back as it was, and is safe to call any number of times.
 *
 * Node's raw mode (libuv) keeps output post-processing on, so every "\n" from the host would reach
 * the screen as "\r\n": harmless for a shell, wrong for full-screen programs on the serial console
 * (an installer's curses UI moves the cursor down with a bare "\n"). `stty -opost` on the same
 * terminal turns that off as ipmitool's raw mode does; leaving raw mode restores the saved settings.
 */
import { spawnSync } from 'node:child_process';
import { HiddenLine } from './hidden-line';

/** stty answers at once; the bound only guards against a wedged terminal. */
const STTY_TIMEOUT_MS = 5_000;

export interface Writer {
  write(data: string | Uint8Array): unknown;
}

export type TerminalSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNALS: readonly TerminalSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface Terminal {
  /** stdin is a terminal (raw mode and prompts are possible). */
  readonly isInteractive: boolean;
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Keystrokes as typed, byte for byte; the listener also hears the end of input (null). */
  onInput(listener: (chunk: Buffer | null) => void): () => void;
  /** Raw mode on a terminal: no echo, no line editing, Ctrl-C is a byte like the others. */
  enterRawMode(): void;
  restoreMode(): void;
  /** Asks on stderr and reads one line without echo; rejects when cancelled or not interactive. */
  promptHidden(question: string): Promise<string>;
  onSignal(listener: (signal: TerminalSignal) => void): () => void;
}

export class PromptCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'PromptCancelledError';
  }
}

export class ProcessTerminal implements Terminal {
  private rawEntered = false;
  private readonly stdin = process.stdin;

  get isInteractive(): boolean { return this.stdin.isTTY === true; }
  get stdout(): Writer { return process.stdout; }
  get stderr(): Writer { return process.stderr; }

  onInput(listener: (chunk: Buffer | null) => void): () => void {
    const onData = (chunk: Buffer | string): void => listener(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    const onEnd = (): void => listener(null);
    this.stdin.on('data', onData);
    this.stdin.on('end', onEnd);
    this.stdin.resume();
    return () => {
      this.stdin.off('data', onData);
      this.stdin.off('end', onEnd);
      // Paused, stdin no longer keeps the process alive.
      this.stdin.pause();
    };
  }

  enterRawMode(): void {
    if (!this.isInteractive || this.rawEntered) return;
    this.stdin.setRawMode(true);
    this.rawEntered = true;
    // Best effort: without stty the console still works, with "\r\n" for "\n".
    spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: STTY_TIMEOUT_MS });
  }

  restoreMode(): void {
    if (!this.rawEntered) return;
    this.rawEntered = false;
    try {
      this.stdin.setRawMode(false);
    } catch {
      // The terminal is gone (hang-up): nothing to restore.
    }
  }

  promptHidden(question: string): Promise<string> {
    if (!this.isInteractive) return Promise.reject(new PromptCancelledError());
    process.stderr.write(question);
    const wasRaw = this.rawEntered;
    this.enterRawMode();
    const line = new HiddenLine();
    return new Promise<string>((resolve, reject) => {
      const stop = this.onInput((chunk) => {
        const state = chunk === null ? { kind: 'cancelled' as const } : line.feed(chunk);
        if (state.kind === 'typing') return;
        stop();
        if (!wasRaw) this.restoreMode();
        process.stderr.write('\n');
        if (state.kind === 'done') resolve(state.line);
        else reject(new PromptCancelledError());
      });
    });
  }

  onSignal(listener: (signal: TerminalSignal) => void): () => void {
    const handlers = SIGNALS.map((signal) => {
      const handler = (): void => listener(signal);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    return () => { for (const [signal, handler] of handlers) process.off(signal, handler); };
  }
}

/**
 * Runs the real farm (node-image/dist/farm/farm-main.js) as a child process for integration tests,
 * with a fresh state directory unless one is given. The build must exist (npm run build:agent).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FARM_MAIN = join(__dirname, '..', '..', 'dist', 'farm', 'farm-main.js');

export interface FarmLogLine { readonly msg: string; readonly [field: string]: unknown }

export interface RunningFarm {
  readonly stateDir: string;
  readonly pid: number;
  readonly process: ChildProcess;
  output(): string;
  /** The farm's JSON log lines so far. */
  lines(): FarmLogLine[];
  /** Waits (bounded) until a log line after `fromLine` matches. */
  waitFor(pred: (l: FarmLogLine) => boolean, opts: { fromLine?: number; timeoutMs: number }): Promise<FarmLogLine>;
  stop(): Promise<void>;
}

export async function startFarm(env: Record<string, string>, opts: { stateDir?: string; timeoutMs?: number } = {}): Promise<RunningFarm> {
  if (!existsSync(FARM_MAIN)) throw new Error(`${FARM_MAIN} is missing: run "npm run build:agent" first`);
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'bmcfleet-farm-'));
  const child = spawn(process.execPath, ['--max-semi-space-size=8', '--expose-gc', FARM_MAIN], {
    env: { PATH: process.env.PATH ?? '', BMC_STATE_DIR: stateDir, SIM_POWER_DELAY_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let out = '';
  const collect = (d: Buffer): void => { chunks.push(d.toString()); };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const text = (): string => { if (chunks.length) out += chunks.splice(0).join(''); return out; };
  const lines = (): FarmLogLine[] => text().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as FarmLogLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = async (pred: (l: FarmLogLine) => boolean, o: { fromLine?: number; timeoutMs: number }): Promise<FarmLogLine> => {
    const started = Date.now();
    for (;;) {
      const found = lines().slice(o.fromLine ?? 0).find(pred);
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`farm exited (${child.exitCode ?? child.signalCode}):\n${text().slice(-4000)}`);
      if (Date.now() - started > o.timeoutMs) throw new Error(`farm log line not seen within ${o.timeoutMs} ms:\n${text().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor((l) => l.msg === 'farm listening', { timeoutMs: opts.timeoutMs ?? 120_000 });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    stateDir,
    pid: child.pid!,
    process: child,
    output: text,
    lines,
    waitFor,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(t);
      }
      if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

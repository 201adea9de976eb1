/**
 * Runs the real agent (node-image/dist/main.js) as a child process on 127.0.0.1 with a free UDP
 * port and a fresh state directory, for integration tests. The build must exist: scripts/test.sh
 * builds it before the integration project runs (and so does `npm run agent`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const AGENT_MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface RunningAgent {
  readonly port: number;
  readonly stateDir: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Everything the agent printed so far (its JSON log lines). */
  output(): string;
  stop(): Promise<void>;
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * ipmiconsole (FreeIPMI 1.6) keeps the port in a signed 16-bit value: `-h host:45123` fails with
 * "hostname invalid". A BMC it talks to therefore listens on a free port below 32768 (bounded search).
 */
export async function freeUdpPortBelow32768(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 10_000 + Math.floor(Math.random() * 22_000);
    const s = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(candidate, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (ok) return candidate;
  }
  throw new Error('no free UDP port below 32768 on 127.0.0.1');
}

export async function startAgent(env: Record<string, string> = {}, opts: { stateDir?: string; timeoutMs?: number } = {}): Promise<RunningAgent> {
  if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run "npm run build:agent" first`);
  const port = env.IPMI_PORT ? Number(env.IPMI_PORT) : await freeUdpPort();
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'bmcfleet-agent-'));
  const child = spawn(process.execPath, [AGENT_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      MACHINE: 'sim',
      IPMI_ADDRESS: '127.0.0.1',
      IPMI_PORT: String(port),
      BMC_STATE_DIR: stateDir,
      SIM_POWER_DELAY_MS: '50',
      // Off unless a test asks for it: the container default (443) is neither free nor allowed here.
      REDFISH_PORT: 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = Date.now();
  while (!out.includes('"BMC listening"')) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode} before listening:\n${out}`);
    if (Date.now() - started > timeoutMs) { child.kill('SIGKILL'); throw new Error(`agent did not start within ${timeoutMs} ms:\n${out}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopped = false;
  return {
    port,
    stateDir,
    pid: child.pid!,
    process: child,
    output: () => out,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Real clients for integration tests. When one is missing, the test is skipped with a loud message
 * on a developer machine, and fails under CI=true (CI must have every client; scripts/setup.sh installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Returns `describe` or, for a missing tool outside CI, `describe.skip` after printing why. */
export function describeWithTools(tools: string[]): jest.Describe {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return describe;
  const msg = `MISSING CLIENT(S) ${missing.join(', ')}: integration tests that need them are SKIPPED. Run scripts/setup.sh to install them.`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

export interface RunResult { readonly status: number | null; readonly stdout: string; readonly stderr: string; readonly ms: number }

/** Runs a client with a hard time limit (every loop and call in the tests is bounded). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, input: opts.input, env: opts.env ?? process.env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - started };
}

export function ipmitoolArgs(port: number, extra: string[], opts: { user?: string; password?: string; iface?: string } = {}): string[] {
  return ['-I', opts.iface ?? 'lanplus', '-H', '127.0.0.1', '-p', String(port), '-U', opts.user ?? 'admin', '-P', opts.password ?? 'password', ...extra];
}

export { execFileSync };

/** Bundles the web UI (npm run build:web) once per test file that opens it in a browser. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './orchestrator-process';

export function buildWebUi(): void {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-web.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`building the web UI failed:\n${result.stdout}${result.stderr}`);
}

/**
 * Where the CPU time goes: V8 CPU profiles (the .cpuprofile format written by `node --cpu-prof`
 * and by the inspector's Profiler domain) reduced to self time per function and per file.
 */
import { Session } from 'node:inspector';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTimeRow {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time, 0..100. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly functions: SelfTimeRow[];
  readonly files: SelfTimeRow[];
}

/** Makes a script URL short: paths inside the repository relative to it, node internals as is. */
export function shortUrl(url: string, repoRoot?: string): string {
  if (!url) return '(native)';
  let u = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  if (repoRoot && u.startsWith(repoRoot + '/')) u = u.slice(repoRoot.length + 1);
  return u;
}

/** Self time per function and per file, from the samples (time deltas) when present, else hit counts. */
export function summarizeProfile(p: CpuProfile, opts: { top?: number; repoRoot?: string } = {}): ProfileSummary {
  const top = opts.top ?? 12;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    // timeDeltas[i] is the time before sample i; attribute it to sample i's node.
    for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + Math.max(0, p.timeDeltas[i]!));
  } else {
    const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
    const per = hits > 0 ? (p.endTime - p.startTime) / hits : 0;
    for (const n of p.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }
  let totalUs = 0;
  let idleUs = 0;
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') { idleUs += us; continue; }
    const where = shortUrl(url, opts.repoRoot);
    const special = functionName.startsWith('(') && !url;
    const fnKey = special ? functionName : `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(fnKey, (fn.get(fnKey) ?? 0) + us);
    const fileKey = special ? functionName : where;
    file.set(fileKey, (file.get(fileKey) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rows = (m: Map<string, number>): SelfTimeRow[] => [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, percent: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, functions: rows(fn), files: rows(file) };
}

/** Reads the one .cpuprofile a `node --cpu-prof --cpu-prof-dir=dir` process wrote. */
export function readProfileDir(dir: string): CpuProfile | undefined {
  const f = readdirSync(dir).find((n) => n.endsWith('.cpuprofile'));
  return f ? (JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile) : undefined;
}

/** Profiles this process (the client side) while `work` runs. */
export async function profileThisProcess<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object): Promise<R> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as R))));
  try {
    await post('Profiler.enable');
    await post('Profiler.start');
    let result: T;
    try {
      result = await work();
    } catch (err) {
      await post('Profiler.stop').catch(() => undefined);
      throw err;
    }
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

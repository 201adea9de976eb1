/**
 * The virtual-media part of `npm run bench`: how long Redfish `#VirtualMedia.InsertMedia` takes to
 * return on a running MACHINE=qemu agent (TCG, directly on this host), for a 600 MiB ISO and for a
 * small one, both served over HTTP by the bench itself (sparse files with byte ranges). The insert
 * returns once QEMU has the medium attached through its curl block driver, which reads the image in
 * place: the time must not grow with the image's size (target: under 1 s). Also counted: the bytes
 * the image server sent during the inserts.
 *
 * Everything is on 127.0.0.1, bounded in time, and every process and directory made here is removed
 * at the end, also on failure. Skipped (and said so) without qemu-system-x86_64 or the curl driver.
 */
import { closeSync, existsSync, openSync, readFileSync, ftruncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freeUdpPort, ProcessGroup } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { summarize, type Summary } from './stats';

export const VIRTUAL_MEDIA_OPTIONS_HELP = ['--vmedia-runs N    InsertMedia calls per image size in the virtual-media part (default 10; 0 skips it)'];
export const DEFAULT_VMEDIA_RUNS = 10;
export const VMEDIA_HEADING = '## Virtual media: InsertMedia of an ISO over HTTP';
export const INSERT_TARGET_MS = 1_000;
const LARGE_BYTES = 600 * 1024 * 1024;
const SMALL_BYTES = 4 * 1024 * 1024;
const CURL_MODULE = '/usr/lib/x86_64-linux-gnu/qemu/block-curl.so';
const START_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 30_000;
const CD = '/redfish/v1/Managers/1/VirtualMedia/Cd';

export interface VirtualMediaReport {
  readonly skipped?: string;
  readonly runs: number;
  readonly small?: Summary;
  readonly large?: Summary;
  readonly smallBytes: number;
  readonly largeBytes: number;
  /** Bytes the image server sent during all inserts of each size. */
  readonly bytesServed?: { readonly small: number; readonly large: number };
  readonly failures: readonly string[];
  readonly durationS: number;
  readonly date: Date;
  /** 1-minute load average at the start and at the end. */
  readonly load: readonly [number, number];
}

interface ImageServer { readonly url: (name: string) => string; readonly served: Map<string, number>; readonly server: Server }

async function serveImages(files: Record<string, string>): Promise<ImageServer> {
  const served = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    const path = files[name];
    if (!path) { res.writeHead(404); res.end(); return; }
    const size = name.startsWith('large') ? LARGE_BYTES : SMALL_BYTES;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(range ? 206 : 200, { 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1, ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}) });
    if (req.method === 'HEAD') { res.end(); return; }
    served.set(name, (served.get(name) ?? 0) + end - start + 1);
    // Sparse files: zeros, sent without reading the disk.
    res.end(Buffer.alloc(end - start + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: (name) => `http://127.0.0.1:${port}/${name}`, served, server };
}

async function freeTcpPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function sparseFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try { ftruncateSync(fd, bytes); } finally { closeSync(fd); }
}

function redfish(port: number, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Authorization: `Basic ${Buffer.from(`${BENCH_USER}:${BENCH_PASSWORD}`).toString('base64')}` };
  if (payload !== undefined) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = String(Buffer.byteLength(payload)); }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, ca, agent: false, timeout: CALL_TIMEOUT_MS }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${CALL_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runVirtualMediaBench(o: { runs: number; agentMain: string; progress: (msg: string) => void; deadline: number }): Promise<VirtualMediaReport> {
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  const base = { runs: o.runs, smallBytes: SMALL_BYTES, largeBytes: LARGE_BYTES, failures: [] as string[] };
  const done = (extra: Partial<VirtualMediaReport>): VirtualMediaReport => ({ ...base, ...extra, durationS: (Date.now() - started) / 1000, date: new Date(started), load: [loadAtStart, loadavg()[0]!] });
  if (o.runs === 0) return done({ skipped: '--vmedia-runs 0' });
  if (!findExecutable('qemu-system-x86_64')) return done({ skipped: 'qemu-system-x86_64 is not installed (bash scripts/setup.sh installs it)' });
  if (!existsSync(CURL_MODULE)) return done({ skipped: `QEMU's curl block driver (${CURL_MODULE}, Debian package qemu-block-extra) is not installed` });
  if (!existsSync(o.agentMain)) return done({ skipped: `${o.agentMain} is missing: run "npm run build:agent" first` });

  const group = new ProcessGroup();
  let images: ImageServer | undefined;
  try {
    const dir = group.tempDir('bmcfleet-bench-vmedia-');
    sparseFile(join(dir, 'large.iso'), LARGE_BYTES);
    sparseFile(join(dir, 'small.iso'), SMALL_BYTES);
    images = await serveImages({ 'large.iso': join(dir, 'large.iso'), 'small.iso': join(dir, 'small.iso') });
    const redfishPort = await freeTcpPort();
    const stateDir = join(dir, 'bmc');
    const child = group.spawn(process.execPath, [o.agentMain], {
      env: {
        PATH: process.env.PATH ?? '', MACHINE: 'qemu', ENABLE_KVM: 'false', VM_MEMORY: '256', VM_CPUS: '1',
        VM_DISK: join(dir, 'disk.qcow2'), VM_DISK_SIZE: '64M', VNC_PORT: 'none',
        IPMI_ADDRESS: '127.0.0.1', IPMI_PORT: String(await freeUdpPort()), IPMI_USER: BENCH_USER, IPMI_PASS: BENCH_PASSWORD,
        REDFISH_PORT: String(redfishPort), BMC_STATE_DIR: stateDir, NODE_NAME: 'bench-vmedia',
      },
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    await waitFor('the agent did not say "Redfish listening"', () => output.includes('"Redfish listening"') || child.exitCode !== null, START_TIMEOUT_MS);
    if (child.exitCode !== null) throw new Error(`the agent exited: ${output.slice(-2000)}`);
    const ca = readFileSync(join(stateDir, 'redfish-cert.pem'), 'utf8');
    const call = (method: string, path: string, body?: unknown) => redfish(redfishPort, ca, method, path, body);

    o.progress('virtual media: powering on a MACHINE=qemu agent (TCG)');
    const on = await call('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' });
    if (on.status !== 204) throw new Error(`power on: ${on.status} ${on.text}`);
    await waitFor('the system did not power on', async () => /"PowerState":"On"/.test((await call('GET', '/redfish/v1/Systems/1')).text), START_TIMEOUT_MS);

    const times: Record<'small' | 'large', number[]> = { small: [], large: [] };
    const servedBefore = new Map(images.served);
    for (let i = 0; i < o.runs && Date.now() < o.deadline; i++) {
      // Alternating order, so that neither size always comes first.
      for (const size of (i % 2 === 0 ? ['large', 'small'] : ['small', 'large']) as Array<'small' | 'large'>) {
        const t0 = process.hrtime.bigint();
        const r = await call('POST', `${CD}/Actions/VirtualMedia.InsertMedia`, { Image: images.url(`${size}.iso`) });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 204) { base.failures.push(`${size}: ${r.status} ${r.text.slice(0, 300)}`); continue; }
        times[size].push(ms);
        const eject = await call('POST', `${CD}/Actions/VirtualMedia.EjectMedia`);
        if (eject.status !== 204) base.failures.push(`eject: ${eject.status} ${eject.text.slice(0, 300)}`);
      }
    }
    const bytes = (name: string): number => (images!.served.get(name) ?? 0) - (servedBefore.get(name) ?? 0);
    o.progress(`  InsertMedia median: 600 MiB ${summarize(times.large).median.toFixed(1)} ms, 4 MiB ${summarize(times.small).median.toFixed(1)} ms`);
    return done({
      ...(times.small.length > 0 ? { small: summarize(times.small) } : {}),
      ...(times.large.length > 0 ? { large: summarize(times.large) } : {}),
      bytesServed: { small: bytes('small.iso'), large: bytes('large.iso') },
    });
  } catch (err) {
    base.failures.push((err as Error).message.split('\n')[0]!);
    return done({});
  } finally {
    if (images) { images.server.closeAllConnections(); await new Promise((r) => images!.server.close(r)); }
    await group.stopAll();
  }
}

const ms = (x: number | undefined): string => (x === undefined ? '?' : `${x.toFixed(1)} ms`);
const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(b < 1024 * 1024 ? 3 : 0)} MiB`;

export function renderVirtualMedia(r: VirtualMediaReport): string {
  const lines = [VMEDIA_HEADING, ''];
  if (r.skipped) return [...lines, `Skipped: ${r.skipped}.`, ''].join('\n');
  const met = r.large !== undefined && r.large.median < INSERT_TARGET_MS;
  lines.push(
    `Redfish \`#VirtualMedia.InsertMedia\` on a running MACHINE=qemu agent on this host (TCG, powered on, no guest OS needed),`,
    `each call timed from the POST to its 204, which comes once QEMU has the medium attached (QMP blockdev-add of a curl`,
    `node, blockdev-insert-medium); then EjectMedia. Images: sparse files served over HTTP on 127.0.0.1 by the bench,`,
    `with byte ranges. ${r.runs} inserts per size, sizes alternating. \`npm run bench -- --vmedia-runs N\` sets the count`,
    `(0 skips this part); \`npm run bench -- --only-vmedia\` measures only this part and rewrites only this section. This one:`,
    `${r.date.toISOString()}, ${r.durationS.toFixed(0)} s, 1-minute load average ${r.load[0].toFixed(2)} at the start and ${r.load[1].toFixed(2)} at the end (on 2 cores).`,
    '',
    `- **InsertMedia of a 600 MiB ISO returns in under ${INSERT_TARGET_MS} ms, independent of the size** (medians): ${ms(r.large?.median)} for 600 MiB against ${ms(r.small?.median)} for 4 MiB — ${met ? 'met' : '**not met**'}.`,
    '',
    '| image | inserts | median | p90 | max | bytes served during the inserts |',
    '|---|---|---|---|---|---|',
    `| ${mib(r.largeBytes)} | ${r.large?.count ?? 0} | ${ms(r.large?.median)} | ${ms(r.large?.p90)} | ${ms(r.large?.max)} | ${r.bytesServed ? mib(r.bytesServed.large) : '?'} |`,
    `| ${mib(r.smallBytes)} | ${r.small?.count ?? 0} | ${ms(r.small?.median)} | ${ms(r.small?.p90)} | ${ms(r.small?.max)} | ${r.bytesServed ? mib(r.bytesServed.small) : '?'} |`,
    '',
    'The bytes served are everything the image server sent while the inserts ran: QEMU reads the image by range, in place,',
    'as the guest asks for it; nothing is copied before the answer.',
  );
  if (r.failures.length > 0) lines.push('', `Failures: ${r.failures.join('; ')}.`);
  lines.push('');
  return lines.join('\n');
}

/** The document with the virtual-media section replaced (or inserted before "## Reproduce"). */
export function replaceVirtualMediaSection(doc: string, section: string, insertBeforeReproduce: (doc: string, section: string) => string): string {
  const at = doc.indexOf(`\n${VMEDIA_HEADING}\n`);
  if (at < 0) return insertBeforeReproduce(doc, section);
  const next = doc.indexOf('\n## ', at + 1 + VMEDIA_HEADING.length);
  return `${doc.slice(0, at + 1)}${section.replace(/\n*$/, '\n\n')}${next < 0 ? '' : doc.slice(next + 1)}`;
}

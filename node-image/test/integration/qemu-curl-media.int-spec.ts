/**
 * The QEMU sandbox does not get in the way of media by URL: QEMU started with the agent's own
 * command line (buildQemuArgs, so with -sandbox and every sub-option denied) through the agent's
 * child-process adapter, its CD-ROM drive backed by QEMU's curl block driver (Debian package
 * qemu-block-extra) on an http:// URL served by this test (with byte ranges, as the driver needs),
 * boots the test guest (BIOS) to its READY marker on the serial port. Needs qemu-system-x86_64,
 * qemu-block-extra and the test guest (scripts/build-test-guest.sh); skipped loudly without them,
 * failing under CI=true.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { SupervisedProcess } from '../../src/exec/child-process';
import { buildQemuArgs, QEMU_IDS, QEMU_SANDBOX, resolveBoot } from '../../src/machine/qemu-args';
import { QEMU_CONFIG_DEFAULTS } from '../../src/machine/qemu-config';
import { QmpClient } from '../../src/machine/qmp-client';
import { SerialEndpoint } from '../../src/machine/serial-endpoint';
import { describeWithTools } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const GUEST_ISO = join(REPO_ROOT, '.cache', 'test-guest', 'guest.iso');
const CURL_MODULE = '/usr/lib/x86_64-linux-gnu/qemu/block-curl.so';
const BOOT_TIMEOUT_MS = 150_000;

function describeWithCurlDriver(): jest.Describe {
  if (existsSync(CURL_MODULE)) return describeWithTools(['qemu-system-x86_64']);
  const msg = `QEMU's curl block driver (${CURL_MODULE}, Debian package qemu-block-extra) is missing: the media-by-URL sandbox test is SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

/** Serves one file over HTTP with Range support (QEMU's curl driver reads by byte ranges). */
function serveFile(path: string): Promise<Server> {
  const size = statSync(path).size;
  const server = createServer((req, res) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') res.end(); else createReadStream(path).pipe(res);
      return;
    }
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
    createReadStream(path, { start, end }).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describeWithCurlDriver()('QEMU sandbox with an ISO by URL (curl block driver)', () => {
  let dir: string;
  let server: Server | undefined;
  let qemu: SupervisedProcess | undefined;
  let serial: SerialEndpoint | undefined;
  let qmp: QmpClient | undefined;

  beforeAll(() => {
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-test-guest.sh')], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
  }, 310_000);
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qemu-curl-int-')); });
  afterEach(async () => {
    await qmp?.close();
    await qemu?.kill(5_000);
    await serial?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots the test guest from an http:// CD-ROM under -sandbox', async () => {
    server = await serveFile(GUEST_ISO);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/guest.iso`;
    serial = await SerialEndpoint.listen(join(dir, 'serial.sock'));
    let console = '';
    serial.on('data', (d) => { console += d.toString('latin1'); });
    const config = { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 512, cpus: 1, disk: join(dir, 'disk.raw'), vncPort: undefined, kvm: 'off' as const };
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', config.disk, '16M']);
    const args = buildQemuArgs({
      config, boot: resolveBoot({ device: 'cdrom' }, config), accel: 'tcg', diskFormat: 'raw',
      paths: { qmpSocket: join(dir, 'qmp.sock'), serialSocket: serial.path, ovmfCode: '', ovmfVars: '' },
    });
    expect(args[args.indexOf('-sandbox') + 1]).toBe(QEMU_SANDBOX);
    // The empty drive of the agent's command line, backed by the URL instead.
    const drive = args.indexOf(`if=none,id=${QEMU_IDS.cdromDrive},media=cdrom,readonly=on`);
    expect(drive).toBeGreaterThan(0);
    args[drive] = `${args[drive]},file.driver=http,file.url=${url}`;

    qemu = await SupervisedProcess.start('qemu-system-x86_64', args, {});
    for (let attempt = 0; !qmp; attempt++) {
      try {
        qmp = await QmpClient.connect(join(dir, 'qmp.sock'));
      } catch (err) {
        if (!qemu.alive || attempt > 300) throw new Error(`QEMU did not come up: ${qemu.stderrTail() || (err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await qmp.execute('cont');
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!/BMCFLEET-GUEST-READY firmware=bios bootdev=cdrom/.test(console)) {
      if (!qemu.alive) throw new Error(`QEMU exited: ${qemu.stderrTail()}`);
      if (Date.now() > deadline) throw new Error(`the guest did not get ready; serial:\n${console.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(qemu.stderrTail()).toBe('');
  }, BOOT_TIMEOUT_MS + 30_000);
});

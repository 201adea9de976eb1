/**
 * VNC of the real QEMU (TCG, no guest OS) as the QEMU machine starts it, checked with a real RFB
 * handshake (test/support/rfb-client.ts): with VNC_PASSWORD only that password gets in, also after
 * QEMU was started again, and the password is not on QEMU's command line; without VNC_PASSWORD, VNC
 * listens on 127.0.0.1 only. (That other containers cannot reach it is shown end to end in
 * node-image/test/e2e/vnc.e2e-spec.ts.) Needs qemu-system-x86_64 and qemu-img; skipped loudly
 * without them, failing under CI=true.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU_CONFIG_DEFAULTS } from '../../src/machine/qemu-config';
import { QemuMachine } from '../../src/machine/qemu-machine';
import { rfbHandshake, SECURITY_NONE, SECURITY_VNC_AUTH, vncAuthResponse } from '../support/rfb-client';
import { describeWithTools } from '../support/tools';

jest.setTimeout(60_000);

describe('vncAuthResponse (the test client\'s DES)', () => {
  it('is DES-ECB under the bit-reversed password bytes (FIPS 81 known answer: key 0123456789abcdef, "Now is t")', () => {
    // Bytes whose bit-reversal is 01 23 45 67 89 ab cd ef.
    const password = Buffer.from('80c4a2e691d5b3f7', 'hex');
    const challenge = Buffer.from('Now is tNow is t', 'latin1');
    expect(vncAuthResponse(challenge, password).toString('hex')).toBe('3fa40e8a984d4815'.repeat(2));
  });
});

/** A TCP port from 5900 + 2000..2999 that nothing listens on (VNC display = port - 5900). */
async function freeVncPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 5900 + 2000 + Math.floor(Math.random() * 1000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port for VNC in 7900..8899');
}

/** Local IPv4 addresses (hex as in /proc/net/tcp) listening on `port`. */
function listenersOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
    .map((f) => f[1]!.split(':')[0]!);
}

/** The command line of every process whose arguments mention `marker`. */
function commandLinesWith(marker: string): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(marker)) lines.push(cmdline);
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

describeWithTools(['qemu-system-x86_64', 'qemu-img'])('VNC of the real QEMU (TCG)', () => {
  let dir: string;
  let machine: QemuMachine | undefined;

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qemu-vnc-int-')); });
  afterEach(async () => {
    await machine?.close();
    machine = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(vncPort: number, vncPassword: string | undefined): QemuMachine {
    machine = new QemuMachine({
      boot: { takeNextBoot: () => ({ device: 'default' }) },
      config: { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 128, cpus: 1, disk: join(dir, 'disk.qcow2'), diskSizeBytes: 16 * 1024 ** 2, kvm: 'off', vncPort, vncPassword },
      runDir: join(dir, 'run'),
      name: `vnc-int-${vncPort}`,
    });
    return machine;
  }

  it('with VNC_PASSWORD: the right password gets in, a wrong one and no authentication do not, after a restart too', async () => {
    const port = await freeVncPort();
    const password = 'Vn9 pw!';
    const sut = setup(port, password);
    await sut.power('on');

    expect(commandLinesWith(`vnc-int-${port}`).length).toBeGreaterThan(0);
    expect(commandLinesWith(password)).toEqual([]);
    expect(listenersOn(port)).toEqual(['00000000']); // every interface

    const right = await rfbHandshake({ host: '127.0.0.1', port, password });
    expect(right).toMatchObject({ result: 'ok', securityTypes: [SECURITY_VNC_AUTH], desktopName: `QEMU (vnc-int-${port})` });
    const wrong = await rfbHandshake({ host: '127.0.0.1', port, password: 'Vn9 pw?' });
    expect(wrong.result).toBe('refused');
    expect(await rfbHandshake({ host: '127.0.0.1', port })).toMatchObject({ result: 'no-common-type', securityTypes: [SECURITY_VNC_AUTH] });

    // A new QEMU process (power cycle) gets the password again.
    await sut.power('cycle');
    expect(await rfbHandshake({ host: '127.0.0.1', port, password })).toMatchObject({ result: 'ok' });
    expect((await rfbHandshake({ host: '127.0.0.1', port, password: 'nope' })).result).toBe('refused');
  });

  it('without VNC_PASSWORD: VNC listens on 127.0.0.1 only (for a console inside the container)', async () => {
    const port = await freeVncPort();
    const sut = setup(port, undefined);
    await sut.power('on');
    expect(listenersOn(port)).toEqual(['0100007F']); // 127.0.0.1, nothing else
    expect(await rfbHandshake({ host: '127.0.0.1', port })).toMatchObject({ result: 'ok', securityTypes: [SECURITY_NONE] });
  });
});

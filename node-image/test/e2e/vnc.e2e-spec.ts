/**
 * VNC and the QEMU sandbox in real node containers, reached the way another container on the same
 * Docker network reaches them (the container's own address on the bridge), with a real RFB
 * handshake (test/support/rfb-client.ts):
 * - VNC_PASSWORD set: VNC answers on the container's address and only the right password gets in;
 *   the password is not in any process's command line in the container;
 * - VNC_PASSWORD unset: nothing answers on the container's address (VNC is on 127.0.0.1 inside).
 * Both nodes run QEMU with -sandbox on and every sub-option denied and power on from a fresh /vm (the
 * disk is made by qemu-img through the agent's child-process adapter). Boots, resets and SOL under
 * the sandbox are what the other e2e specs (boot, boot-override, nvram, network) exercise.
 */
import { rfbHandshake, SECURITY_VNC_AUTH } from '../support/rfb-client';
import { BOOT_TIMEOUT_MS, checkPrerequisites, describeE2e, dockerOk, E2eFleet, type NodeContainer, withNodeLogs } from './node-container';

const PASSWORD = 'e2e-Vn9!';
const SANDBOX = '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

async function containerAddress(node: NodeContainer): Promise<string> {
  const address = await node.inspect('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}');
  const first = address.split(' ').find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (!first) throw new Error(`${node.name} has no IPv4 address on a Docker network: "${address}"`);
  return first;
}

/** Every process's arguments in the container, one line each (docker top). */
async function processArgs(node: NodeContainer): Promise<string> {
  return dockerOk(['top', node.id, '-eo', 'pid,args']);
}

/** Local IPv4 addresses (hex, as in /proc/net/tcp) listening on TCP `port` inside the container. */
async function listenersInside(node: NodeContainer, port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return (await dockerOk(['exec', node.id, 'cat', '/proc/net/tcp'])).split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
    .map((f) => f[1]!.split(':')[0]!);
}

describeE2e('node container: VNC with a password on the network, without one on loopback only; QEMU sandboxed', () => {
  const fleet = new E2eFleet('vnc');
  let withPassword: NodeContainer;
  let withoutPassword: NodeContainer;

  beforeAll(async () => {
    await checkPrerequisites();
    [withPassword, withoutPassword] = await Promise.all([
      fleet.start({ env: { VNC_PORT: '5900', VNC_PASSWORD: PASSWORD } }),
      fleet.start({ env: { VNC_PORT: '5900' } }),
    ]);
    await Promise.all([withPassword.ipmiOk(['power', 'on']), withoutPassword.ipmiOk(['power', 'on'])]);
    // The BMC answers Chassis Control at once and powers on meanwhile: 'on' once QEMU runs (VNC is up).
    for (const node of [withPassword, withoutPassword]) {
      if (await node.waitForPower('on', BOOT_TIMEOUT_MS) !== 'on') throw new Error(`${node.name} did not power on:\n${await node.logs()}`);
    }
  }, 2 * BOOT_TIMEOUT_MS);
  afterAll(() => fleet.cleanup());

  it('VNC_PASSWORD: only the right password gets in from another address, and the password is on no command line', async () => {
    await withNodeLogs(withPassword, async () => {
      const host = await containerAddress(withPassword);
      expect(await listenersInside(withPassword, 5900)).toEqual(['00000000']);
      expect(await rfbHandshake({ host, port: 5900, password: PASSWORD })).toMatchObject({ result: 'ok', securityTypes: [SECURITY_VNC_AUTH] });
      expect((await rfbHandshake({ host, port: 5900, password: 'e2e-Vn9?' })).result).toBe('refused');
      expect((await rfbHandshake({ host, port: 5900 })).result).toBe('no-common-type');
      const args = await processArgs(withPassword);
      expect(args).toContain(SANDBOX);
      expect(args).toContain(':0,password=on');
      expect(args).not.toContain(PASSWORD);
      expect(await withPassword.logs()).not.toContain(PASSWORD);
    });
  });

  it('no VNC_PASSWORD: the container\'s address refuses VNC connections', async () => {
    await withNodeLogs(withoutPassword, async () => {
      const host = await containerAddress(withoutPassword);
      // QEMU's VNC is up, on loopback only: the refusal below is the binding, not a VNC still starting.
      expect(await listenersInside(withoutPassword, 5900)).toEqual(['0100007F']);
      await expect(rfbHandshake({ host, port: 5900, timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const args = await processArgs(withoutPassword);
      expect(args).toContain(SANDBOX);
      expect(args).toContain('-vnc 127.0.0.1:0');
    });
  });
});

/**
 * VNC and the QEMU sandbox in real node containers, reached the way another container on the same
 * Docker network reaches them (the container's own address on the bridge), with a real RFB
 * handshake (test/support/rfb-client.ts):
 * - VNC_PASSWORD set: VNC answers on the container's address and only the right password gets in;
 *   the password is not in any process's command line in the container;
 * - VNC_PASSWORD unset: nothing answers on the container's address (VNC is on 127.0.0.1 inside).
 * Both nodes run QEMU with -sandbox on and every sub-option denied, power on from a fresh /vm (the
 * disk is made by qemu-img through the agent's child-process adapter) and boot the test guest, also
 * after a reset.
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
  return dockerOk(['top', node.id, '-eo', 'args']);
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
  });
  afterAll(() => fleet.cleanup());

  it('VNC_PASSWORD: only the right password gets in from another address, and the password is on no command line', async () => {
    await withNodeLogs(withPassword, async () => {
      const host = await containerAddress(withPassword);
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
      await expect(rfbHandshake({ host, port: 5900, timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const args = await processArgs(withoutPassword);
      expect(args).toContain(SANDBOX);
      expect(args).toContain('-vnc 127.0.0.1:0');
    });
  });

  it('the sandboxed QEMU boots the guest again after a reset (SOL shows the guest ready)', async () => {
    await withNodeLogs(withPassword, async () => {
      const sol = await withPassword.sol();
      const mark = sol.mark();
      await withPassword.ipmiOk(['power', 'reset']);
      await sol.ready('the test guest after a reset under -sandbox', mark);
      await withPassword.closeConsoles();
    });
  }, BOOT_TIMEOUT_MS + 60_000);
});

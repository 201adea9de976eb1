/**
 * Ironic's redfish-virtual-media boot replayed with sushy (Debian's python3-sushy, as Ironic uses it)
 * on a QEMU node container (TCG) with no CD of its own: the test guest's ISO is served over HTTP
 * from another container; sushy ejects every CD, inserts the ISO by URL, sets boot device Cd once
 * and powers on, and the guest's READY marker comes on SOL (booted from the CD). The next boot
 * (Ironic's reboot: ForceOff, On, a new QEMU) starts from the disk again, the Once override consumed,
 * and falls through to the CD, still attached.
 * Ironic's clean-up then ejects the CD at both Redfish paths. The same ISO (a hybrid image) as the
 * UsbStick medium with boot device Usb once boots from the stick (the first BIOS disk), and the next
 * boot starts from the node's empty disk again. TLS is verified against the node's generated
 * certificate throughout.
 */
import { join } from 'node:path';
import { runAsync } from '../support/ipmitool-runner';
import { freeTcpPort, redfishCall, type RedfishAgent } from '../support/redfish-http';
import { run } from '../support/tools';
import { readFileSync } from 'node:fs';
import {
  BOOT_TIMEOUT_MS, checkPrerequisites, describeE2e, docker, dockerOk, E2eFleet, GUEST_DIR, NODE_IMAGE,
  STEP_TIMEOUT_MS, TEST_LABEL, withNodeLogs,
} from './node-container';

const SUSHY_VMEDIA = join(__dirname, '..', 'support', 'ironic-vmedia-sushy.py');
const SUSHY_MEDIA = join(__dirname, '..', 'support', 'vmedia-sushy.py');
const ISO_SERVER_DIR = join(__dirname, 'iso-server');
const ISO_SERVER_PORT = 8080;
const ADMIN = { user: 'admin', password: 'password' };

function describeWithSushy(): jest.Describe {
  const ok = run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0;
  if (ok) return describeE2e;
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): the virtual media end-to-end test is SKIPPED. Run scripts/setup.sh.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

async function waitForLog(what: string, read: () => Promise<string>, pattern: string, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await read();
    if (text.includes(pattern)) return;
    if (Date.now() > deadline) throw new Error(`${what}: "${pattern}" did not appear within ${timeoutMs} ms:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeWithSushy()('Redfish virtual media on a QEMU node: Ironic\'s flow with sushy', () => {
  const fleet = new E2eFleet('vmedia');

  beforeAll(() => checkPrerequisites());
  afterAll(() => fleet.cleanup());

  /** The image server: another container (the node image's Node.js), on Docker's default bridge. */
  async function startIsoServer(): Promise<{ server: string; iso: string }> {
    const server = (await dockerOk([
      'run', '-d', '--label', TEST_LABEL, '--label', fleet.runLabel, '--entrypoint', '/usr/local/bin/node',
      '-v', `${GUEST_DIR}:/srv/iso:ro`, '-v', `${ISO_SERVER_DIR}:/srv/bin:ro`,
      NODE_IMAGE, '/srv/bin/static-iso-server.js', '/srv/iso', String(ISO_SERVER_PORT),
    ])).trim();
    await waitForLog('ISO server', async () => (await docker(['logs', server])).stdout, `listening on ${ISO_SERVER_PORT}`);
    const serverIp = (await dockerOk(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', server])).trim();
    return { server, iso: `http://${serverIp}:${ISO_SERVER_PORT}/guest.iso` };
  }

  it('eject all, insert the ISO by URL, Cd once, On: the guest boots from the virtual CD; the next boot does not', async () => {
    const { server, iso } = await startIsoServer();

    const redfishPort = await freeTcpPort();
    const node = await fleet.start({
      env: { VM_CDROM: undefined, REDFISH_PORT: String(redfishPort) },
      extraArgs: ['-p', `127.0.0.1:${redfishPort}:${redfishPort}/tcp`],
    });
    await withNodeLogs(node, async () => {
      await waitForLog(node.name, () => node.logs(), '"Redfish listening"');
      const caFile = join(node.vmDir, 'bmc', 'redfish-cert.pem');
      const rf = { redfishPort, caFile, ca: readFileSync(caFile, 'utf8') } as RedfishAgent;
      const call = (method: string, path: string) => redfishCall(rf, method, path, { auth: ADMIN });
      const sushy = async (phase: string, ...extra: string[]): Promise<Record<string, unknown>> => {
        const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_VMEDIA, `https://127.0.0.1:${redfishPort}`, caFile, ADMIN.user, ADMIN.password, phase, ...extra], { timeoutMs: 120_000 });
        if (r.status !== 0) throw new Error(`sushy ${phase} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      };
      let sol = await node.sol();

      // prepare_ramdisk, then the conductor's power-on.
      let from = sol.mark();
      expect(await sushy('deploy', iso)).toMatchObject({
        managers: ['1'], off: true, transfer_protocols: ['HTTP', 'HTTPS'], ejected: [],
        inserted: ['Cd', iso, true, true], boot: ['Cd', 'Once'], on: true,
      });
      expect(await sol.ready('boot from the virtual CD', from)).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      expect(sol.text(from)).toMatch(/Booting from DVD\/CD/);
      const cd = (await call('GET', '/redfish/v1/Systems/1/VirtualMedia/Cd')).body;
      expect(cd).toMatchObject({ Image: iso, Inserted: true, ConnectedVia: 'URI' });
      expect((await call('GET', '/redfish/v1/Systems/1')).body.Boot.BootSourceOverrideEnabled).toBe('Disabled');
      // The image was read in place: ranges, never the whole file.
      const served = (await docker(['logs', server])).stdout;
      expect(served).toMatch(/GET guest\.iso \d+-\d+/);
      expect(served).not.toMatch(/GET guest\.iso whole/);

      // Ironic's reboot: a new QEMU, the medium still attached, and the firmware starts from the disk.
      // (A fresh SOL session for it: the one client need not stay up through every boot on a loaded machine.)
      expect(await sol.quit('~.')).toEqual({ code: 0, signal: null });
      sol = await node.sol();
      from = sol.mark();
      expect(await sushy('reboot')).toMatchObject({ off: true, on: true, boot_after: ['None', 'Disabled'] });
      const disk = await sol.expect(/Booting from (Hard Disk|DVD\/CD)/, 'the first boot device after the reboot', { from, timeoutMs: BOOT_TIMEOUT_MS });
      expect(disk[1]).toBe('Hard Disk');
      // The empty disk does not boot; the firmware goes on to the CD, still inserted in this new QEMU:
      // GRUB comes from the image by URL again (the kernel boot after it is the first boot's, above).
      await sol.expect(/grub: root=\S+ bootdev=cdrom/, 'GRUB from the virtual CD after the reboot', { from, timeoutMs: BOOT_TIMEOUT_MS });

      // clean_up_ramdisk: power off, eject every CD; both paths read it back.
      expect(await sushy('cleanup')).toMatchObject({ off: true, ejected: ['Cd'], inserted_after: [false] });
      for (const path of ['/redfish/v1/Systems/1/VirtualMedia/Cd', '/redfish/v1/Managers/1/VirtualMedia/Cd']) {
        expect((await call('GET', path)).body).toMatchObject({ Image: null, Inserted: false, ConnectedVia: 'NotConnected' });
      }
    });
  });

  it('the ISO as the UsbStick medium, Usb once, On: the guest boots from the stick; the next boot is the disk again', async () => {
    const { iso } = await startIsoServer();
    const redfishPort = await freeTcpPort();
    const node = await fleet.start({
      env: { VM_CDROM: undefined, REDFISH_PORT: String(redfishPort) },
      extraArgs: ['-p', `127.0.0.1:${redfishPort}:${redfishPort}/tcp`],
    });
    await withNodeLogs(node, async () => {
      await waitForLog(node.name, () => node.logs(), '"Redfish listening"');
      const caFile = join(node.vmDir, 'bmc', 'redfish-cert.pem');
      const rf = { redfishPort, caFile, ca: readFileSync(caFile, 'utf8') } as RedfishAgent;
      const call = (method: string, path: string) => redfishCall(rf, method, path, { auth: ADMIN });
      const sushy = async (script: string, phase: string, ...extra: string[]): Promise<Record<string, unknown>> => {
        const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', script, `https://127.0.0.1:${redfishPort}`, caFile, ADMIN.user, ADMIN.password, phase, ...extra], { timeoutMs: 120_000 });
        if (r.status !== 0) throw new Error(`sushy ${phase} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      };
      let sol = await node.sol();

      let from = sol.mark();
      expect(await sushy(SUSHY_MEDIA, 'usb', iso)).toMatchObject({ off: true, inserted: ['UsbStick', iso, true], boot: ['Usb', 'Once'], on: true });
      // The stick is the first BIOS disk (hd0); the node's own disk is empty and boots nothing.
      expect(await sol.ready('boot from the virtual USB stick', from)).toMatchObject({ firmware: 'bios', bootdev: 'disk' });
      expect(sol.text(from)).toMatch(/grub: root=hd0 bootdev=disk/);
      expect((await call('GET', '/redfish/v1/Systems/1/VirtualMedia/UsbStick')).body).toMatchObject({ Image: iso, Inserted: true, ConnectedVia: 'URI' });
      expect((await call('GET', '/redfish/v1/Systems/1')).body.Boot).toMatchObject({ BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' });

      // The next boot (ForceOff, On: a new QEMU, the stick still in): the empty disk first, not the stick.
      expect(await sol.quit('~.')).toEqual({ code: 0, signal: null });
      sol = await node.sol();
      from = sol.mark();
      expect(await sushy(SUSHY_VMEDIA, 'reboot')).toMatchObject({ off: true, on: true, boot_after: ['None', 'Disabled'] });
      await sol.expect(/Booting from Hard Disk\.\.\.\s*Boot failed: not a bootable disk/, 'the boot from the empty disk after the Usb boot', { from, timeoutMs: BOOT_TIMEOUT_MS });
      expect(sol.text(from)).not.toMatch(/grub:/);
      expect((await call('GET', '/redfish/v1/Managers/1/VirtualMedia/UsbStick')).body).toMatchObject({ Image: iso, Inserted: true });
    });
  });
});

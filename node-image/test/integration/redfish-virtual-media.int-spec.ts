/**
 * Redfish virtual media of the agent on the host (MACHINE=sim, HTTPS on a free 127.0.0.1 port, its
 * generated certificate verified), with images served by this test over HTTP: Ironic's
 * redfish-virtual-media flow replayed with sushy (Debian's python3-sushy) until the simulated boot
 * banner on SOL names the image; insert, eject and PATCH at both the Manager and the System path;
 * a URL that 404s, one nobody answers, `file:` and other schemes, wrong JSON types — each a Redfish
 * 4xx naming the reason, with nothing inserted; every answer valid against DMTF's JSON Schema.
 * VerifyCertificate with sushy's own calls against an https image server with a self-signed
 * certificate: refused while the slot does not trust it, inserted once its certificate is added.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN } from '../support/agent-process';
import { describeWithTools, ipmitoolArgs, run } from '../support/tools';
import { runAsync, TerminalSession } from '../support/ipmitool-runner';
import { freeTcpPort, redfishCall, startRedfishAgent, type CallOptions, type RedfishAgent } from '../support/redfish-http';
import { expectRedfishValid } from '../support/redfish-schema';
import { startRangeFileServer, type RangeFileServer } from '../support/range-file-server';
import { generateSelfSigned } from '../../src/redfish/self-signed-certificate';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const SUSHY_VMEDIA = join(__dirname, '..', 'support', 'ironic-vmedia-sushy.py');
const SUSHY_MEDIA = join(__dirname, '..', 'support', 'vmedia-sushy.py');
const ADMIN = { user: 'admin', password: 'password' };
const MANAGER_CD = '/redfish/v1/Managers/1/VirtualMedia/Cd';
const SYSTEM_CD = '/redfish/v1/Systems/1/VirtualMedia/Cd';
const INSERT = (base: string): string => `${base}/Actions/VirtualMedia.InsertMedia`;
const EJECT = (base: string): string => `${base}/Actions/VirtualMedia.EjectMedia`;

jest.setTimeout(120_000);

function describeWithSushy(): jest.Describe {
  const ok = run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0;
  if (ok) return describeWithTools(['ipmitool', 'script']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): Redfish virtual media tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithSushy()('Redfish virtual media (MACHINE=sim)', () => {
  let rf: RedfishAgent;
  let images: RangeFileServer;
  let dir: string;
  const terminals: TerminalSession[] = [];
  const call = (method: string, path: string, opts: CallOptions = {}) => redfishCall(rf, method, path, { auth: ADMIN, ...opts });
  const errorId = (body: any): string => String(body?.error?.['@Message.ExtendedInfo']?.[0]?.MessageId ?? '').replace(/^Base\.\d+\.\d+\.\d+\./, '');
  // Asynchronous: the image server lives in this process and must answer while sushy runs.
  const sushy = async (phase: string, iso?: string): Promise<Record<string, unknown>> => {
    const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_VMEDIA, `https://127.0.0.1:${rf.redfishPort}`, rf.caFile, ADMIN.user, ADMIN.password, phase, ...(iso ? [iso] : [])], { timeoutMs: 90_000 });
    if (r.status !== 0) throw new Error(`sushy ${phase} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };
  const slot = async (path: string) => {
    const r = await call('GET', path);
    expect(r.status).toBe(200);
    await expectRedfishValid(r.body);
    return r.body;
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
    dir = mkdtempSync(join(tmpdir(), 'rf-vmedia-int-'));
    writeFileSync(join(dir, 'ramdisk.iso'), Buffer.alloc(64 * 1024, 0x42));
    images = await startRangeFileServer({ 'ramdisk.iso': join(dir, 'ramdisk.iso'), 'configdrive.img': join(dir, 'ramdisk.iso') });
    rf = await startRedfishAgent({ SIM_POWER_DELAY_MS: '50' });
  });
  afterEach(async () => { await Promise.all(terminals.splice(0).map((t) => t.kill())); });
  afterAll(async () => {
    await rf?.agent.stop();
    await images?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links and collections: the Manager and the System each list a Cd and a UsbStick slot', async () => {
    expect((await call('GET', '/redfish/v1/Managers/1')).body.VirtualMedia).toEqual({ '@odata.id': '/redfish/v1/Managers/1/VirtualMedia' });
    expect((await call('GET', '/redfish/v1/Systems/1')).body.VirtualMedia).toEqual({ '@odata.id': '/redfish/v1/Systems/1/VirtualMedia' });
    for (const base of ['/redfish/v1/Managers/1/VirtualMedia', '/redfish/v1/Systems/1/VirtualMedia']) {
      const c = (await slot(base)) as { Members: Array<{ '@odata.id': string }> };
      expect(c.Members.map((m) => m['@odata.id'])).toEqual([`${base}/Cd`, `${base}/UsbStick`]);
    }
    expect(await slot(MANAGER_CD)).toMatchObject({ MediaTypes: ['CD', 'DVD'], Inserted: false, Image: null, ConnectedVia: 'NotConnected', WriteProtected: true });
    expect((await slot('/redfish/v1/Systems/1/VirtualMedia/UsbStick')).MediaTypes).toEqual(['USBStick']);
    expect((await call('GET', '/redfish/v1/Managers/1/VirtualMedia/Floppy')).status).toBe(404);
  });

  it("sushy replays Ironic's redfish-virtual-media deploy: eject all, insert, Cd once, On; the simulated boot names the image", async () => {
    const iso = images.url('ramdisk.iso');
    const sol = new TerminalSession(['ipmitool', ...ipmitoolArgs(rf.agent.port, ['sol', 'activate'])]);
    terminals.push(sol);
    expect(await sol.waitFor('[SOL Session operational.', 15_000)).toBe(true);

    const deploy = await sushy('deploy', iso);
    expect(deploy).toMatchObject({
      managers: ['1'], off: true, transfer_protocols: ['HTTP', 'HTTPS'], ejected: [],
      inserted: ['Cd', iso, true, true], boot: ['Cd', 'Once'], on: true,
    });
    const banner = `Booting from DVD/CD (virtual media ${iso})...`;
    if (!(await sol.waitFor(banner, 15_000))) throw new Error(`no boot banner naming the image on SOL:\n${sol.output()}`);
    // The same medium at the System path; Once consumed by that boot.
    expect(await slot(SYSTEM_CD)).toMatchObject({ Image: iso, ImageName: 'ramdisk.iso', Inserted: true, ConnectedVia: 'URI', TransferProtocolType: 'HTTP' });
    expect((await call('GET', '/redfish/v1/Systems/1')).body.Boot.BootSourceOverrideEnabled).toBe('Disabled');

    // Ironic's next deploy ejects what is inserted first; clean-up ejects everything.
    const cleanup = await sushy('cleanup');
    expect(cleanup).toMatchObject({ off: true, ejected: ['Cd'], inserted_after: [false] });
    expect(await slot(SYSTEM_CD)).toMatchObject({ Image: null, Inserted: false, ConnectedVia: 'NotConnected' });
  });

  it('InsertMedia, PATCH and EjectMedia at either path read back at the other; If-Match is honoured', async () => {
    const iso = images.url('ramdisk.iso');
    const usb = images.url('configdrive.img');
    const current = await slot(MANAGER_CD);
    expect((await call('POST', INSERT(MANAGER_CD), { headers: { 'If-Match': 'W/"stale"' }, body: { Image: iso } })).status).toBe(412);
    // bmclib's first body, with If-Match from @odata.etag.
    expect((await call('POST', INSERT(MANAGER_CD), { headers: { 'If-Match': current['@odata.etag'] }, body: { Image: iso, Inserted: true, WriteProtected: true } })).status).toBe(204);
    expect(await slot(SYSTEM_CD)).toMatchObject({ Image: iso, Inserted: true });
    // A second insert without ejecting: refused, as the action's definition asks.
    const again = await call('POST', INSERT(SYSTEM_CD), { body: { Image: usb } });
    expect([again.status, errorId(again.body)]).toEqual([409, 'ResourceInUse']);
    // PATCH: Inserted false keeps the image but disconnects it; a new Image replaces it.
    expect((await call('PATCH', SYSTEM_CD, { body: { Inserted: false } })).body).toMatchObject({ Image: iso, Inserted: false, ConnectedVia: 'NotConnected' });
    expect((await call('PATCH', MANAGER_CD, { body: { Image: usb, Inserted: true } })).body).toMatchObject({ Image: usb, Inserted: true, ConnectedVia: 'URI' });
    // EjectMedia with no body and no Content-Type (sushy), and with {} (bmclib).
    expect((await redfishCall(rf, 'POST', EJECT(SYSTEM_CD), { auth: ADMIN })).status).toBe(204);
    expect((await call('POST', EJECT(MANAGER_CD), { body: {} })).status).toBe(204);
    expect(await slot(MANAGER_CD)).toMatchObject({ Image: null, Inserted: false });
    // The UsbStick slot (Ironic's config drive), by PATCH of Image and ejected by PATCH of null.
    expect((await call('PATCH', '/redfish/v1/Systems/1/VirtualMedia/UsbStick', { body: { Image: usb } })).body).toMatchObject({ Image: usb, Inserted: true });
    expect((await call('PATCH', '/redfish/v1/Managers/1/VirtualMedia/UsbStick', { body: { Image: null } })).body).toMatchObject({ Image: null, Inserted: false });
  });

  it('an image that cannot be read, a refused scheme or a wrong type is a 4xx naming the reason, and nothing is inserted', async () => {
    const deadPort = await freeTcpPort();
    const cases: Array<[string, CallOptions, number, string, RegExp]> = [
      ['404', { body: { Image: images.url('missing.iso') } }, 400, 'ActionParameterValueError', /answered 404 Not Found/],
      ['unreachable', { body: { Image: `http://127.0.0.1:${deadPort}/x.iso` } }, 400, 'CouldNotEstablishConnection', /ECONNREFUSED/],
      ['file:', { body: { Image: 'file:///etc/passwd' } }, 400, 'ActionParameterValueNotInList', /scheme 'file:' is not supported/],
      ['nfs:', { body: { Image: 'nfs://host/export/x.iso' } }, 400, 'ActionParameterValueNotInList', /http:\/\/ or https:\/\/ only/],
      ['relative', { body: { Image: 'x.iso' } }, 400, 'ActionParameterValueFormatError', /not an absolute URL/],
      ['Image missing', { body: {} }, 400, 'ActionParameterMissing', /requires the parameter Image/],
      ['Image a number', { body: { Image: 42 } }, 400, 'ActionParameterValueTypeError', /parameter Image/],
      ['Inserted a string', { body: { Image: images.url('ramdisk.iso'), Inserted: 'yes' } }, 400, 'ActionParameterValueTypeError', /parameter Inserted/],
      ['WriteProtected false', { body: { Image: images.url('ramdisk.iso'), WriteProtected: false } }, 400, 'ActionParameterValueNotInList', /read-only/],
      ['protocol not offered', { body: { Image: images.url('ramdisk.iso'), TransferProtocolType: 'NFS' } }, 400, 'ActionParameterValueNotInList', /TransferProtocolType/],
      ['protocol against the scheme', { body: { Image: images.url('ramdisk.iso'), TransferProtocolType: 'HTTPS' } }, 400, 'ActionParameterValueConflict', /does not match/],
      ['unknown parameter', { body: { Image: images.url('ramdisk.iso'), Speed: 'fast' } }, 400, 'ActionParameterUnknown', /Speed/],
      ['malformed JSON', { rawBody: '{"Image":', headers: { 'content-type': 'application/json' } }, 400, 'MalformedJSON', /malformed/],
    ];
    for (const [what, opts, status, id, message] of cases) {
      const r = await call('POST', INSERT(MANAGER_CD), opts);
      expect([what, r.status, errorId(r.body)]).toEqual([what, status, id]);
      expect([what, r.body.error.message]).toEqual([what, expect.stringMatching(message)]);
      await expectRedfishValid(r.body);
    }
    const patched = await call('PATCH', SYSTEM_CD, { body: { Image: 'ftp://host/x.iso' } });
    expect([patched.status, errorId(patched.body)]).toEqual([400, 'PropertyValueNotInList']);
    const wrongType = await call('PATCH', SYSTEM_CD, { body: { Inserted: 'true' } });
    expect([wrongType.status, errorId(wrongType.body)]).toEqual([400, 'PropertyValueTypeError']);
    const readOnly = await call('PATCH', SYSTEM_CD, { body: { MediaTypes: ['USBStick'] } });
    expect([readOnly.status, errorId(readOnly.body)]).toEqual([400, 'PropertyNotWritable']);
    const ejectWithArgs = await call('POST', EJECT(MANAGER_CD), { body: { Image: 'x' } });
    expect([ejectWithArgs.status, errorId(ejectWithArgs.body)]).toEqual([400, 'ActionParameterUnknown']);
    expect(await slot(MANAGER_CD)).toMatchObject({ Image: null, Inserted: false });
    // The agent is still there.
    expect((await call('GET', '/redfish/v1/Systems/1')).status).toBe(200);
  });

  it('VerifyCertificate with sushy: an https image server with a self-signed certificate is refused until the slot trusts it', async () => {
    const own = await generateSelfSigned(['127.0.0.1'], new Date());
    const certFile = join(dir, 'image-server.pem');
    writeFileSync(certFile, own.cert);
    const secure = await startRangeFileServer({ 'ramdisk.iso': join(dir, 'ramdisk.iso') }, '127.0.0.1', own);
    try {
      const iso = secure.url('ramdisk.iso');
      // The Certificates collection and a member, valid against DMTF's schema (the crawler sees them empty).
      const created = await call('POST', `${MANAGER_CD}/Certificates`, { body: { CertificateString: own.cert, CertificateType: 'PEM' } });
      expect(created.status).toBe(201);
      await expectRedfishValid((await call('GET', created.headers.location as string)).body);
      await expectRedfishValid(await slot(`${SYSTEM_CD.replace('Cd', 'UsbStick')}/Certificates`));
      await expectRedfishValid((await call('GET', `${MANAGER_CD}/Certificates`)).body);
      expect((await call('DELETE', created.headers.location as string)).status).toBe(204);
      const r = await runAsync('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_MEDIA, `https://127.0.0.1:${rf.redfishPort}`, rf.caFile, ADMIN.user, ADMIN.password, 'verify', certFile, iso], { timeoutMs: 90_000 });
      if (r.status !== 0) throw new Error(`sushy verify failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
      const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
      expect(seen).toMatchObject({
        verify_before: false, verify_set: true, inserted_after_refusal: [null, false],
        certificate: ['1', 'PEM', '127.0.0.1'], certificates: [`${MANAGER_CD}/Certificates/1`],
        trusted_insert: [iso, true], after_cleanup: [false, [], false],
      });
      expect(seen.untrusted_insert.slice(0, 2)).toEqual([400, 'Base.1.16.0.CouldNotEstablishConnection']);
      expect(seen.untrusted_insert[2]).toMatch(/not trusted by the system's CA store: DEPTH_ZERO_SELF_SIGNED_CERT/);
      // Unverified (the default again), the same server is accepted.
      expect((await call('POST', INSERT(MANAGER_CD), { body: { Image: iso } })).status).toBe(204);
      expect((await call('POST', EJECT(MANAGER_CD), { body: {} })).status).toBe(204);
    } finally {
      await secure.close();
    }
  });
});

import { MachineError } from '../machine/machine-control';
import type { MediaDriveId, MediaDrives, RemoteMedium } from '../machine/media-drives';
import { MemoryStateStore } from '../state/state-store';
import { parseImageUrl, VirtualMediaError, VirtualMediaService, type ImageProbe, type MediaEvent, type ProbeResult, type ProbeTls } from './virtual-media';
import { generateSelfSigned } from '../redfish/self-signed-certificate';

const ISO = 'http://images.example/boot.iso';

/** Drives that record what they are given; `fail` makes the next setMedium refuse. */
class RecordingDrives implements MediaDrives {
  readonly calls: Array<[MediaDriveId, string | undefined]> = [];
  readonly held = new Map<MediaDriveId, RemoteMedium>();
  fail: string | undefined;
  gate: Promise<void> = Promise.resolve();
  async setMedium(drive: MediaDriveId, medium: RemoteMedium | undefined): Promise<void> {
    await this.gate;
    if (this.fail) { const f = this.fail; this.fail = undefined; throw new MachineError(f, 'failed'); }
    this.calls.push([drive, medium?.url]);
    if (medium) this.held.set(drive, medium); else this.held.delete(drive);
  }
  media(): ReadonlyMap<MediaDriveId, RemoteMedium> { return this.held; }
}

function setup(probeResult: ProbeResult = { ok: true, sizeBytes: 1000 }) {
  const store = new MemoryStateStore();
  const drives = new RecordingDrives();
  const probed: string[] = [];
  const probeTls: ProbeTls[] = [];
  const probe: ImageProbe = { probe: async (url, _ms, tls) => { probed.push(url.href); probeTls.push(tls); return probeResult; } };
  const events: MediaEvent[] = [];
  const service = new VirtualMediaService({ store, drives, probe });
  service.onChange((e) => events.push(e));
  return { store, drives, probed, probeTls, service, events };
}

const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (e instanceof VirtualMediaError ? e.code : String(e)));

describe('parseImageUrl', () => {
  it.each([
    ['file:///etc/passwd', 'scheme-not-supported'],
    ['ftp://host/x.iso', 'scheme-not-supported'],
    ['nfs://host/x.iso', 'scheme-not-supported'],
    ['not a url', 'bad-url'],
    ['/relative/x.iso', 'bad-url'],
    ['http://user:pw@host/x.iso', 'bad-url'],
  ])('refuses %s (%s)', (url, expected) => {
    expect(() => parseImageUrl(url)).toThrow(expect.objectContaining({ code: expected }));
  });

  it('derives the protocol from the scheme and checks a given one against it', () => {
    expect(parseImageUrl('https://h/x.iso').protocol).toBe('HTTPS');
    expect(parseImageUrl('http://h/x.iso', 'HTTP').protocol).toBe('HTTP');
    expect(() => parseImageUrl('http://h/x.iso', 'HTTPS')).toThrow(expect.objectContaining({ code: 'protocol-mismatch' }));
  });
});

describe('VirtualMediaService', () => {
  it('inserts: probes, hands the URL to the CD drive, records, persists and tells the listeners', async () => {
    const env = setup();
    const state = await env.service.insert('Cd', { image: ISO });
    expect(state).toEqual({ slot: 'Cd', image: ISO, inserted: true, writeProtected: true, transferProtocolType: 'HTTP', verifyCertificate: false });
    expect(env.probed).toEqual([ISO]);
    expect(env.drives.calls).toEqual([['cd', ISO]]);
    expect(env.events.map((e) => [e.kind, e.state.slot])).toEqual([['inserted', 'Cd']]);
    // A new service over the same store (a BMC restart) has it and gives it back to the machine.
    const drives = new RecordingDrives();
    const again = new VirtualMediaService({ store: env.store, drives, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } });
    expect(again.slot('Cd').image).toBe(ISO);
    await again.restore();
    expect(drives.calls).toEqual([['cd', ISO]]);
  });

  it('uses the USB drive for the UsbStick slot', async () => {
    const env = setup();
    await env.service.insert('UsbStick', { image: 'https://h/configdrive.img', transferProtocolType: 'HTTPS' });
    expect(env.drives.calls).toEqual([['usb', 'https://h/configdrive.img']]);
  });

  it('leaves the slot as it was when the probe or the machine refuses, and names the reason', async () => {
    const env = setup({ ok: false, reason: 'refused', message: 'the image server answered 404 Not Found' });
    await expect(env.service.insert('Cd', { image: ISO })).rejects.toThrow(/404 Not Found/);
    expect(await code(env.service.insert('Cd', { image: ISO }))).toBe('image-refused');
    expect([env.service.slot('Cd').image, env.drives.calls, env.events]).toEqual([undefined, [], []]);

    const ok = setup();
    ok.drives.fail = 'QMP blockdev-add failed: Could not open';
    await expect(ok.service.insert('Cd', { image: ISO })).rejects.toThrow(/Could not open/);
    expect(ok.service.slot('Cd').image).toBeUndefined();
    expect(ok.store.read('virtual-media.json')).toBeUndefined();
  });

  it('refuses a second insert, WriteProtected false and bad URLs before probing', async () => {
    const env = setup();
    await env.service.insert('Cd', { image: ISO });
    expect(await code(env.service.insert('Cd', { image: ISO }))).toBe('in-use');
    expect(await code(env.service.insert('UsbStick', { image: ISO, writeProtected: false }))).toBe('read-only');
    expect(await code(env.service.insert('UsbStick', { image: 'file:///x.iso' }))).toBe('scheme-not-supported');
    expect(env.probed).toEqual([ISO]);
  });

  it('ejects (twice is fine), and Inserted false keeps the image but detaches it', async () => {
    const env = setup();
    await env.service.insert('Cd', { image: ISO });
    await env.service.update('Cd', { inserted: false });
    expect(env.service.slot('Cd')).toMatchObject({ image: ISO, inserted: false });
    await env.service.update('Cd', { inserted: true });
    await env.service.eject('Cd');
    await env.service.eject('Cd');
    expect(env.drives.calls).toEqual([['cd', ISO], ['cd', undefined], ['cd', ISO], ['cd', undefined]]);
    expect(env.events.map((e) => e.kind)).toEqual(['inserted', 'changed', 'changed', 'ejected']);
    expect(env.service.slot('Cd').image).toBeUndefined();
  });

  it('a PATCH of Image replaces the medium; Image null ejects', async () => {
    const env = setup();
    await env.service.update('Cd', { image: ISO });
    await env.service.update('Cd', { image: 'http://other/x.iso' });
    await env.service.update('Cd', { image: null });
    expect(env.drives.calls).toEqual([['cd', ISO], ['cd', 'http://other/x.iso'], ['cd', undefined]]);
  });

  it('settled() waits for a change still under way (what a power-on waits for)', async () => {
    const env = setup();
    let open!: () => void;
    env.drives.gate = new Promise((resolve) => { open = resolve; });
    const insert = env.service.insert('Cd', { image: ISO });
    let settled = false;
    const waiting = env.service.settled().then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    open();
    await insert;
    await waiting;
    expect(settled).toBe(true);
  });

  it('without machine drives, nothing can be inserted', async () => {
    const service = new VirtualMediaService({ store: new MemoryStateStore(), drives: undefined, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } });
    expect(await code(service.insert('Cd', { image: ISO }))).toBe('no-drives');
    expect(await code(service.eject('Cd'))).toBe('resolved');
  });

  describe('VerifyCertificate and the slot\'s Certificates', () => {
    const HTTPS = 'https://images.example/boot.iso';
    let pem: string;
    beforeAll(async () => { pem = (await generateSelfSigned(['images.example'], new Date())).cert; });

    it('is off by default: the probe does not check, the machine reads without checking', async () => {
      const env = setup();
      await env.service.insert('Cd', { image: HTTPS });
      expect(env.probeTls).toEqual([{ verify: false }]);
      expect(env.drives.held.get('cd')).toEqual({ url: HTTPS });
    });

    it('on without certificates: the system store, and the machine checks too; kept across an eject and a restart', async () => {
      const env = setup();
      expect(await env.service.update('Cd', { verifyCertificate: true })).toMatchObject({ image: undefined, verifyCertificate: true });
      await env.service.insert('Cd', { image: HTTPS });
      expect(env.probeTls).toEqual([{ verify: true, ca: undefined }]);
      expect(env.drives.held.get('cd')).toEqual({ url: HTTPS, verifyTls: true });
      await env.service.eject('Cd');
      const again = new VirtualMediaService({ store: env.store, drives: new RecordingDrives(), probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } });
      expect(again.slot('Cd').verifyCertificate).toBe(true);
      expect(again.slot('UsbStick').verifyCertificate).toBe(false);
    });

    it('on with certificates: the probe trusts only them; an untrusted server leaves the slot empty', async () => {
      const env = setup({ ok: false, reason: 'untrusted', message: 'the image server\'s certificate is not trusted' });
      const cert = await env.service.addCertificate('UsbStick', pem, 'PEM');
      expect(cert).toMatchObject({ id: '1', type: 'PEM' });
      await env.service.update('UsbStick', { verifyCertificate: true });
      expect(await code(env.service.insert('UsbStick', { image: HTTPS }))).toBe('untrusted');
      expect(env.probeTls).toEqual([{ verify: true, ca: [cert.pem] }]);
      expect([env.service.slot('UsbStick').image, env.drives.calls]).toEqual([undefined, []]);
    });

    it('keeps certificates per slot, numbered, across a restart; removes them; refuses what is not PEM', async () => {
      const env = setup();
      await env.service.addCertificate('Cd', pem, 'PEM');
      await env.service.addCertificate('Cd', `${pem}${pem}`, 'PEMchain');
      expect(await code(env.service.addCertificate('Cd', `${pem}${pem}`, 'PEM'))).toBe('bad-certificate');
      expect(await code(env.service.addCertificate('Cd', 'not a certificate', 'PEM'))).toBe('bad-certificate');
      expect(await code(env.service.addCertificate('Cd', pem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n'), 'PEM'))).toBe('bad-certificate');
      expect(env.service.certificates('Cd').map((c) => c.id)).toEqual(['1', '2']);
      expect(env.service.certificates('UsbStick')).toEqual([]);
      expect(await env.service.removeCertificate('Cd', '1')).toBe(true);
      expect(await env.service.removeCertificate('Cd', '1')).toBe(false);
      await env.service.addCertificate('Cd', pem, 'PEM');
      const again = new VirtualMediaService({ store: env.store, drives: undefined, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } });
      expect(again.certificates('Cd').map((c) => c.id)).toEqual(['2', '3']);
    });
  });
});

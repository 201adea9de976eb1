/**
 * VirtualMedia over the Redfish service without a socket: the two paths share one state, what the
 * machine refuses comes back as a 500 naming QEMU's reason, and the sim machine's boot banner.
 */
import { BmcEvents } from '../../core/bmc-events';
import { MemoryStateStore } from '../../state/state-store';
import { UserStore } from '../../bmc/users/user-store';
import { BootOptions } from '../../bmc/chassis/boot-options';
import { ChassisState } from '../../bmc/chassis/chassis-state';
import { SystemEventLog } from '../../bmc/sel/system-event-log';
import { MachineError } from '../../machine/machine-control';
import type { MediaDrives } from '../../machine/media-drives';
import { SimMachine } from '../../machine/sim-machine';
import { Accounts } from '../../core/accounts';
import { BootOverrideRecord } from '../../core/boot-override';
import { EventLog } from '../../core/event-log';
import { PowerService } from '../../core/power-service';
import { VirtualMediaService, type ImageProbe, type MediaEvent } from '../../core/virtual-media';
import { HttpImageProbe } from '../../media/http-image-probe';
import { generateSelfSigned } from '../self-signed-certificate';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../util/logger';
import { Privilege } from '../../protocol/errors';
import { RedfishService } from '../redfish-service';

const ISO = 'http://images.example/ramdisk.iso';
const ADMIN = { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` };

function setup(drives?: (machine: SimMachine) => MediaDrives, probe: ImageProbe = { probe: async () => ({ ok: true, sizeBytes: 1 }) }) {
  const store = new MemoryStateStore();
  const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
  const boot = new BootOptions({ store, clock: Date.now });
  const chassis = new ChassisState({ store });
  const eventLog = new EventLog(new SystemEventLog(store));
  const machine = new SimMachine({ boot, nodeName: 'n1', powerDelayMs: 0 });
  const virtualMedia = new VirtualMediaService({ store, drives: drives ? drives(machine) : machine.media, probe });
  const events: MediaEvent[] = [];
  virtualMedia.onChange((e) => events.push(e));
  const service = new RedfishService({
    core: {
      machine, chassis, eventLog, virtualMedia, clock: Date.now, events: new BmcEvents(),
      power: new PowerService({ machine, boot, chassis, eventLog, mediaSettled: () => virtualMedia.settled() }),
      bootOverride: new BootOverrideRecord({ boot, store }),
      accounts: new Accounts(users),
      systemUuid: '11111111-2222-4333-8444-555555555555', bmcUuid: '66666666-7777-4888-9999-000000000000',
      product: { manufacturer: 'bmcfleet', productName: 'bmcfleet virtual server', partNumber: 'BMCF-VS-1', serialNumber: 'n1' },
      nodeName: 'n1', firmwareVersion: '0.10', hardware: { cpus: 2, memoryMiB: 2048 },
    },
    random: (n) => Buffer.alloc(n, 7), log: silentLogger,
  });
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) => {
    const r = await service.handle({ method, path, remote: '192.0.2.1', headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) }, Date.now());
    return { status: r.status, body: r.body as any };
  };
  return { machine, users, send, events };
}

describe('Redfish VirtualMedia', () => {
  it('one state at both paths; the change listeners hear it; the sim boot banner names the image', async () => {
    const env = setup();
    let serial = '';
    env.machine.on('serial', (d) => { serial += d.toString('latin1'); });
    try {
      expect((await env.send('POST', '/redfish/v1/Systems/1/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia', { Image: ISO })).status).toBe(204);
      expect((await env.send('GET', '/redfish/v1/Managers/1/VirtualMedia/Cd')).body).toMatchObject({
        '@odata.type': '#VirtualMedia.v1_6_5.VirtualMedia', 'Image': ISO, 'ImageName': 'ramdisk.iso', 'Inserted': true, 'ConnectedVia': 'URI',
      });
      expect(env.events.map((e) => [e.kind, e.state.slot, e.state.image])).toEqual([['inserted', 'Cd', ISO]]);
      expect((await env.send('PATCH', '/redfish/v1/Systems/1', { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } })).status).toBe(200);
      expect((await env.send('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' })).status).toBe(204);
      expect(serial).toContain(`Booting from DVD/CD (virtual media ${ISO})...`);
    } finally {
      await env.machine.close();
    }
  });

  it('a machine that refuses the medium: 500 naming the reason, nothing inserted', async () => {
    const env = setup(() => ({
      setMedium: async () => { throw new MachineError("QMP blockdev-add failed: Could not open 'http://images.example/ramdisk.iso': HTTP 403", 'failed'); },
      media: () => new Map(),
    }));
    const r = await env.send('POST', '/redfish/v1/Managers/1/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia', { Image: ISO });
    expect(r.status).toBe(500);
    expect(r.body.error.message).toMatch(/did not attach the Cd medium: QMP blockdev-add failed: .*HTTP 403/);
    expect((await env.send('GET', '/redfish/v1/Systems/1/VirtualMedia/Cd')).body).toMatchObject({ Image: null, Inserted: false });
    await env.machine.close();
  });

  it('a ReadOnly user may read but not insert; unknown slots are 404', async () => {
    const env = setup();
    try {
      env.users.setName(3, Buffer.from('viewer'));
      env.users.setPassword(3, Buffer.from('viewpass'), 16);
      env.users.setAccess(3, Privilege.User);
      env.users.setEnabled(3, true);
      const viewer = { authorization: `Basic ${Buffer.from('viewer:viewpass').toString('base64')}` };
      expect((await env.send('GET', '/redfish/v1/Managers/1/VirtualMedia/Cd', undefined, viewer)).status).toBe(200);
      const refused = await env.send('POST', '/redfish/v1/Managers/1/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia', { Image: ISO }, viewer);
      expect(refused.status).toBe(403);
      expect((await env.send('GET', '/redfish/v1/Managers/1/VirtualMedia/Floppy1')).status).toBe(404);
      expect((await env.send('POST', '/redfish/v1/Managers/1/VirtualMedia/Floppy1/Actions/VirtualMedia.EjectMedia')).status).toBe(404);
    } finally {
      await env.machine.close();
    }
  });

  describe('VerifyCertificate and Certificates, against an https image server with a self-signed certificate', () => {
    let server: HttpsServer;
    let image: string;
    let pem: string;
    beforeAll(async () => {
      const own = await generateSelfSigned(['127.0.0.1'], new Date());
      pem = own.cert;
      server = createHttpsServer({ cert: own.cert, key: own.key }, (_req, res) => { res.writeHead(200, { 'Accept-Ranges': 'bytes', 'Content-Length': '4096' }); res.end(); });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      image = `https://127.0.0.1:${(server.address() as AddressInfo).port}/ramdisk.iso`;
    });
    afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

    it('off: inserts unchecked; on: refuses until the slot trusts the certificate; Certificates create, read, delete', async () => {
      const env = setup(undefined, new HttpImageProbe());
      const cd = '/redfish/v1/Managers/1/VirtualMedia/Cd';
      const insert = (): ReturnType<typeof env.send> => env.send('POST', `${cd}/Actions/VirtualMedia.InsertMedia`, { Image: image, TransferProtocolType: 'HTTPS' });
      try {
        const initial = (await env.send('GET', cd)).body;
        expect(initial).toMatchObject({ VerifyCertificate: false, Certificates: { '@odata.id': `${cd}/Certificates` } });
        expect((await insert()).status).toBe(204);
        expect((await env.send('POST', `${cd}/Actions/VirtualMedia.EjectMedia`)).status).toBe(204);

        // sushy's set_verify_certificate(True): a PATCH; it reads back at both paths and stays after eject.
        const patched = await env.send('PATCH', cd, { VerifyCertificate: true });
        expect([patched.status, patched.body.VerifyCertificate]).toEqual([200, true]);
        expect((await env.send('GET', '/redfish/v1/Systems/1/VirtualMedia/Cd')).body.VerifyCertificate).toBe(true);
        const refused = await insert();
        expect(refused.status).toBe(400);
        expect(refused.body.error['@Message.ExtendedInfo'][0].MessageId).toBe('Base.1.16.0.CouldNotEstablishConnection');
        expect(refused.body.error.message).toMatch(/not trusted by the system's CA store: DEPTH_ZERO_SELF_SIGNED_CERT.*Nothing was inserted/);
        expect((await env.send('GET', cd)).body).toMatchObject({ Image: null, Inserted: false });

        // sushy's certificates.create_member(pem, 'PEM').
        const created = await env.send('POST', `${cd}/Certificates`, { CertificateString: pem, CertificateType: 'PEM' });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ '@odata.id': `${cd}/Certificates/1`, 'Id': '1', 'CertificateType': 'PEM', 'Subject': { CommonName: '127.0.0.1' } });
        const listed = (await env.send('GET', `${cd}/Certificates`)).body;
        expect(listed.Members).toEqual([{ '@odata.id': `${cd}/Certificates/1` }]);
        expect((await env.send('GET', '/redfish/v1/Managers/1/VirtualMedia/UsbStick/Certificates')).body.Members).toEqual([]);
        expect((await insert()).status).toBe(204);
        expect((await env.send('GET', cd)).body).toMatchObject({ Image: image, Inserted: true, ConnectedVia: 'URI' });

        // Bad input, each named.
        const cases: Array<[unknown, string]> = [
          [{ CertificateString: 'not a certificate', CertificateType: 'PEM' }, 'PropertyValueFormatError'],
          [{ CertificateString: `${pem}${pem}`, CertificateType: 'PEM' }, 'PropertyValueFormatError'],
          [{ CertificateString: pem }, 'PropertyMissing'],
          [{ CertificateString: pem, CertificateType: 'PKCS7' }, 'PropertyValueNotInList'],
          [{ CertificateString: 7, CertificateType: 'PEM' }, 'PropertyValueTypeError'],
          [{ CertificateString: pem, CertificateType: 'PEM', KeyUsage: [] }, 'PropertyUnknown'],
        ];
        for (const [body, id] of cases) {
          const r = await env.send('POST', `${cd}/Certificates`, body);
          expect([r.status, r.body.error['@Message.ExtendedInfo'][0].MessageId]).toEqual([400, `Base.1.16.0.${id}`]);
        }
        const typeError = await env.send('PATCH', cd, { VerifyCertificate: 'yes' });
        expect([typeError.status, typeError.body.error['@Message.ExtendedInfo'][0].MessageId]).toEqual([400, 'Base.1.16.0.PropertyValueTypeError']);

        expect((await env.send('DELETE', `${cd}/Certificates/1`)).status).toBe(204);
        expect((await env.send('GET', `${cd}/Certificates/1`)).status).toBe(404);
        expect((await env.send('DELETE', `${cd}/Certificates/1`)).status).toBe(404);
      } finally {
        await env.machine.close();
      }
    });
  });
});

import { redfishCore, errorCodeOf } from '../../test-support/redfish-core';
import { FirmwareSettings } from '../../core/firmware-settings';

const BIOS = '/redfish/v1/Systems/1/Bios';
const SETTINGS = `${BIOS}/Settings`;
const SECURE = '/redfish/v1/Systems/1/SecureBoot';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
/** The JSON body, read freely by the assertions. */
const json = (r: { body?: unknown }): any => r.body;

describe('Bios and SecureBoot', () => {
  let env: ReturnType<typeof redfishCore>;
  beforeEach(() => { env = redfishCore(); });
  afterEach(async () => { await env.machine.close(); });

  it('Bios names its settings object; a PATCH there is pending until the next boot, then in effect', async () => {
    const bios = json(await env.send('GET', BIOS));
    expect(bios['@Redfish.Settings'].SettingsObject['@odata.id']).toBe(SETTINGS);
    expect(bios.Attributes).toEqual({ BootMenuTimeout: 0, ProcTurboMode: 'Enabled', ProcVirtualization: 'Enabled' });
    const patched = await env.send('PATCH', SETTINGS, { body: { Attributes: { ProcTurboMode: 'Disabled', BootMenuTimeout: 5 } } });
    expect([patched.status, json(patched).Attributes]).toEqual([200, { BootMenuTimeout: 5, ProcTurboMode: 'Disabled', ProcVirtualization: 'Enabled' }]);
    // Merged, not replaced.
    await env.send('PATCH', SETTINGS, { body: { Attributes: { ProcVirtualization: 'Disabled' } } });
    expect(json(await env.send('GET', SETTINGS)).Attributes).toEqual({ BootMenuTimeout: 5, ProcTurboMode: 'Disabled', ProcVirtualization: 'Disabled' });
    expect(json(await env.send('GET', BIOS)).Attributes.ProcTurboMode).toBe('Enabled');
    expect((await env.send('POST', RESET, { body: { ResetType: 'On' } })).status).toBe(204);
    expect(json(await env.send('GET', BIOS)).Attributes).toEqual({ BootMenuTimeout: 5, ProcTurboMode: 'Disabled', ProcVirtualization: 'Disabled' });
    expect(env.firmware.pending).toEqual({});
  });

  it('the boot that applies BootMenuTimeout hands it to the machine', () => {
    env.firmware.setPending({ BootMenuTimeout: 7 });
    expect(env.firmware.takeForBoot(true)).toEqual({ bootMenuTimeoutMs: 7000, secureBoot: false });
  });

  it('#Bios.ResetBios makes the defaults pending; the next boot applies them', async () => {
    env.firmware.setPending({ ProcTurboMode: 'Disabled' });
    env.firmware.takeForBoot(false);
    expect((await env.send('POST', `${BIOS}/Actions/Bios.ResetBios`)).status).toBe(204);
    expect(json(await env.send('GET', SETTINGS)).Attributes.ProcTurboMode).toBe('Enabled');
    expect(json(await env.send('GET', BIOS)).Attributes.ProcTurboMode).toBe('Disabled');
    env.firmware.takeForBoot(false);
    expect(json(await env.send('GET', BIOS)).Attributes.ProcTurboMode).toBe('Enabled');
  });

  it.each([
    [{ Attributes: { NoSuch: 1 } }, 400, 'PropertyUnknown', 'Attributes/NoSuch'],
    [{ Attributes: { ProcTurboMode: 'Sometimes' } }, 400, 'PropertyValueNotInList', 'Attributes/ProcTurboMode'],
    [{ Attributes: { BootMenuTimeout: 'five' } }, 400, 'PropertyValueTypeError', 'Attributes/BootMenuTimeout'],
    [{ Attributes: { BootMenuTimeout: 66 } }, 400, 'PropertyValueOutOfRange', 'Attributes/BootMenuTimeout'],
    [{ Attributes: [] }, 400, 'PropertyValueTypeError', 'Attributes'],
    [{ Id: 'Other' }, 400, 'PropertyNotWritable', 'Id'],
    [{ '@Redfish.SettingsApplyTime': { ApplyTime: 'Immediate' } }, 400, 'PropertyValueNotInList', 'ApplyTime'],
  ])('refuses %j with %i %s naming %s, and changes nothing', async (body, status, id, names) => {
    const r = await env.send('PATCH', SETTINGS, { body });
    expect([r.status, errorCodeOf(r), JSON.stringify(r.body)]).toEqual([status, id, expect.stringContaining(names)]);
    expect(env.firmware.pending).toEqual({});
  });

  it('needs ConfigureComponents, honours If-Match, and PATCH on Bios itself is 405', async () => {
    env.users.setName(3, Buffer.from('viewer'));
    env.users.setPassword(3, Buffer.from('viewpass'), 16);
    env.users.setAccess(3, 2);
    env.users.setEnabled(3, true);
    const viewer = { authorization: `Basic ${Buffer.from('viewer:viewpass').toString('base64')}` };
    expect((await env.send('PATCH', SETTINGS, { headers: viewer, body: { Attributes: { ProcTurboMode: 'Disabled' } } })).status).toBe(403);
    const stale = await env.send('PATCH', SETTINGS, { headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}`, 'if-match': 'W/"0000000000000000"' }, body: { Attributes: { ProcTurboMode: 'Disabled' } } });
    expect(stale.status).toBe(412);
    expect((await env.send('PATCH', BIOS, { body: { Attributes: { ProcTurboMode: 'Disabled' } } })).status).toBe(405);
  });

  it('SecureBoot: enabling takes effect at the next boot; CurrentBoot follows the boot, off when powered off', async () => {
    expect(json(await env.send('GET', SECURE))).toMatchObject({ SecureBootEnable: false, SecureBootCurrentBoot: 'Disabled', SecureBootMode: 'SetupMode' });
    const r = await env.send('PATCH', SECURE, { body: { SecureBootEnable: true } });
    expect([r.status, json(r).SecureBootEnable, json(r).SecureBootCurrentBoot, json(r).SecureBootMode]).toEqual([200, true, 'Disabled', 'UserMode']);
    await env.send('POST', RESET, { body: { ResetType: 'On' } });
    expect(json(await env.send('GET', SECURE)).SecureBootCurrentBoot).toBe('Enabled');
    await env.send('POST', RESET, { body: { ResetType: 'ForceOff' } });
    expect(json(await env.send('GET', SECURE)).SecureBootCurrentBoot).toBe('Disabled');
    // A legacy boot override on a UEFI node: that boot runs without Secure Boot.
    await env.send('PATCH', '/redfish/v1/Systems/1', { body: { Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'Legacy' } } });
    await env.send('POST', RESET, { body: { ResetType: 'On' } });
    expect(json(await env.send('GET', SECURE)).SecureBootCurrentBoot).toBe('Disabled');
    const typed = await env.send('PATCH', SECURE, { body: { SecureBootEnable: 'yes' } });
    expect([typed.status, errorCodeOf(typed)]).toEqual([400, 'PropertyValueTypeError']);
    const ro = await env.send('PATCH', SECURE, { body: { SecureBootCurrentBoot: 'Enabled' } });
    expect([ro.status, errorCodeOf(ro)]).toEqual([400, 'PropertyNotWritable']);
  });

  it('a legacy (SeaBIOS) node refuses Secure Boot with a 400 that says why', async () => {
    const legacy = redfishCore({ firmware: 'bios' });
    const r = await legacy.send('PATCH', SECURE, { body: { SecureBootEnable: true } });
    expect([r.status, errorCodeOf(r), JSON.stringify(r.body)]).toEqual([400, 'PropertyValueConflict', expect.stringContaining('SeaBIOS')]);
    expect(json(await legacy.send('GET', SECURE)).SecureBootEnable).toBe(false);
    expect((await legacy.send('PATCH', SECURE, { body: { SecureBootEnable: false } })).status).toBe(200);
    await legacy.machine.close();
  });

  it('settings survive a BMC restart (the state store); unknown stored values are dropped', () => {
    env.firmware.setPending({ ProcTurboMode: 'Disabled' });
    env.firmware.setSecureBoot(true);
    const again = new FirmwareSettings({ store: env.store, firmware: 'uefi', defaultBootMenuTimeoutS: 0 });
    expect([again.pending, again.secureBootEnabled]).toEqual([{ ProcTurboMode: 'Disabled' }, true]);
    env.store.write('firmware-settings.json', Buffer.from(JSON.stringify({ version: 1, current: { ProcTurboMode: 'Maybe', BootMenuTimeout: 3 }, pending: { X: 1 }, secureBootEnable: true })));
    const legacy = new FirmwareSettings({ store: env.store, firmware: 'bios', defaultBootMenuTimeoutS: 0 });
    expect([legacy.attributes, legacy.pending, legacy.secureBootEnabled]).toEqual([{ BootMenuTimeout: 3, ProcTurboMode: 'Enabled', ProcVirtualization: 'Enabled' }, {}, false]);
  });
});

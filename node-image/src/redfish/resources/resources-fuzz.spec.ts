/**
 * 20,000 odd requests at the writable resources added beside the system (BIOS settings, Secure
 * Boot, accounts, the lockout) and their read-only neighbours: every answer is a Redfish status with
 * a Redfish error body, never a 500, and the BMC's users and settings stay within their rules.
 * Deterministic: the inputs come from a seeded generator.
 */
import { ADMIN_AUTH, redfishCore } from '../../test-support/redfish-core';
import { BIOS_ATTRIBUTE_RULES } from '../../core/firmware-settings';

const REQUESTS = 20_000;

function generator(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 0x100000000; };
}

describe('new Redfish resources under malformed input', () => {
  it(`answers ${REQUESTS} odd requests without a 500 and keeps users and settings valid`, async () => {
    const env = redfishCore();
    const rnd = generator(0xb105);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const S = '/redfish/v1/Systems/1';
    const paths = [`${S}/Bios/Settings`, `${S}/Bios`, `${S}/Bios/Actions/Bios.ResetBios`, `${S}/SecureBoot`, '/redfish/v1/AccountService', '/redfish/v1/AccountService/Accounts',
      '/redfish/v1/AccountService/Accounts/3', '/redfish/v1/AccountService/Accounts/2', '/redfish/v1/AccountService/Accounts/1', '/redfish/v1/AccountService/Accounts/11',
      `${S}/EthernetInterfaces/eth1`, `${S}/EthernetInterfaces/%2e%2e`, `${S}/Storage/1/Drives/__proto__`, '/redfish/v1/Chassis/1/Thermal', '/redfish/v1/Managers/1/NetworkProtocol'];
    const values = [null, true, false, 0, -1, 65, 66, 1e308, '', 'Enabled', 'Disabled', 'x'.repeat(300), [], {}, { $ne: 1 }, 'Administrator', 'ReadOnly', 'password1', 'ab'];
    const keys = ['Attributes', 'SecureBootEnable', 'UserName', 'Password', 'RoleId', 'Enabled', 'Locked', 'AccountLockoutThreshold', 'AccountLockoutDuration',
      'AccountLockoutCounterResetAfter', 'AccountLockoutCounterResetEnabled', '@Redfish.SettingsApplyTime', 'Id', '__proto__', 'constructor'];
    const body = (): unknown => {
      const o: Record<string, unknown> = {};
      for (let n = Math.floor(rnd() * 4); n > 0; n--) {
        const k = pick(keys);
        o[k] = k === 'Attributes' ? { [pick([...Object.keys(BIOS_ATTRIBUTE_RULES), 'Other', '__proto__'])]: pick(values) } : pick(values);
      }
      return pick([o, o, o, null, [o], 'text']);
    };
    for (let i = 0; i < REQUESTS; i++) {
      const method = pick(['GET', 'PATCH', 'POST', 'DELETE', 'PUT']);
      const path = pick(paths);
      const r = await env.send(method, path, { body: body(), headers: pick([ADMIN_AUTH, ADMIN_AUTH, { ...ADMIN_AUTH, 'if-match': pick(['*', 'W/"0"']) }]) });
      if (r.status >= 500) throw new Error(`request ${i} (${method} ${path}) got ${r.status}`);
      if (r.status >= 400 && !String((r.body as { error?: { code?: unknown } })?.error?.code).startsWith('Base.')) throw new Error(`request ${i}: ${r.status} without a Redfish error body`);
    }
    for (const u of env.users.list().filter((x) => x.name.length > 0 && x.id > 2)) {
      expect([u.name, /^[\x21-\x7e]{1,16}$/.test(u.name), u.password.length >= 8]).toEqual([u.name, true, true]);
    }
    expect(env.firmware.check({ ...env.firmware.next })).toEqual([]);
    // Whatever was changed, an enabled Administrator remains.
    expect(env.core.accounts.list(0).some((a) => a.enabled && a.role === 'administrator')).toBe(true);
    await env.machine.close();
  }, 120_000);
});

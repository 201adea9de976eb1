import { ConfigError, loadConfig } from './config';

describe('agent configuration', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, 'node-1');
    expect(c).toMatchObject({ machine: 'qemu', ipmiAddress: '0.0.0.0', ipmiPort: 623, ipmiUser: 'admin', ipmiPassword: 'password', ipmi15: true, stateDir: '/vm/bmc', powerOnAtStart: false, nodeName: 'node-1' });
    expect(c.cipherSuites.map((s) => s.id)).toEqual([3, 17]);
  });

  it('lists every problem at once, each saying what to fix', () => {
    let err: unknown;
    try {
      loadConfig({ MACHINE: 'vmware', IPMI_PORT: '70000', IPMI_CIPHER_SUITES: '0', IPMI_V15: 'maybe', IPMI_USER: '', IPMI_PASS: 'x'.repeat(21), IPMI_ADDRESS: 'localhost' }, 'h');
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/MACHINE="vmware" must be qemu or sim/);
    expect(problems).toMatch(/IPMI_PORT="70000" must be a whole number from 0 to 65535/);
    expect(problems).toMatch(/suite 0 \(no authentication\) is never offered/);
    expect(problems).toMatch(/IPMI_V15="maybe" must be true or false/);
    expect(problems).toMatch(/IPMI_USER must not be empty/);
    expect(problems).toMatch(/IPMI_PASS must be 1 to 20/);
    expect(problems).toMatch(/IPMI_ADDRESS="localhost" must be an IPv4 address/);
  });

  it('BMC_USERS_RESET_ID: unset or empty means keep the users; an id is taken as it is; spaces or too long are refused', () => {
    expect(loadConfig({}, 'h').usersResetId).toBeUndefined();
    expect(loadConfig({ BMC_USERS_RESET_ID: '' }, 'h').usersResetId).toBeUndefined();
    expect(loadConfig({ BMC_USERS_RESET_ID: 'node-7f3a:gen-2' }, 'h').usersResetId).toBe('node-7f3a:gen-2');
    expect(() => loadConfig({ BMC_USERS_RESET_ID: 'a b' }, 'h')).toThrow(/BMC_USERS_RESET_ID must be 1 to 128 printable ASCII characters without spaces/);
    expect(() => loadConfig({ BMC_USERS_RESET_ID: 'x'.repeat(129) }, 'h')).toThrow(/BMC_USERS_RESET_ID/);
  });

  it('never echoes the password in an error', () => {
    try { loadConfig({ IPMI_PASS: 'secret\u0001' }, 'h'); } catch (e) { expect((e as Error).message).not.toContain('secret'); }
  });
});

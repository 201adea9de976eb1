import { ConfigError, loadConfig } from './config';

describe('agent configuration', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, 'node-1');
    expect(c).toMatchObject({ machine: 'qemu', ipmiAddress: '0.0.0.0', ipmiPort: 623, ipmiUser: 'admin', ipmiPassword: 'password', ipmi15: true, stateDir: '/vm/bmc', powerOnAtStart: false, nodeName: 'node-1' });
    expect(c.cipherSuites.map((s) => s.id)).toEqual([3, 17]);
    expect(c.ipmiSolPort).toBeUndefined();
    expect(c.ipmi15AuthTypes).toEqual(['md5']);
    expect(c).toMatchObject({ redfishPort: 443, redfishTlsCert: undefined, redfishTlsKey: undefined });
  });

  it('VM_MAC_ID: the node\'s MAC block, 1 to 16777215; unset or blank: MACs derived from the name', () => {
    expect(loadConfig({}, 'h').macId).toBeUndefined();
    expect(loadConfig({ VM_MAC_ID: '' }, 'h').macId).toBeUndefined();
    expect(loadConfig({ VM_MAC_ID: '16777215' }, 'h').macId).toBe(16777215);
    for (const bad of ['0', '16777216', 'x', '-3']) {
      expect(() => loadConfig({ VM_MAC_ID: bad }, 'h')).toThrow(ConfigError);
    }
    let err: unknown;
    try { loadConfig({ VM_MAC_ID: '0' }, 'h'); } catch (e) { err = e; }
    expect((err as ConfigError).problems).toEqual(['VM_MAC_ID="0" must be a whole number from 1 to 16777215']);
  });

  describe('IPMI_SOL_PORT', () => {
    it('is the port SOL is reported on, independent of IPMI_PORT', () => {
      expect(loadConfig({ IPMI_SOL_PORT: '9831' }, 'h')).toMatchObject({ ipmiPort: 623, ipmiSolPort: 9831 });
      expect(loadConfig({ IPMI_PORT: '16230', IPMI_SOL_PORT: '16230' }, 'h')).toMatchObject({ ipmiPort: 16230, ipmiSolPort: 16230 });
      expect(loadConfig({ IPMI_SOL_PORT: '1' }, 'h').ipmiSolPort).toBe(1);
      expect(loadConfig({ IPMI_SOL_PORT: '65535' }, 'h').ipmiSolPort).toBe(65535);
    });

    it('blank counts as unset: SOL is reported on the port the agent listens on', () => {
      expect(loadConfig({ IPMI_SOL_PORT: '' }, 'h').ipmiSolPort).toBeUndefined();
    });

    it.each(['0', '65536', '-1', '9831/udp', ' 9831', 'abc', '1e3'])('refuses %j, naming the variable and what it is for', (value) => {
      let err: unknown;
      try { loadConfig({ IPMI_SOL_PORT: value }, 'h'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        `IPMI_SOL_PORT="${value}" must be a UDP port from 1 to 65535: the port clients reach this BMC on (e.g. the host port 623/udp is published as), or unset for the port it listens on`,
      ]);
    });
  });

  it('takes IPMI_V15_AUTH_TYPES as a list of md5 and password, never none, never empty', () => {
    expect(loadConfig({ IPMI_V15_AUTH_TYPES: 'md5, Password' }, 'h').ipmi15AuthTypes).toEqual(['md5', 'password']);
    expect(loadConfig({ IPMI_V15_AUTH_TYPES: 'password' }, 'h').ipmi15AuthTypes).toEqual(['password']);
    const problems = (env: Record<string, string>): string => { try { loadConfig(env, 'h'); return ''; } catch (e) { return (e as ConfigError).problems.join('\n'); } };
    expect(problems({ IPMI_V15_AUTH_TYPES: 'md5,none' })).toMatch(/must not contain "none"/);
    expect(problems({ IPMI_V15_AUTH_TYPES: 'md2' })).toMatch(/"md2" is not supported/);
    expect(problems({ IPMI_V15_AUTH_TYPES: 'sha1' })).toMatch(/"sha1" is not one of md5, password/);
    expect(problems({ IPMI_V15_AUTH_TYPES: ' , ' })).toMatch(/at least one of md5, password \(IPMI_V15=false turns IPMI 1.5 off\)/);
  });

  it('REDFISH_PORT=none turns Redfish off; a certificate needs its key', () => {
    expect(loadConfig({ REDFISH_PORT: 'none' }, 'h').redfishPort).toBeUndefined();
    expect(loadConfig({ REDFISH_PORT: '8443', REDFISH_TLS_CERT: '/c.pem', REDFISH_TLS_KEY: '/k.pem' }, 'h')).toMatchObject({ redfishPort: 8443, redfishTlsCert: '/c.pem', redfishTlsKey: '/k.pem' });
    expect(() => loadConfig({ REDFISH_PORT: 'https' }, 'h')).toThrow(/REDFISH_PORT="https" must be a whole number from 0 to 65535/);
    expect(() => loadConfig({ REDFISH_TLS_CERT: '/c.pem' }, 'h')).toThrow(/REDFISH_TLS_CERT and REDFISH_TLS_KEY must be given together/);
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

import { ConfigError, loadConfig } from './config';

describe('agent configuration', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, 'node-1');
    expect(c).toMatchObject({ machine: 'qemu', ipmiAddress: '0.0.0.0', ipmiPort: 623, ipmiUser: 'admin', ipmiPassword: 'password', ipmi15: true, stateDir: '/vm/bmc', powerOnAtStart: false, nodeName: 'node-1' });
    expect(c.cipherSuites.map((s) => s.id)).toEqual([3, 17]);
    expect(c).toMatchObject({ redfishPort: 443, redfishTlsCert: undefined, redfishTlsKey: undefined });
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

  it('never echoes the password in an error', () => {
    try { loadConfig({ IPMI_PASS: 'secret\u0001' }, 'h'); } catch (e) { expect((e as Error).message).not.toContain('secret'); }
  });
});

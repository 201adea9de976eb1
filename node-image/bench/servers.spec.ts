import { ipmiSimCommands, ipmiSimLanConf } from './servers';

describe('ipmi_sim configuration for the bench', () => {
  it('has one LAN channel on 127.0.0.1 at the chosen port and the admin user', () => {
    const conf = ipmiSimLanConf(40123);
    expect(conf).toContain('  startlan 1\n    addr 127.0.0.1 40123\n    priv_limit admin\n');
    for (const level of ['callback', 'user', 'operator', 'admin']) expect(conf).toContain(`allowed_auths_${level} none md2 md5 straight`);
    expect(conf).toContain('user 2 true "admin" "password" admin 10 none md2 md5 straight');
    expect(conf).toMatch(/guid [0-9a-f]{32}\n/);
    expect(conf).not.toMatch(/addr (?!127\.0\.0\.1)/);
  });

  it('makes the MC at 20h the BMC before adding and enabling it', () => {
    expect(ipmiSimCommands().trim().split('\n')).toEqual([
      'mc_setbmc 0x20',
      'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr',
      'mc_enable 0x20',
    ]);
  });
});

import { maasMachinesErrors } from '../../test/fixtures/exports/provisioning-schemas';
import { exportRow } from '../../test/fixtures/exports/export-nodes';
import { exportNodeOf } from './export-node';
import { ExportErrorCode } from './export.error';
import { renderMaas } from './maas.render';

const node = (options: Parameters<typeof exportRow>[0], host = '127.0.0.1') => exportNodeOf(exportRow(options), host);

describe('renderMaas', () => {
  it('renders an ipmi machine as MAAS runs ipmipower: LAN_2_0, host:port, suite 17', () => {
    const n = node({ name: 'n1', ipmiPort: 16300, password: 'pass-word-1', bootMode: 'bios' });
    expect(renderMaas([n], 'ipmi')).toEqual({
      machines: [{
        hostname: 'n1',
        architecture: 'amd64/generic',
        mac_addresses: [n.nics[0]!.mac],
        power_type: 'ipmi',
        power_parameters: {
          power_driver: 'LAN_2_0', power_address: '127.0.0.1:16300', power_user: 'admin', power_pass: 'pass-word-1',
          cipher_suite_id: '17', privilege_level: 'ADMIN', power_boot_type: 'legacy',
        },
      }],
    });
  });

  it('renders a redfish machine with the service root and the system id', () => {
    const n = node({ name: 'n2', redfishPort: 17100 });
    expect(renderMaas([n], 'redfish').machines[0]).toMatchObject({
      power_type: 'redfish',
      power_parameters: { power_address: 'https://127.0.0.1:17100', power_user: 'admin', power_pass: 's3cret-pass', node_id: '1' },
    });
  });

  it('refuses virtual media (MAAS has no such power type), nodes without a NIC and Redfish without a port', () => {
    const code = (fn: () => unknown): unknown => { try { fn(); } catch (e) { return (e as { code?: unknown }).code; } return undefined; };
    expect(code(() => renderMaas([node({ name: 'a' })], 'redfish-virtualmedia'))).toBe(ExportErrorCode.UnsupportedDriver);
    expect(code(() => renderMaas([node({ name: 'a' }), node({ name: 'vm', machine: 'qemu' })], 'ipmi'))).toBe(ExportErrorCode.NoNic);
    expect(() => renderMaas([node({ name: 'vm', machine: 'qemu' })], 'ipmi')).toThrow(/no NIC .*: vm$/);
    expect(code(() => renderMaas([node({ name: 'old', redfishPort: null })], 'redfish'))).toBe(ExportErrorCode.NoRedfishPort);
  });

  it.each(['ipmi', 'redfish'] as const)('holds every parameter MAAS requires, and only MAAS\'s (power type %s)', (driver) => {
    const nodes = [node({ name: 'a' }), node({ name: 'b', machine: 'qemu', networks: ['x', 'y'], bootMode: 'bios' })];
    expect(maasMachinesErrors(JSON.parse(JSON.stringify(renderMaas(nodes, driver))))).toEqual([]);
  });

  it('is caught by the requirements when a parameter is wrong (the check can fail)', () => {
    const file = JSON.parse(JSON.stringify(renderMaas([node({ name: 'x' })], 'ipmi'))) as { machines: Array<Record<string, unknown>> };
    const machine = file.machines[0]!;
    const parameters = machine['power_parameters'] as Record<string, unknown>;
    parameters['power_driver'] = 'LAN2';
    delete parameters['power_address'];
    parameters['power_port'] = '623';
    delete machine['architecture'];
    expect(maasMachinesErrors(file)).toEqual([
      '/machines/0: architecture is required',
      '/machines/0/power_parameters: power_driver LAN2 is not one of LAN, LAN_2_0',
      '/machines/0/power_parameters: power_address is required',
      '/machines/0/power_parameters: power_port is not a setting of power type ipmi',
    ]);
  });
});

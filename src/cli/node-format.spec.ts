import type { NodeView } from '../nodes/node.model';
import { formatEndpoint, formatNodeDetails, formatNodeTable, formatPowerResult, formatTable } from './node-format';

function nodeView(overrides: Partial<NodeView> = {}): NodeView {
  return {
    id: 'id-1',
    name: 'node1',
    state: 'running',
    powerState: 'off',
    powerObservedAt: null,
    machine: 'qemu',
    memoryMiB: 2048,
    cpus: 2,
    diskSizeGiB: 20,
    cdrom: null,
    bootMode: 'bios',
    bootMenuTimeoutMs: 0,
    enableKvm: 'auto',
    powerOnAtStart: false,
    networks: [],
    labInterfaces: [],
    ipmi: { host: '127.0.0.1', port: 16230, user: 'admin' },
    vnc: { host: '127.0.0.1', port: 15900, passwordAt: null },
    redfish: { host: '127.0.0.1', port: 17000 },
    bmcUsers: 'reset',
    bmcReachable: true,
    container: { name: 'bmcfleet-node1', id: '0123456789abcdef0123' },
    host: 'lab-host-1',
    farm: null,
    lastError: null,
    createdAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
    ...overrides,
  };
}

describe('formatNodeTable', () => {
  it('prints one aligned row per node under the headers, without trailing blanks', () => {
    const table = formatNodeTable([
      nodeView(),
      nodeView({ name: 'a-much-longer-name', state: 'creating', powerState: 'unknown', machine: 'sim', ipmi: { host: '127.0.0.1', port: 16231, user: 'admin' }, vnc: { host: '127.0.0.1', port: 15901, passwordAt: null }, redfish: null, host: null }),
    ]);
    expect(table).toBe([
      'NAME                STATE     POWER    IPMI             VNC              REDFISH          MACHINE  HOST',
      'node1               running   off      127.0.0.1:16230  127.0.0.1:15900  127.0.0.1:17000  qemu     lab-host-1',
      'a-much-longer-name  creating  unknown  127.0.0.1:16231  127.0.0.1:15901  -                sim      -',
      '',
    ].join('\n'));
  });

  it('says so when there are no nodes', () => {
    expect(formatNodeTable([])).toBe('no nodes\n');
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 hosts', () => {
    expect(formatEndpoint({ host: '::1', port: 16230 })).toBe('[::1]:16230');
    expect(formatEndpoint({ host: '10.1.2.3', port: 5 })).toBe('10.1.2.3:5');
  });
});

describe('formatTable', () => {
  it('pads short rows', () => {
    expect(formatTable(['A', 'BB'], [['x']])).toBe('A  BB\nx\n');
  });
});

describe('formatNodeDetails', () => {
  it('prints key: value lines, with the last error when there is one and never a password', () => {
    const text = formatNodeDetails(nodeView({ networks: ['vmlan-a'], lastError: 'BMC did not answer', powerState: 'on', powerObservedAt: '2026-11-24T10:01:00.000Z' }));
    expect(text).toContain('ipmi:           127.0.0.1:16230 user admin\n');
    expect(text).toContain('power:          on (seen 2026-11-24T10:01:00.000Z)\n');
    expect(text).toContain('networks:       vmlan-a\n');
    expect(text).toContain('container:      bmcfleet-node1 (0123456789ab)\n');
    expect(text).toContain('host:           lab-host-1\n');
    expect(text).toContain('last error:     BMC did not answer\n');
    expect(text).not.toMatch(/password/i);
  });
});

describe('formatPowerResult', () => {
  it('says what was done and the power state', () => {
    expect(formatPowerResult('n1', { name: 'n1', action: 'on', powerState: 'on' })).toBe('n1: power on done, power is on\n');
    expect(formatPowerResult('n1', { powerState: 'off' })).toBe('n1: power is off\n');
  });
});

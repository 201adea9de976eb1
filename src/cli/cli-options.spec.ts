import {
  CliUsageError,
  createNodeRequest,
  DEFAULT_ORCHESTRATOR_URL,
  parseInteger,
  parsePowerCommand,
  resolveConnection,
  topologyQuery,
} from './cli-options';

describe('resolveConnection', () => {
  it('defaults to the local orchestrator without a token', () => {
    expect(resolveConnection({}, {})).toEqual({ url: DEFAULT_ORCHESTRATOR_URL, token: null });
  });

  it('takes BMCFLEET_URL and BMCFLEET_API_TOKEN, and the options over them', () => {
    const env = { BMCFLEET_URL: 'http://fleet.example:9000/', BMCFLEET_API_TOKEN: 'from-env' };
    expect(resolveConnection({}, env)).toEqual({ url: 'http://fleet.example:9000', token: 'from-env' });
    expect(resolveConnection({ url: 'https://other:8443', token: 'from-flag' }, env)).toEqual({ url: 'https://other:8443', token: 'from-flag' });
  });

  it('treats empty values as not given', () => {
    expect(resolveConnection({ url: '', token: '' }, { BMCFLEET_URL: '', BMCFLEET_API_TOKEN: '' })).toEqual({ url: DEFAULT_ORCHESTRATOR_URL, token: null });
  });

  it('refuses what is not an http(s) URL, saying what to give', () => {
    expect(() => resolveConnection({ url: 'localhost:8080' }, {})).toThrow('must start with http:// or https://');
    expect(() => resolveConnection({ url: 'not a url' }, {})).toThrow(CliUsageError);
    expect(() => resolveConnection({}, { BMCFLEET_URL: 'ftp://x' })).toThrow('"ftp://x" must start with http://');
  });
});

describe('createNodeRequest', () => {
  it('maps every option to the API body', () => {
    expect(createNodeRequest('node1', {
      memory: '4096', cpus: '4', disk: '40', cdrom: '/srv/iso/debian.iso', bootMode: 'uefi', bootMenuTimeout: '3000', machine: 'qemu',
      network: ['vmlan-a', 'vmlan-b'], labInterface: ['eth3'], ipmiUser: 'root', ipmiPassword: 'calvin', powerOn: true, enableKvm: 'false', host: 'host2',
    })).toEqual({
      name: 'node1', memoryMiB: 4096, cpus: 4, diskSizeGiB: 40, cdrom: '/srv/iso/debian.iso', bootMode: 'uefi', bootMenuTimeoutMs: 3000, machine: 'qemu',
      networks: ['vmlan-a', 'vmlan-b'], labInterfaces: ['eth3'], ipmiUser: 'root', ipmiPassword: 'calvin', powerOnAtStart: true, enableKvm: 'false', host: 'host2',
    });
  });

  it('sends only what was given, so the orchestrator defaults apply', () => {
    expect(createNodeRequest('n2', { network: [], powerOn: undefined })).toEqual({ name: 'n2' });
  });

  it('passes --cdrom as given: a name inside the orchestrator\'s ISO_DIR, not a path of this machine', () => {
    expect(createNodeRequest('n3', { cdrom: 'isos/test.iso' })).toMatchObject({ cdrom: 'isos/test.iso' });
  });

  it.each([
    [{ memory: '64' }, '--memory must be 128..1048576, got 64'],
    [{ cpus: '2.5' }, '--cpus must be a whole number, got "2.5"'],
    [{ disk: '0' }, '--disk must be 1..65536, got 0'],
    [{ bootMode: 'efi' }, '--boot-mode must be one of bios, uefi, got "efi"'],
    [{ machine: 'kvm' }, '--machine must be one of qemu, sim, got "kvm"'],
    [{ enableKvm: 'yes' }, '--enable-kvm must be one of auto, true, false, got "yes"'],
    [{ host: ' ' }, '--host needs a host name (a swarm node\'s name or id)'],
    [{ cdrom: ' ' }, '--cdrom needs the name of an ISO file in the orchestrator\'s ISO_DIR'],
  ])('refuses %j: %s', (options, message) => {
    expect(() => createNodeRequest('n4', options)).toThrow(new CliUsageError(message));
  });

  it('refuses a name the API would refuse, with the rule', () => {
    expect(() => createNodeRequest('Node_1', {})).toThrow('node name "Node_1" must be a lower-case DNS label');
  });
});

describe('parseInteger', () => {
  it('accepts whole numbers within the limits, with blanks around', () => {
    expect(parseInteger('--x', ' 12 ', 1, 12)).toBe(12);
    expect(() => parseInteger('--x', '13', 1, 12)).toThrow('--x must be 1..12, got 13');
    expect(() => parseInteger('--x', '1e3', 1, 5000)).toThrow('whole number');
  });
});

describe('parsePowerCommand', () => {
  it('knows the power actions and status', () => {
    expect(['on', 'off', 'cycle', 'reset', 'soft', 'status'].map(parsePowerCommand)).toEqual(['on', 'off', 'cycle', 'reset', 'soft', 'status']);
    expect(() => parsePowerCommand('diag')).toThrow('power command must be one of on, off, cycle, reset, soft, status');
  });
});

describe('topologyQuery', () => {
  it('splits --nodes, checks --mode, passes --name and --links on as given', () => {
    expect(topologyQuery({ nodes: ' a, b,,c ', mode: 'linux', name: 'lab1', links: 'a:eth1,b:eth1; ' })).toEqual({ nodes: ['a', 'b', 'c'], mode: 'linux', name: 'lab1', links: 'a:eth1,b:eth1; ' });
    expect(topologyQuery({})).toEqual({});
  });

  it('refuses an empty --nodes and an unknown --mode', () => {
    expect(() => topologyQuery({ nodes: ' , ' })).toThrow('--nodes needs node names');
    expect(() => topologyQuery({ mode: 'bridge' })).toThrow('--mode must be one of ext-container, linux');
  });
});

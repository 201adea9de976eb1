import { AppConfig } from './app-config';
import {
  AGENT_VARIABLES,
  ConfigValidationError,
  Environment,
  isLoopbackAddress,
  parseAppConfig,
} from './env.schema';

const CWD = '/srv/bmcfleet';
const GOOD_TOKEN = 'a-long-enough-secret-token';

function parse(env: Environment): AppConfig {
  return parseAppConfig(env, { cwd: CWD });
}

/** Runs a parse that must fail and returns its issues as "VARIABLE: problem" lines. */
function issuesOf(env: Environment): ConfigValidationError {
  try {
    parse(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected ConfigValidationError, parse succeeded');
}

describe('parseAppConfig', () => {
  it('applies the defaults of design.md section 3 to an empty environment', () => {
    const sut = parse({});
    expect(sut).toEqual({
      http: { port: 8080, bindAddress: '127.0.0.1', apiToken: null },
      dataDir: '/srv/bmcfleet/data',
      isoDir: '/srv/bmcfleet/data/iso',
      maxDiskGiB: 2048,
      publishAddress: '127.0.0.1',
      ipmiPortRange: { first: 16230, last: 16999 },
      vncPortRange: { first: 15900, last: 16229 },
      redfishPortRange: { first: 17000, last: 17999 },
      fleetRedfish: { port: 8443 },
      nodeImage: 'bmcfleet/node:latest',
      nodeDefaults: {},
      log: { level: 'log', format: 'text' },
      fleetName: 'bmcfleet',
      runtime: 'docker',
      reconcileIntervalMs: 15_000,
      simPlacement: 'farm',
      farmCapacity: 2000,
    });
  });

  it('reads every variable', () => {
    const sut = parse({
      PORT: '9000',
      BIND_ADDRESS: '0.0.0.0',
      API_TOKEN: GOOD_TOKEN,
      DATA_DIR: '/var/lib/bmcfleet',
      PUBLISH_ADDRESS: '192.0.2.10',
      IPMI_PORT_RANGE: '20000-20099',
      VNC_PORT_RANGE: '21000-21099',
      REDFISH_PORT_RANGE: '22000-22099',
      FLEET_REDFISH_PORT: '9443',
      NODE_IMAGE: 'registry.example:5000/lab/node:1.2.3',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      NODE_DEFAULTS_ENABLE_KVM: 'false',
      NODE_DEFAULTS_VM_MEMORY: '4096',
      FLEET_NAME: 'lab-a',
      RECONCILE_INTERVAL_S: '0',
      ISO_DIR: '/srv/iso',
      MAX_DISK_GIB: '500',
      RUNTIME: 'swarm',
      SIM_PLACEMENT: 'container',
      FARM_CAPACITY: '500',
    });
    expect(sut).toEqual({
      http: { port: 9000, bindAddress: '0.0.0.0', apiToken: GOOD_TOKEN },
      dataDir: '/var/lib/bmcfleet',
      isoDir: '/srv/iso',
      maxDiskGiB: 500,
      publishAddress: '192.0.2.10',
      ipmiPortRange: { first: 20000, last: 20099 },
      vncPortRange: { first: 21000, last: 21099 },
      redfishPortRange: { first: 22000, last: 22099 },
      fleetRedfish: { port: 9443 },
      nodeImage: 'registry.example:5000/lab/node:1.2.3',
      nodeDefaults: { ENABLE_KVM: 'false', VM_MEMORY: '4096' },
      log: { level: 'debug', format: 'json' },
      fleetName: 'lab-a',
      runtime: 'swarm',
      reconcileIntervalMs: 0,
      simPlacement: 'container',
      farmCapacity: 500,
    });
  });

  it('places sim nodes one service each on a swarm, and refuses farms there', () => {
    expect(parse({ RUNTIME: 'swarm' }).simPlacement).toBe('container');
    expect(parse({}).simPlacement).toBe('farm');
    const error = issuesOf({ RUNTIME: 'swarm', SIM_PLACEMENT: 'farm' });
    expect(error.issues.map((issue) => issue.variable)).toEqual(['SIM_PLACEMENT']);
    expect(error.issues[0]!.problem).toMatch(/RUNTIME=swarm/);
    expect(parse({ RUNTIME: 'swarm', SIM_PLACEMENT: 'container' }).simPlacement).toBe('container');
    expect(parse({ SIM_PLACEMENT: 'container' }).simPlacement).toBe('container');
  });

  it('refuses a fleet name Docker names cannot carry and a reconcile interval that is not a number', () => {
    const error = issuesOf({ FLEET_NAME: 'Lab_A', RECONCILE_INTERVAL_S: '5s' });
    expect(error.issues.map((issue) => issue.variable)).toEqual(['FLEET_NAME', 'RECONCILE_INTERVAL_S']);
  });

  it('refuses a sim placement it does not know and a farm capacity out of range', () => {
    const error = issuesOf({ SIM_PLACEMENT: 'cloud', FARM_CAPACITY: '0' });
    expect(error.issues.map((issue) => issue.variable)).toEqual(['SIM_PLACEMENT', 'FARM_CAPACITY']);
    expect(issuesOf({ FARM_CAPACITY: '9001' }).issues[0]?.problem).toContain('from 1 to 9000');
  });

  it('treats blank variables as unset and trims values', () => {
    const sut = parse({ PORT: '', BIND_ADDRESS: '   ', API_TOKEN: '', NODE_IMAGE: ' bmcfleet/node:dev ' });
    expect(sut.http).toEqual({ port: 8080, bindAddress: '127.0.0.1', apiToken: null });
    expect(sut.nodeImage).toBe('bmcfleet/node:dev');
  });

  it('resolves a relative DATA_DIR against the working directory', () => {
    expect(parse({ DATA_DIR: 'state/../fleet' }).dataDir).toBe('/srv/bmcfleet/fleet');
  });

  it('accepts PORT=0 (a free port, for tests) and 65535', () => {
    expect(parse({ PORT: '0' }).http.port).toBe(0);
    expect(parse({ PORT: '65535' }).http.port).toBe(65535);
  });

  it('returns a deeply frozen object', () => {
    const sut = parse({ NODE_DEFAULTS_DEBUG: 'true' });
    expect(Object.isFrozen(sut)).toBe(true);
    expect(Object.isFrozen(sut.http)).toBe(true);
    expect(Object.isFrozen(sut.ipmiPortRange)).toBe(true);
    expect(Object.isFrozen(sut.vncPortRange)).toBe(true);
    expect(Object.isFrozen(sut.nodeDefaults)).toBe(true);
    expect(Object.isFrozen(sut.log)).toBe(true);
  });

  it.each([
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80a'],
    ['PORT', '1e3'],
    ['BIND_ADDRESS', 'localhost'],
    ['BIND_ADDRESS', '256.0.0.1'],
    ['PUBLISH_ADDRESS', 'example.org'],
    ['IPMI_PORT_RANGE', '16230'],
    ['IPMI_PORT_RANGE', '17000-16230'],
    ['IPMI_PORT_RANGE', '0-100'],
    ['VNC_PORT_RANGE', '15900-70000'],
    ['VNC_PORT_RANGE', '15900:16229'],
    ['NODE_IMAGE', 'Bmcfleet/Node:latest'],
    ['NODE_IMAGE', 'bmcfleet/node:lat est'],
    ['LOG_LEVEL', 'info'],
    ['LOG_FORMAT', 'yaml'],
    ['RUNTIME', 'kubernetes'],
  ])('rejects %s=%j and names the variable and its value', (variable, value) => {
    const error = issuesOf({ [variable]: value });
    expect(error.issues).toEqual([expect.objectContaining({ variable, value })]);
    expect(error.message).toContain(`${variable}=${JSON.stringify(value)}`);
  });

  it('lists every bad variable in one error', () => {
    const error = issuesOf({
      PORT: 'http',
      BIND_ADDRESS: 'anywhere',
      IPMI_PORT_RANGE: 'x',
      LOG_FORMAT: 'xml',
      NODE_DEFAULTS_VM_RAM: '1',
    });
    expect(error.issues.map((issue) => issue.variable)).toEqual([
      'PORT',
      'BIND_ADDRESS',
      'IPMI_PORT_RANGE',
      'LOG_FORMAT',
      'NODE_DEFAULTS_VM_RAM',
    ]);
    expect(error.message).toMatch(/^invalid configuration \(5 problems\):\n/);
    expect(error.message.split('\n')).toHaveLength(6);
  });

  it('refuses NODE_DEFAULTS_IPMI_SOL_PORT: the SOL port is per node, from its published host port', () => {
    const error = issuesOf({ NODE_DEFAULTS_IPMI_SOL_PORT: '623' });
    expect(error.issues).toEqual([expect.objectContaining({ variable: 'NODE_DEFAULTS_IPMI_SOL_PORT', problem: expect.stringContaining('host port its IPMI is published on') })]);
  });

  it('refuses a PORT inside VNC_PORT_RANGE: both are host TCP ports', () => {
    const error = issuesOf({ PORT: '16000' });
    expect(error.issues).toEqual([expect.objectContaining({ variable: 'PORT', value: '16000' })]);
    expect(error.message).toContain('VNC_PORT_RANGE');
  });

  it('turns the fleet Redfish endpoint off with FLEET_REDFISH_PORT=none and takes 0 as "a free port"', () => {
    expect(parse({ FLEET_REDFISH_PORT: 'none' }).fleetRedfish).toBeNull();
    expect(parse({ FLEET_REDFISH_PORT: '0' }).fleetRedfish).toEqual({ port: 0 });
    expect(issuesOf({ FLEET_REDFISH_PORT: 'off' }).issues).toEqual([expect.objectContaining({ variable: 'FLEET_REDFISH_PORT', value: 'off' })]);
  });

  it.each<[Record<string, string>, string, RegExp]>([
    [{ PORT: '17005' }, 'PORT', /inside REDFISH_PORT_RANGE \(17000-17999\)/],
    [{ FLEET_REDFISH_PORT: '16000' }, 'FLEET_REDFISH_PORT', /inside VNC_PORT_RANGE/],
    [{ FLEET_REDFISH_PORT: '17000' }, 'FLEET_REDFISH_PORT', /inside REDFISH_PORT_RANGE/],
    [{ FLEET_REDFISH_PORT: '8080' }, 'FLEET_REDFISH_PORT', /same TCP port as PORT/],
    [{ REDFISH_PORT_RANGE: '16200-16300' }, 'REDFISH_PORT_RANGE', /overlaps VNC_PORT_RANGE/],
  ])('keeps the host TCP ports apart: %j', (env, variable, problem) => {
    expect(issuesOf(env).issues).toEqual([expect.objectContaining({ variable, problem: expect.stringMatching(problem) })]);
  });

  it('refuses NODE_DEFAULTS_REDFISH_PORT: every node has its own leased Redfish port', () => {
    expect(issuesOf({ NODE_DEFAULTS_REDFISH_PORT: '443' }).issues).toEqual([expect.objectContaining({ variable: 'NODE_DEFAULTS_REDFISH_PORT', problem: expect.stringContaining('REDFISH_PORT_RANGE') })]);
  });

  describe('API token and bind address', () => {
    it.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])(
      'allows no token on loopback %s',
      (address) => {
        expect(parse({ BIND_ADDRESS: address }).http.apiToken).toBeNull();
      },
    );

    it.each(['0.0.0.0', '::', '192.0.2.1', '10.0.0.5', 'fe80::1'])(
      'refuses to listen on %s without API_TOKEN, with a message that says why',
      (address) => {
        const error = issuesOf({ BIND_ADDRESS: address });
        expect(error.issues).toEqual([{ variable: 'API_TOKEN', value: null, problem: expect.stringContaining(address) }]);
        expect(error.message).toContain('not a loopback address');
      },
    );

    it('listens beyond loopback when a token is set', () => {
      expect(parse({ BIND_ADDRESS: '0.0.0.0', API_TOKEN: GOOD_TOKEN }).http).toEqual({
        port: 8080,
        bindAddress: '0.0.0.0',
        apiToken: GOOD_TOKEN,
      });
    });

    it.each(['too-short', 'sixteen chars and a space'])('rejects the weak token %j without echoing it', (token) => {
      const error = issuesOf({ API_TOKEN: token });
      expect(error.issues).toEqual([expect.objectContaining({ variable: 'API_TOKEN', value: null })]);
      expect(error.message).not.toContain(token);
    });
  });

  describe('NODE_DEFAULTS_*', () => {
    it('accepts every agent variable of design.md section 1', () => {
      const env = Object.fromEntries(AGENT_VARIABLES.map((name) => [`NODE_DEFAULTS_${name}`, `v-${name}`]));
      const sut = parse(env);
      expect(Object.keys(sut.nodeDefaults).sort()).toEqual([...AGENT_VARIABLES].sort());
      expect(sut.nodeDefaults['VM_CPUS']).toBe('v-VM_CPUS');
    });

    it('keeps an empty value: the node gets VAR= (e.g. to clear VM_CDROM)', () => {
      expect(parse({ NODE_DEFAULTS_VM_CDROM: '' }).nodeDefaults).toEqual({ VM_CDROM: '' });
    });

    it('rejects a name that is not an agent variable, so typos do not pass silently', () => {
      const error = issuesOf({ NODE_DEFAULTS_ENABLE_KMV: 'false', NODE_DEFAULTS_: 'x' });
      expect(error.issues.map((issue) => issue.variable)).toEqual(['NODE_DEFAULTS_', 'NODE_DEFAULTS_ENABLE_KMV']);
      expect(error.message).toContain('ENABLE_KMV is not an agent variable');
    });

    it('holds NODE_DEFAULTS_IPMI_PASS to the API\'s password rule (8 to 20 printable ASCII)', () => {
      const error = issuesOf({ NODE_DEFAULTS_IPMI_PASS: 'short' });
      expect(error.issues).toEqual([{ variable: 'NODE_DEFAULTS_IPMI_PASS', value: null, problem: 'must be 8 to 20 printable ASCII characters' }]);
      expect(issuesOf({ NODE_DEFAULTS_IPMI_PASS: 'x'.repeat(21) }).issues).toHaveLength(1);
      expect(parse({ NODE_DEFAULTS_IPMI_PASS: 'eight-ok' }).nodeDefaults).toEqual({ IPMI_PASS: 'eight-ok' });
    });

    it('never echoes the IPMI password default', () => {
      const error = issuesOf({ NODE_DEFAULTS_IPMI_PASS: 'hunter2-secret', PORT: 'x' });
      expect(error.message).not.toContain('hunter2-secret');
    });
  });

  describe('ISO_DIR and MAX_DISK_GIB', () => {
    it('puts ISO_DIR under DATA_DIR by default and resolves a relative one against the working directory', () => {
      expect(parse({ DATA_DIR: '/var/lib/fleet' }).isoDir).toBe('/var/lib/fleet/iso');
      expect(parse({ ISO_DIR: 'images/../isos' }).isoDir).toBe('/srv/bmcfleet/isos');
    });

    it('refuses the root directory as ISO_DIR and a MAX_DISK_GIB out of range', () => {
      const error = issuesOf({ ISO_DIR: '/tmp/..', MAX_DISK_GIB: '0' });
      expect(error.issues.map((issue) => issue.variable)).toEqual(['ISO_DIR', 'MAX_DISK_GIB']);
      expect(issuesOf({ MAX_DISK_GIB: '65537' }).message).toContain('from 1 to 65536');
      expect(issuesOf({ MAX_DISK_GIB: '1T' }).issues).toHaveLength(1);
    });
  });

  it('ignores variables it does not know (the environment holds many others)', () => {
    expect(() => parse({ HOME: '/root', PATH: '/usr/bin', IPMI_PORT: 'not-ours' })).not.toThrow();
  });
});

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::2', false],
    ['localhost', false],
    ['', false],
  ])('%j -> %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

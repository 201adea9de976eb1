/**
 * The pure translations of dockerode-mapping.ts: create options of a node container, inspect and
 * list answers (shapes captured from Docker 20.10), and the classification of Engine errors
 * (messages as docker-modem builds them from the Engine's answers).
 */
import type Dockerode from 'dockerode';
import { DockerAdapterError, LABELS, NodeContainerSpec } from './docker-adapter';
import {
  classifyDockerError,
  containerCreateOptions,
  dockerMessage,
  fleetContainerFilters,
  isSameNode,
  parseEnv,
  toAdapterError,
  toContainerState,
  toInspectedContainer,
  toManagedContainer,
  toNetworkInfo,
  volumeCreateOptions,
} from './dockerode-mapping';

const NODE_LABELS = {
  [LABELS.managed]: 'true',
  [LABELS.fleet]: 'fleet-1',
  [LABELS.node]: 'node1',
  [LABELS.nodeId]: 'id-1',
  [LABELS.role]: 'node',
};

const SPEC: NodeContainerSpec = {
  name: 'bmcfleet-node1',
  image: 'bmcfleet/node:latest',
  labels: NODE_LABELS,
  env: { MACHINE: 'sim', IPMI_PORT: '16230', VNC_PORT: '15900', VM_NETWORKS: 'eth1,eth2' },
  ipmi: { hostIp: '127.0.0.1', port: 16230, containerPort: 16230 },
  vnc: { hostIp: '127.0.0.1', port: 15900, containerPort: 15900 },
  redfish: { hostIp: '127.0.0.1', port: 17000, containerPort: 17000 },
  volumeName: 'bmcfleet-node1',
  readOnlyBinds: [{ hostPath: '/srv/isos/install:1.iso', containerPath: '/iso/install:1.iso' }],
  devices: ['/dev/net/tun', '/dev/kvm'],
  capDrop: ['ALL'],
  capAdd: ['NET_ADMIN'],
  securityOpt: ['no-new-privileges:true'],
  limits: { memoryBytes: 640 * 1024 * 1024, nanoCpus: 2_500_000_000, pids: 514, logMaxSize: '10m', logMaxFiles: 3 },
};

/** What docker-modem rejects with when the Engine answers an error status. */
function modemError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
}

describe('containerCreateOptions', () => {
  const sut = containerCreateOptions(SPEC, 8);

  it('publishes IPMI over UDP and VNC over TCP on the publish address, host port = container port', () => {
    expect(sut.ExposedPorts).toEqual({ '16230/udp': {}, '15900/tcp': {}, '17000/tcp': {} });
    expect(sut.HostConfig?.PortBindings).toEqual({
      '16230/udp': [{ HostIp: '127.0.0.1', HostPort: '16230' }],
      '15900/tcp': [{ HostIp: '127.0.0.1', HostPort: '15900' }],
      '17000/tcp': [{ HostIp: '127.0.0.1', HostPort: '17000' }],
    });
    // A node made before Redfish ports publishes IPMI and VNC only.
    expect(containerCreateOptions({ ...SPEC, redfish: null }, 2).ExposedPorts).toEqual({ '16230/udp': {}, '15900/tcp': {} });
  });

  it('publishes a container port on another host port when the spec says so', () => {
    const remapped = containerCreateOptions({ ...SPEC, ipmi: { hostIp: '127.0.0.1', port: 16231, containerPort: 623 } }, 2);
    expect(remapped.ExposedPorts).toEqual({ '623/udp': {}, '15900/tcp': {}, '17000/tcp': {} });
    expect(remapped.HostConfig?.PortBindings).toMatchObject({ '623/udp': [{ HostIp: '127.0.0.1', HostPort: '16231' }] });
  });

  it('mounts the named volume at /vm and the read-only binds as bind mounts (a colon in a path is fine)', () => {
    expect(sut.HostConfig?.Binds).toEqual(['bmcfleet-node1:/vm']);
    expect(sut.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/srv/isos/install:1.iso', Target: '/iso/install:1.iso', ReadOnly: true }]);
  });

  it('passes devices through at the same path, adds capabilities, restarts unless stopped', () => {
    expect(sut.HostConfig?.Devices).toEqual([
      { PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' },
      { PathOnHost: '/dev/kvm', PathInContainer: '/dev/kvm', CgroupPermissions: 'rwm' },
    ]);
    expect(sut.HostConfig?.CapAdd).toEqual(['NET_ADMIN']);
    expect(sut.HostConfig?.RestartPolicy).toEqual({ Name: 'unless-stopped' });
    expect(sut.HostConfig).not.toHaveProperty('Privileged');
  });

  it('limits memory (no swap on top), CPU, pids and the log; drops capabilities; no new privileges', () => {
    expect(sut.HostConfig).toMatchObject({
      Memory: 640 * 1024 * 1024,
      MemorySwap: 640 * 1024 * 1024,
      NanoCpus: 2_500_000_000,
      PidsLimit: 514,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
    });
  });

  it('caps the CPU limit at what the engine has (Docker refuses more)', () => {
    expect(containerCreateOptions(SPEC, 2).HostConfig?.NanoCpus).toBe(2_000_000_000);
  });

  it('carries name, image, labels and the environment as NAME=value', () => {
    expect(sut.name).toBe('bmcfleet-node1');
    expect(sut.Image).toBe('bmcfleet/node:latest');
    expect(sut.Labels).toEqual(NODE_LABELS);
    expect(sut.Env).toEqual(['MACHINE=sim', 'IPMI_PORT=16230', 'VNC_PORT=15900', 'VM_NETWORKS=eth1,eth2']);
  });

  it('has no binds but the volume when there is no ISO', () => {
    const options = containerCreateOptions({ ...SPEC, readOnlyBinds: [] }, 8);
    expect(options.HostConfig?.Binds).toEqual(['bmcfleet-node1:/vm']);
    expect(options.HostConfig?.Mounts).toEqual([]);
  });
});

describe('volumeCreateOptions', () => {
  it('names the volume and labels it like the container', () => {
    expect(volumeCreateOptions(SPEC)).toEqual({ Name: 'bmcfleet-node1', Labels: NODE_LABELS });
  });
});

describe('isSameNode', () => {
  it('is true for the same node id in the same fleet', () => {
    expect(isSameNode({ ...NODE_LABELS }, NODE_LABELS)).toBe(true);
  });

  it('is false for another node id, another fleet, no labels, or a spec without a node id', () => {
    expect(isSameNode({ ...NODE_LABELS, [LABELS.nodeId]: 'id-2' }, NODE_LABELS)).toBe(false);
    expect(isSameNode({ ...NODE_LABELS, [LABELS.fleet]: 'fleet-2' }, NODE_LABELS)).toBe(false);
    expect(isSameNode({}, NODE_LABELS)).toBe(false);
    expect(isSameNode({}, {})).toBe(false);
  });
});

describe('parseEnv', () => {
  it('splits at the first "=" only and keeps empty values', () => {
    expect(parseEnv(['A=1', 'B=x=y', 'C=', 'D'])).toEqual({ A: '1', B: 'x=y', C: '', D: '' });
  });

  it('takes a missing Env as empty', () => {
    expect(parseEnv(null)).toEqual({});
  });
});

describe('toContainerState', () => {
  it.each(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'])('keeps %s', (state) => {
    expect(toContainerState(state)).toBe(state);
  });

  it('takes an unknown word as dead', () => {
    expect(toContainerState('zombie')).toBe('dead');
  });
});

/** A Docker 20.10 inspect of a running node (MACHINE=sim), trimmed to what is read. */
function inspectAnswer(overrides: { state?: string; ports?: Record<string, unknown> } = {}): Dockerode.ContainerInspectInfo {
  return {
    Id: 'a2bd99c26ce548d641541fb72103cffb6a538436a3b2d2ea135e6e2524fcd751',
    Name: '/bmcfleet-node1',
    State: { Status: overrides.state ?? 'running', Running: true },
    Image: 'sha256:c2f5739b0f82c628f8a0d23b0bac57b0ca1124cc73924aa0468ca807c086476a',
    Config: {
      Env: ['MACHINE=sim', 'IPMI_PORT=16230', 'VNC_PORT=15900', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'BMC_STATE_DIR=/vm/bmc'],
      Image: 'bmcfleet/node:latest',
      Labels: NODE_LABELS,
      ExposedPorts: { '16230/udp': {}, '15900/tcp': {}, '5900/tcp': {}, '623/udp': {} },
    },
    HostConfig: {
      PortBindings: {
        '16230/udp': [{ HostIp: '127.0.0.1', HostPort: '16230' }],
        '15900/tcp': [{ HostIp: '127.0.0.1', HostPort: '15900' }],
      },
    },
    NetworkSettings: {
      Ports: overrides.ports ?? {
        '16230/udp': [{ HostIp: '127.0.0.1', HostPort: '16230' }],
        '15900/tcp': [{ HostIp: '127.0.0.1', HostPort: '15900' }],
        '5900/tcp': null,
        '623/udp': null,
      },
      Networks: { bridge: { NetworkID: '232d49c3', IPAddress: '172.17.0.4' }, 'vmlan-a': { NetworkID: '9f1e22aa', IPAddress: '' } },
    },
  } as unknown as Dockerode.ContainerInspectInfo;
}

describe('toInspectedContainer', () => {
  it('maps a running node: name without the slash, env, image name, published ports, networks and their addresses', () => {
    expect(toInspectedContainer(inspectAnswer())).toEqual({
      id: 'a2bd99c26ce548d641541fb72103cffb6a538436a3b2d2ea135e6e2524fcd751',
      name: 'bmcfleet-node1',
      state: 'running',
      labels: NODE_LABELS,
      env: {
        MACHINE: 'sim',
        IPMI_PORT: '16230',
        VNC_PORT: '15900',
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        BMC_STATE_DIR: '/vm/bmc',
      },
      image: 'bmcfleet/node:latest',
      publishedPorts: { '16230/udp': 16230, '15900/tcp': 15900 },
      networks: ['bridge', 'vmlan-a'],
      // A network without an address (not connected yet) is left out.
      addresses: { bridge: '172.17.0.4' },
      exit: null,
    });
  });

  it('reports how a container that stopped ended its run (exit code, time, killed for memory)', () => {
    const answer = inspectAnswer({ state: 'exited' });
    const stopped = { ...answer, State: { ...answer.State, Running: false, ExitCode: 137, FinishedAt: '2026-12-07T10:00:00.5Z', OOMKilled: true } } as Dockerode.ContainerInspectInfo;
    expect(toInspectedContainer(stopped).exit).toEqual({ code: 137, at: '2026-12-07T10:00:00.5Z', outOfMemory: true });
    // Docker's zero time: created, never run.
    const created = { ...answer, State: { ...answer.State, Running: false, ExitCode: 0, FinishedAt: '0001-01-01T00:00:00Z', OOMKilled: false } } as Dockerode.ContainerInspectInfo;
    expect(toInspectedContainer(created).exit).toBeNull();
  });

  it('reads the configured bindings of a container that is not running (Docker lists no live ports then)', () => {
    const sut = toInspectedContainer(inspectAnswer({ state: 'exited', ports: {} }));
    expect(sut.state).toBe('exited');
    expect(sut.publishedPorts).toEqual({ '16230/udp': 16230, '15900/tcp': 15900 });
  });

  it('takes the live port where Docker chose the host port itself', () => {
    const answer = inspectAnswer({ ports: { '5900/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }] } });
    (answer.HostConfig as { PortBindings: unknown }).PortBindings = { '5900/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] };
    expect(toInspectedContainer(answer).publishedPorts).toEqual({ '5900/tcp': 32768 });
  });
});

describe('toManagedContainer', () => {
  it('maps a list entry', () => {
    const entry = { Id: 'abc', Names: ['/bmcfleet-node1'], State: 'exited', Labels: NODE_LABELS } as unknown as Dockerode.ContainerInfo;
    expect(toManagedContainer(entry)).toEqual({ id: 'abc', name: 'bmcfleet-node1', state: 'exited', labels: NODE_LABELS });
  });
});

describe('toNetworkInfo', () => {
  it('maps name, id and the internal and IPv6 flags', () => {
    const answer = { Name: 'vmlan-a', Id: '9f1e', Internal: true, EnableIPv6: false } as Dockerode.NetworkInspectInfo;
    expect(toNetworkInfo(answer)).toEqual({ name: 'vmlan-a', id: '9f1e', internal: true, ipv6: false });
  });
});

describe('fleetContainerFilters', () => {
  it('filters on the managed flag and the fleet id', () => {
    expect(fleetContainerFilters('fleet-1')).toEqual({ label: ['io.bmcfleet.managed=true', 'io.bmcfleet.fleet=fleet-1'] });
  });
});

describe('classifyDockerError', () => {
  it.each([
    [
      'a port another container published',
      500,
      'driver failed programming external connectivity on endpoint bmcfleet-node1 (0f3c): Bind for 127.0.0.1:16230 failed: port is already allocated',
    ],
    [
      'a port a host process holds',
      500,
      'driver failed programming external connectivity on endpoint bmcfleet-node1 (0f3c): Error starting userland proxy: listen udp4 127.0.0.1:16230: bind: address already in use',
    ],
  ])('says port-in-use for %s', (_what, statusCode, message) => {
    expect(classifyDockerError(modemError(statusCode, message))).toEqual({ kind: 'port-in-use', statusCode, text: message });
  });

  it('says image-missing for "No such image" and not-found for other 404s', () => {
    expect(classifyDockerError(modemError(404, 'No such image: bmcfleet/none:latest')).kind).toBe('image-missing');
    expect(classifyDockerError(modemError(404, 'No such container: bmcfleet-node1')).kind).toBe('not-found');
    expect(classifyDockerError(modemError(404, 'network vmlan-x not found')).kind).toBe('not-found');
  });

  it('says conflict for 409 and engine for the rest', () => {
    expect(classifyDockerError(modemError(409, 'Conflict. The container name "/bmcfleet-node1" is already in use')).kind).toBe('conflict');
    expect(classifyDockerError(modemError(500, 'something broke')).kind).toBe('engine');
    expect(classifyDockerError(modemError(400, 'invalid mount config')).kind).toBe('engine');
  });

  it('says engine, with the socket, when the engine does not answer', () => {
    const refused = Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT', address: '/var/run/docker.sock' });
    expect(classifyDockerError(refused)).toEqual({ kind: 'engine', statusCode: undefined, text: 'connect ENOENT /var/run/docker.sock' });
    const tcp = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', address: '127.0.0.1' });
    expect(classifyDockerError(tcp).text).toBe('connect ECONNREFUSED (Docker engine at 127.0.0.1)');
  });
});

describe('dockerMessage', () => {
  it("strips docker-modem's prefix when the Engine's JSON is missing (streamed answers)", () => {
    const streamed = Object.assign(new Error('(HTTP code 500) server error - Cannot locate specified Dockerfile: x '), { statusCode: 500, json: null });
    expect(dockerMessage(streamed)).toBe('Cannot locate specified Dockerfile: x');
  });

  it('takes a non-error as text', () => {
    expect(dockerMessage('boom')).toBe('boom');
  });
});

describe('toAdapterError', () => {
  it('names the operation, keeps Docker text, kind and status', () => {
    const sut = toAdapterError('start of container bmcfleet-node1', modemError(500, 'Bind for 127.0.0.1:16230 failed: port is already allocated'));
    expect(sut).toBeInstanceOf(DockerAdapterError);
    expect(sut).toMatchObject({
      kind: 'port-in-use',
      statusCode: 500,
      message: 'start of container bmcfleet-node1 failed: Bind for 127.0.0.1:16230 failed: port is already allocated',
    });
  });

  it('passes a DockerAdapterError through unchanged', () => {
    const original = new DockerAdapterError('conflict', 'already explained');
    expect(toAdapterError('anything', original)).toBe(original);
  });
});

import { LABELS } from '../../docker/docker-adapter';
import type { NodeSpec } from '../node-runtime';
import { NodeSpecRefusedError } from '../runtime-errors';
import { ADDRESS_LABEL, chooseHost, pinnedNodeId, serviceSpecOf, swarmHostOf, type SwarmHostInfo, volumeNameOf } from './service-spec';

const spec: NodeSpec = {
  nodeId: 'n-1', name: 'node1', ref: 'fleet-node1', image: 'bmcfleet/node:latest',
  env: { NODE_NAME: 'node1', IPMI_PORT: '16230', VM_NETWORKS: 'eth1' },
  ports: [
    { name: 'ipmi', inside: 16230, outside: 16230, protocol: 'udp', address: '0.0.0.0' },
    { name: 'redfish', inside: 18443, outside: 18443, protocol: 'tcp', address: '0.0.0.0' },
  ],
  diskPath: '/vm', files: [{ hostPath: '/srv/iso/a.iso', path: '/iso/a.iso' }], devices: ['tun'],
  capabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'], noNewPrivileges: true, networks: ['lab1'],
  limits: { memoryBytes: 1024 * 1024 * 1024, cpus: 1.5, pids: 513 }, host: null,
};

describe('serviceSpecOf', () => {
  const service = serviceSpecOf(spec, 'fleet-a', 'swarmnode1', 'fleet-nodes') as any;

  it('is one replica pinned to the chosen swarm node, named after the ref', () => {
    expect(service.Name).toBe('fleet-node1');
    expect(service.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(service.TaskTemplate.Placement.Constraints).toEqual(['node.id==swarmnode1']);
    expect(service.TaskTemplate.RestartPolicy.Condition).toBe('any');
  });

  it('publishes every port in host mode, the same port inside and out', () => {
    expect(service.EndpointSpec.Ports).toEqual([
      { Name: 'ipmi', Protocol: 'udp', TargetPort: 16230, PublishedPort: 16230, PublishMode: 'host' },
      { Name: 'redfish', Protocol: 'tcp', TargetPort: 18443, PublishedPort: 18443, PublishMode: 'host' },
    ]);
  });

  it('mounts the node volume at /vm and the ISO read-only, all labelled as the fleet\'s and the node\'s', () => {
    const labels = { [LABELS.managed]: 'true', [LABELS.fleet]: 'fleet-a', [LABELS.node]: 'node1', [LABELS.nodeId]: 'n-1', [LABELS.role]: 'node' };
    expect(service.Labels).toEqual(labels);
    expect(service.TaskTemplate.ContainerSpec.Labels).toEqual(labels);
    expect(service.TaskTemplate.ContainerSpec.Mounts).toEqual([
      { Type: 'volume', Source: volumeNameOf('fleet-node1'), Target: '/vm', VolumeOptions: { Labels: labels } },
      { Type: 'bind', Source: '/srv/iso/a.iso', Target: '/iso/a.iso', ReadOnly: true },
    ]);
    expect(volumeNameOf('fleet-node1')).toBe('fleet-node1-vm');
  });

  it('drops every capability and adds back the spec\'s, with MKNOD for the tun device the agent makes', () => {
    expect(service.TaskTemplate.ContainerSpec.CapabilityDrop).toEqual(['ALL']);
    expect(service.TaskTemplate.ContainerSpec.CapabilityAdd).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE', 'MKNOD']);
    expect(serviceSpecOf({ ...spec, devices: [] }, 'fleet-a', 'x', 'fleet-nodes').TaskTemplate as any).toMatchObject({ ContainerSpec: { CapabilityAdd: ['NET_ADMIN', 'NET_BIND_SERVICE'] } });
  });

  it('carries the environment, limits, the fleet\'s network (eth0) then the spec\'s in order (eth1, …), log rotation', () => {
    expect(service.TaskTemplate.ContainerSpec.Env).toEqual(['NODE_NAME=node1', 'IPMI_PORT=16230', 'VM_NETWORKS=eth1']);
    expect(service.TaskTemplate.Resources.Limits).toEqual({ MemoryBytes: 1024 * 1024 * 1024, NanoCPUs: 1.5e9, Pids: 513 });
    expect(service.TaskTemplate.Networks).toEqual([{ Target: 'fleet-nodes' }, { Target: 'lab1' }]);
    expect(service.TaskTemplate.LogDriver).toEqual({ Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } });
  });

  it('keeps the image\'s health check but lets a busy host take minutes before swarm replaces the task', () => {
    expect(service.TaskTemplate.ContainerSpec.HealthCheck).toEqual({ Test: ['CMD', 'node', '/opt/bmcfleet/agent/healthcheck.js'], Interval: 10e9, Timeout: 30e9, Retries: 10, StartPeriod: 60e9 });
  });

  it('refuses KVM and says why (no devices reach a swarm task)', () => {
    expect(() => serviceSpecOf({ ...spec, devices: ['tun', 'kvm'] }, 'fleet-a', 'x', 'fleet-nodes')).toThrow(NodeSpecRefusedError);
    expect(() => serviceSpecOf({ ...spec, devices: ['tun', 'kvm'] }, 'fleet-a', 'x', 'fleet-nodes')).toThrow(/moby\/swarmkit#1244.*enableKvm "false"/);
  });
});

describe('pinnedNodeId', () => {
  it('reads the node.id constraint', () => {
    expect(pinnedNodeId(['node.role==worker', 'node.id==abc123'])).toBe('abc123');
    expect(pinnedNodeId(['node.role==worker'])).toBeNull();
    expect(pinnedNodeId(undefined)).toBeNull();
  });
});

describe('swarmHostOf', () => {
  const node = (over: Record<string, unknown> = {}) => ({
    ID: 'id1', Spec: { Availability: 'active', Labels: {} }, Description: { Hostname: 'h1', Resources: { MemoryBytes: 8e9, NanoCPUs: 4e9 } },
    Status: { State: 'ready', Addr: '10.0.0.5' }, ...over,
  });

  it('takes the advertised address, name, capacity and readiness', () => {
    expect(swarmHostOf(node())).toEqual({ nodeId: 'id1', name: 'h1', schedulable: true, down: false, address: '10.0.0.5', memoryBytes: 8e9, cpus: 4 });
  });

  it('prefers the address label, and a manager\'s address over 0.0.0.0', () => {
    expect(swarmHostOf(node({ Spec: { Availability: 'active', Labels: { [ADDRESS_LABEL]: '203.0.113.9' } } })).address).toBe('203.0.113.9');
    expect(swarmHostOf(node({ Status: { State: 'ready', Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.0.0.7:2377' } })).address).toBe('10.0.0.7');
  });

  it('a down host is down and takes nothing; a drained one takes nothing', () => {
    expect(swarmHostOf(node({ Status: { State: 'down', Addr: '10.0.0.5' } }))).toMatchObject({ down: true, schedulable: false });
    expect(swarmHostOf(node({ Spec: { Availability: 'drain' } }))).toMatchObject({ down: false, schedulable: false });
  });
});

describe('chooseHost', () => {
  const host = (name: string, schedulable = true): SwarmHostInfo => ({ nodeId: `id-${name}`, name, schedulable, down: !schedulable, address: '', memoryBytes: 0, cpus: 0 });
  const hosts = [host('h1'), host('h2'), host('h3', false)];

  it('spreads: the schedulable host with the fewest of the fleet\'s nodes, ties by name', () => {
    expect(chooseHost(hosts, new Map(), null).name).toBe('h1');
    expect(chooseHost(hosts, new Map([['id-h1', 2], ['id-h2', 1]]), null).name).toBe('h2');
  });

  it('takes the named host (by name or id) and refuses an unknown or down one', () => {
    expect(chooseHost(hosts, new Map([['id-h2', 9]]), 'h2').name).toBe('h2');
    expect(chooseHost(hosts, new Map(), 'id-h1').name).toBe('h1');
    expect(() => chooseHost(hosts, new Map(), 'h9')).toThrow(/host h9 is not in the swarm \(hosts: h1, h2, h3\)/);
    expect(() => chooseHost(hosts, new Map(), 'h3')).toThrow(/takes no new nodes/);
    expect(() => chooseHost([host('h3', false)], new Map(), null)).toThrow(NodeSpecRefusedError);
  });
});

import { parse } from 'yaml';
import { clabSchemaErrors, clabSchemaErrorsOfYaml } from '../../test/fixtures/containerlab/clab-schema';
import { substituteVariables } from '../../test/fixtures/containerlab/clab-substitute';
import { FIXTURE_CONTEXT, fleetRecords, nodeRow, recordOf } from '../../test/fixtures/containerlab/node-records';
import { LABELS } from '../docker/docker-adapter';
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';
import { parseLinks, type LinkRequest } from './links';
import { ipmiPasswordVariable, TOPOLOGY_MODES, type TopologyMode } from './topology-nodes';
import { renderTopology, topologyToYaml, type TopologyOptions } from './topology';
import type { ContainerlabNodeRecord } from './containerlab-node-source';
import { ipmiPortEnvironment } from '../nodes/node-spec';

function options(overrides: Partial<TopologyOptions> = {}): TopologyOptions {
  return { labName: 'bmcfleet', mode: 'ext-container', ...overrides };
}

function refusal(fn: () => unknown): ContainerlabError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ContainerlabError) return err;
    throw err;
  }
  throw new Error('expected a ContainerlabError');
}

/** A ring over node1…nodeN: nodeK:eth2 ↔ nodeK+1:eth1 (two lab interfaces per node). */
function ring(count: number): LinkRequest[] {
  if (count < 2) return [];
  return parseLinks(Array.from({ length: count }, (_, i) => `node${i + 1}:eth2,node${((i + 1) % count) + 1}:eth1`).join(';'));
}

describe('renderTopology: ext-container (the orchestrator keeps the containers)', () => {
  it('renders a node under its container name with labels for lab UIs, and no environment', () => {
    const rendered = renderTopology(fleetRecords(1), options());
    expect(rendered.topology).toEqual({
      name: 'bmcfleet',
      topology: {
        nodes: {
          'bmcfleet-node1': {
            kind: 'ext-container',
            group: 'server',
            labels: {
              'graph-icon': 'server',
              'io.bmcfleet.role': 'node',
              'io.bmcfleet.node': 'node1',
              'io.bmcfleet.machine': 'qemu',
              'io.bmcfleet.boot-mode': 'bios',
              'io.bmcfleet.ipmi.address': '127.0.0.1',
              'io.bmcfleet.ipmi.port': '16230',
              'io.bmcfleet.ipmi.user': 'admin',
              'io.bmcfleet.vnc.address': '127.0.0.1',
              'io.bmcfleet.vnc.port': '15900',
              'io.bmcfleet.redfish.address': '127.0.0.1',
              'io.bmcfleet.redfish.port': '17000',
            },
          },
        },
      },
    });
    expect(rendered.undefinedNodes).toEqual([]);
    expect(rendered.passwordVariables).toEqual([]);
  });

  it('writes links between container names, in containerlab\'s endpoints style', () => {
    const records = fleetRecords(2);
    const yaml = topologyToYaml(renderTopology(records, options({ links: parseLinks('node1:eth1,bmcfleet-node2:eth1') })));
    expect(yaml).toContain('- endpoints: [ "bmcfleet-node1:eth1", "bmcfleet-node2:eth1" ]');
    expect(yaml).toMatch(/^# containerlab topology "bmcfleet": 2 bmcfleet node\(s\) as ext-container\./);
    expect(parse(yaml)).toEqual(renderTopology(records, options({ links: parseLinks('node1:eth1,node2:eth1') })).topology);
  });
});

describe('renderTopology: kind linux (containerlab owns the containers)', () => {
  const row = nodeRow('node-1', { labInterfaces: ['eth1', 'eth2'], cdrom: 'debian.iso', ipmiPassword: 'Sup3r-Secret!' });
  const record = recordOf(row, { ...FIXTURE_CONTEXT, nodeDefaults: { ENABLE_KVM: 'false', HTTP_PROXY: 'http://$HOST:3128' } });

  it('carries the node image, environment, devices, capabilities, ISO bind and published ports', () => {
    const node = renderTopology([record], options({ mode: 'linux' })).topology.topology.nodes['node-1'];
    expect(node).toMatchObject({
      kind: 'linux',
      group: 'server',
      image: 'bmcfleet/node:latest',
      binds: ['/srv/iso/debian.iso:/iso/debian.iso:ro'],
      ports: ['127.0.0.1:16230:16230/udp', '127.0.0.1:15900:15900/tcp', '127.0.0.1:17000:17000/tcp'],
      devices: ['/dev/net/tun'],
      'cap-add': ['NET_ADMIN', 'NET_BIND_SERVICE'],
      memory: '1024mb',
      cpu: 1.5,
      'security-opts': ['no-new-privileges:true'],
    });
    const spec = record.spec;
    const expectedEnv = { ...spec.env, IPMI_PASS: '${BMCFLEET_NODE_1_IPMI_PASS}', HTTP_PROXY: 'http://$$HOST:3128' };
    expect(node?.env).toEqual(expectedEnv);
    expect(node?.env).toMatchObject({ VM_NETWORKS: 'eth1,eth2', IPMI_PORT: '16230', REDFISH_PORT: '17000', VM_CDROM: '/iso/debian.iso', NODE_NAME: 'node-1' });
  });

  it('renders a node made before Redfish ports without a Redfish port or labels', () => {
    const old = recordOf(nodeRow('old', { redfishPort: null }));
    const node = renderTopology([old], options({ mode: 'linux' })).topology.topology.nodes['old'];
    expect(node?.ports).toEqual(['127.0.0.1:16230:16230/udp', '127.0.0.1:15900:15900/tcp']);
    expect(node?.env).not.toHaveProperty('REDFISH_PORT');
    expect(Object.keys(node?.labels ?? {}).filter((label) => label.includes('redfish'))).toEqual([]);
  });

  it('publishes a container port on another host port as host:container, with the IPMI_SOL_PORT the spec carries', () => {
    const remapped: ContainerlabNodeRecord = {
      ...record,
      spec: {
        ...record.spec,
        env: { ...record.spec.env, ...ipmiPortEnvironment({ containerPort: 623, hostPort: 16230 }) },
        ports: record.spec.ports.map((port) => (port.name === 'ipmi' ? { ...port, inside: 623 } : port)),
      },
    };
    const node = renderTopology([remapped], options({ mode: 'linux' })).topology.topology.nodes['node-1'];
    expect(node?.ports).toEqual(['127.0.0.1:16230:623/udp', '127.0.0.1:15900:15900/tcp', '127.0.0.1:17000:17000/tcp']);
    expect(node?.env).toMatchObject({ IPMI_PORT: '623', IPMI_SOL_PORT: '16230' });
    // The fleet's own nodes are same-port: no IPMI_SOL_PORT.
    expect(renderTopology([record], options({ mode: 'linux' })).topology.topology.nodes['node-1']?.env).not.toHaveProperty('IPMI_SOL_PORT');
  });

  it('never writes the password, and says which variable carries it', () => {
    const rendered = renderTopology([record], options({ mode: 'linux' }));
    const yaml = topologyToYaml(rendered);
    expect(yaml).not.toContain('Sup3r-Secret!');
    expect(JSON.stringify(rendered)).not.toContain('Sup3r-Secret!');
    expect(rendered.passwordVariables).toEqual(['BMCFLEET_NODE_1_IPMI_PASS']);
    expect(yaml).toContain("#   export BMCFLEET_NODE_1_IPMI_PASS='…'");
    expect(yaml).toMatch(/IPMI_PASS: \|2-\n\s+\$\{BMCFLEET_NODE_1_IPMI_PASS\}\n/);
  });

  it.each([
    'Sup3r-Secret!',
    '  a"b\\c: #d \'x\' ',
    '*anchor-like',
    '- dash: $HOME',
  ])('gives the agent exactly the password %j once containerlab substitutes it', (password) => {
    const yaml = topologyToYaml(renderTopology([record], options({ mode: 'linux' })));
    const deployed = parse(substituteVariables(yaml, { BMCFLEET_NODE_1_IPMI_PASS: password })) as {
      topology: { nodes: Record<string, { env: Record<string, string> }> };
    };
    expect(deployed.topology.nodes['node-1']?.env).toMatchObject({ IPMI_PASS: password, HTTP_PROXY: 'http://$HOST:3128' });
  });

  it('does not label the container as one the orchestrator owns', () => {
    const labels = renderTopology([record], options({ mode: 'linux' })).topology.topology.nodes['node-1']?.labels ?? {};
    expect(labels).not.toHaveProperty(LABELS.managed);
    expect(labels).not.toHaveProperty(LABELS.fleet);
    expect(labels).toMatchObject({ [LABELS.node]: 'node-1', [LABELS.role]: 'node' });
  });

  it('refuses a node on Docker networks, and a publish address containerlab cannot take, saying what to do', () => {
    const onNetworks = recordOf(nodeRow('node2', { networks: ['vmlan-a'], labInterfaces: ['eth2'] }));
    const err = refusal(() => renderTopology([onNetworks], options({ mode: 'linux' })));
    expect(err.code).toBe(ContainerlabErrorCode.NotRenderable);
    expect(err.message).toMatch(/node node2 is attached to Docker networks \(vmlan-a\).*mode=ext-container/);
    // The same node renders as ext-container.
    expect(clabSchemaErrors(renderTopology([onNetworks], options()).topology)).toEqual([]);

    const v6 = recordOf(nodeRow('node3'), { ...FIXTURE_CONTEXT, publishAddress: '::1' });
    expect(refusal(() => renderTopology([v6], options({ mode: 'linux' }))).message).toMatch(/IPv4 host addresses only/);
  });

  it('escapes "$" for containerlab\'s variable pass and refuses "{{", which its template pass would read', () => {
    const yaml = topologyToYaml(renderTopology([record], options({ mode: 'linux' })));
    expect(yaml).toContain('HTTP_PROXY: http://$$HOST:3128');
    const templated = recordOf(nodeRow('node4', { ipmiUser: '{{admin}}' }));
    const err = refusal(() => renderTopology([templated], options()));
    expect(err.message).toBe('node node4: IPMI user contains "{{", which containerlab would read as a template action; change it');
  });
});

describe('rendered topologies pass containerlab\'s schema', () => {
  const cases: Array<[number, TopologyMode]> = TOPOLOGY_MODES.flatMap((mode) => [1, 2, 50].map((n) => [n, mode] as [number, TopologyMode]));

  it.each(cases)('%i node(s) as %s, with a ring of links', (count, mode) => {
    const records = fleetRecords(count, ['eth1', 'eth2']);
    const rendered = renderTopology(records, options({ mode, links: ring(count) }));
    expect(Object.keys(rendered.topology.topology.nodes)).toHaveLength(count);
    expect(rendered.topology.topology.links ?? []).toHaveLength(count < 2 ? 0 : count);
    expect(clabSchemaErrorsOfYaml(topologyToYaml(rendered))).toEqual([]);
  });

  it('with links to nodes the user adds, and for an empty fleet', () => {
    const rendered = renderTopology(fleetRecords(2), options({ links: parseLinks('node1:eth1,switch:e1-1;node2:eth1,switch:e1-2') }));
    expect(rendered.undefinedNodes).toEqual(['switch']);
    const yaml = topologyToYaml(rendered);
    expect(yaml).toContain('# Links name nodes this file does not define: switch.');
    expect(clabSchemaErrorsOfYaml(yaml)).toEqual([]);
    expect(clabSchemaErrorsOfYaml(topologyToYaml(renderTopology([], options())))).toEqual([]);
  });

  it('(the schema is not vacuous: it refuses a node name with a blank)', () => {
    expect(clabSchemaErrors({ name: 'x', topology: { nodes: { 'a b': { kind: 'ext-container' } } } })).not.toEqual([]);
  });
});

describe('renderTopology: selection', () => {
  const records: ContainerlabNodeRecord[] = [
    recordOf(nodeRow('node3', { index: 2, labInterfaces: ['eth1'] })),
    recordOf(nodeRow('node1', { index: 0, labInterfaces: ['eth1'] })),
    recordOf(nodeRow('node2', { index: 1, state: 'deleting', labInterfaces: ['eth1'] })),
  ];

  it('renders every node not being deleted, by name, by default', () => {
    expect(Object.keys(renderTopology(records, options()).topology.topology.nodes)).toEqual(['bmcfleet-node1', 'bmcfleet-node3']);
  });

  it('takes an empty selection for every node', () => {
    expect(Object.keys(renderTopology(records, options({ nodes: [] })).topology.topology.nodes)).toEqual(['bmcfleet-node1', 'bmcfleet-node3']);
  });

  it('reads a link\'s node as an API name before a container name', () => {
    const clash = [
      recordOf(nodeRow('node1', { index: 0, labInterfaces: ['eth1'] })),
      recordOf(nodeRow('bmcfleet-node1', { index: 1, labInterfaces: ['eth2'], containerName: 'bmcfleet-bmcfleet-node1' })),
    ];
    const rendered = renderTopology(clash, options({ links: parseLinks('bmcfleet-node1:eth2,switch:e1') }));
    expect(rendered.topology.topology.links).toEqual([{ endpoints: ['bmcfleet-bmcfleet-node1:eth2', 'switch:e1'] }]);
  });

  it('renders only the nodes named', () => {
    expect(Object.keys(renderTopology(records, options({ nodes: ['node3', 'node3'] })).topology.topology.nodes)).toEqual(['bmcfleet-node3']);
  });

  it('refuses names the fleet does not have, and nodes being deleted', () => {
    const unknown = refusal(() => renderTopology(records, options({ nodes: ['node1', 'nodeX', 'nodeY'] })));
    expect(unknown.code).toBe(ContainerlabErrorCode.UnknownNode);
    expect(unknown.message).toBe('the fleet has no node named "nodeX", "nodeY"');
    expect(refusal(() => renderTopology(records, options({ nodes: ['node2'] }))).code).toBe(ContainerlabErrorCode.NodeDeleting);
  });

  it('refuses a link to a fleet node left out of the selection', () => {
    const err = refusal(() => renderTopology(records, options({ nodes: ['node1'], links: parseLinks('node1:eth1,node3:eth1') })));
    expect(err.code).toBe(ContainerlabErrorCode.NodeNotSelected);
    expect(err.message).toBe('link 1: fleet node node3 is not among the selected nodes; add it to nodes or drop the link');
  });
});

describe('renderTopology: nodes whose BMC lives in a farm (no container of their own)', () => {
  const inFarm = (record: ContainerlabNodeRecord): ContainerlabNodeRecord => ({ ...record, view: { ...record.view, machine: 'sim', farm: 'farm-1' } });
  const records: ContainerlabNodeRecord[] = [
    recordOf(nodeRow('node1', { index: 0, labInterfaces: ['eth1'] })),
    inFarm(recordOf(nodeRow('sim2', { index: 1 }))),
    inFarm(recordOf(nodeRow('sim1', { index: 2 }))),
  ];

  it.each(TOPOLOGY_MODES)('are left out of a whole-fleet topology (%s), and the file says so', (mode) => {
    const rendered = renderTopology(records, options({ mode }));
    expect(Object.keys(rendered.topology.topology.nodes)).toEqual([mode === 'ext-container' ? 'bmcfleet-node1' : 'node1']);
    expect(rendered.farmNodesLeftOut).toEqual(['sim1', 'sim2']);
    expect(topologyToYaml(rendered)).toContain('# Left out: 2 node(s) whose BMC lives in a farm (no container of their own to link).');
    expect(clabSchemaErrors(rendered.topology)).toEqual([]);
  });

  it('are refused when named in nodes or in a link, naming the farm and the way out', () => {
    const named = refusal(() => renderTopology(records, options({ nodes: ['node1', 'sim2'] })));
    expect(named.code).toBe(ContainerlabErrorCode.NotRenderable);
    expect(named.message).toBe("nodes: node sim2's BMC lives in farm farm-1: it has no container of its own for containerlab to link or create; leave it out, or make lab nodes with machine qemu or with the orchestrator's SIM_PLACEMENT=container");
    const linked = refusal(() => renderTopology(records, options({ links: parseLinks('node1:eth1,sim1:eth1') })));
    expect(linked.code).toBe(ContainerlabErrorCode.NotRenderable);
    expect(linked.message).toMatch(/^link 1: node sim1's BMC lives in farm farm-1/);
  });
});

describe('renderTopology: names containerlab would refuse are refused before anything is rendered', () => {
  const records = [
    recordOf(nodeRow('node1', { index: 0, labInterfaces: ['eth2'], networks: ['vmlan-a'] })),
    recordOf(nodeRow('node2', { index: 1, labInterfaces: [] })),
  ];

  it.each([
    ['bad name', ContainerlabErrorCode.InvalidLabName, /lab name "bad name" is not one containerlab accepts/],
    ['-lab', ContainerlabErrorCode.InvalidLabName, /starting with a letter or digit/],
    ['x'.repeat(65), ContainerlabErrorCode.InvalidLabName, /1–64/],
  ])('lab name %j', (labName, code, message) => {
    const err = refusal(() => renderTopology(records, options({ labName })));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['node1:eth2,sw itch:e1', ContainerlabErrorCode.InvalidNodeName, /link 1 names node "sw itch", which containerlab would refuse/],
    ['node1:eth2,sw!tch:e1', ContainerlabErrorCode.InvalidNodeName, /link 1 names node "sw!tch", which containerlab would refuse as a node name/],
    ['node1:averyveryverylongname,switch:e1', ContainerlabErrorCode.InvalidInterfaceName, /interface "averyveryverylongname" of node node1 is longer than 15 bytes/],
    ['node1:eth0,switch:e1', ContainerlabErrorCode.InvalidInterfaceName, /is the container's own interface/],
    ['node1:a/b,switch:e1', ContainerlabErrorCode.InvalidInterfaceName, /contains "\/"/],
    ['node1:eth3,switch:e1', ContainerlabErrorCode.InterfaceNotDeclared, /node node1 has no lab interface eth3: the VM sees only the lab interfaces declared .*its lab interfaces: eth2$/],
    ['node1:eth1,switch:e1', ContainerlabErrorCode.InterfaceNotDeclared, /eth1 carries its Docker network vmlan-a and exists already/],
    ['node2:eth1,switch:e1', ContainerlabErrorCode.InterfaceNotDeclared, /its lab interfaces: none$/],
    ['node1:eth2,switch:e1;bmcfleet-node1:eth2,switch:e2', ContainerlabErrorCode.DuplicateEndpoint, /link 2: endpoint bmcfleet-node1:eth2 is used twice/],
    ['node1:eth2,switch:e1;node2:x,switch:e1', ContainerlabErrorCode.InterfaceNotDeclared, /node2 has no lab interface x/],
  ])('links %j', (text, code, message) => {
    const err = refusal(() => renderTopology(records, options({ links: parseLinks(text) })));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('a container name containerlab would refuse as a node name', () => {
    const odd = recordOf(nodeRow('node5', { containerName: 'bmcfleet node5' }));
    const err = refusal(() => renderTopology([odd], options()));
    expect(err.code).toBe(ContainerlabErrorCode.InvalidNodeName);
    expect(err.message).toMatch(/^node node5 would appear as "bmcfleet node5", which containerlab would refuse/);
  });
});

describe('ipmiPasswordVariable', () => {
  it('is an environment variable name made from the node name', () => {
    expect(ipmiPasswordVariable('node1')).toBe('BMCFLEET_NODE1_IPMI_PASS');
    expect(ipmiPasswordVariable('rack-2-u-14')).toBe('BMCFLEET_RACK_2_U_14_IPMI_PASS');
  });
});

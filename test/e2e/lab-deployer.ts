/**
 * `containerlab deploy` for end-to-end tests, on machines without containerlab: the part of it the
 * example lab (containerlab/pxe-lab.clab.yml) and the renderer's linux mode use. The file's text goes
 * through containerlab's variable substitution first (core/file.go: "$$" → "$", ${NAME} → the value
 * when set, left as written otherwise). `kind: linux` nodes become containers (image, entrypoint, cmd
 * split at blanks, env, binds relative to the topology file, sysctls, cap-add, devices, memory, cpu,
 * security-opts, ports, labels) on
 * Docker's default network, standing for containerlab's management network; `ext-container` nodes are
 * existing containers (here: node containers of the test, by a name map); links are veth pairs
 * (veth-link.ts). A node field this deployer does not carry out fails the deploy, so a topology
 * cannot carry a setting the test silently ignores.
 *
 * Ownership: every container gets the E2eFleet's labels (its cleanup() removes them); veths go with
 * the VethLinker's cleanup().
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { dockerOk, TEST_LABEL } from '../../node-image/test/e2e/node-container';
import { substituteVariables } from '../fixtures/containerlab/clab-substitute';
import { VethLinker, vethEndpoint } from './veth-link';

interface TopologyNode {
  readonly kind?: string;
  readonly image?: string;
  readonly entrypoint?: string;
  readonly cmd?: string;
  readonly env?: Readonly<Record<string, string | number | boolean>>;
  readonly binds?: readonly string[];
  readonly sysctls?: Readonly<Record<string, string | number>>;
  readonly 'cap-add'?: readonly string[];
  readonly devices?: readonly string[];
  readonly memory?: string;
  readonly cpu?: number;
  readonly 'security-opts'?: readonly string[];
  readonly ports?: readonly string[];
  readonly labels?: Readonly<Record<string, string | number>>;
  readonly group?: string;
}

export interface TopologyFile {
  readonly name: string;
  readonly topology: {
    readonly nodes: Readonly<Record<string, TopologyNode>>;
    readonly links?: ReadonlyArray<{ readonly endpoints: readonly [string, string] }>;
  };
}

/** Fields this deployer carries out (group only matters to lab UIs). */
const LINUX_FIELDS = new Set(['kind', 'image', 'entrypoint', 'cmd', 'env', 'binds', 'sysctls', 'cap-add', 'devices', 'ports', 'labels', 'group', 'memory', 'cpu', 'security-opts']);
const EXT_FIELDS = new Set(['kind', 'labels', 'group']);

/** The topology file as containerlab reads it, with `env` as containerlab's environment. */
export function readTopology(path: string, env: Readonly<Record<string, string | undefined>> = {}): TopologyFile {
  return parse(substituteVariables(readFileSync(path, 'utf8'), env)) as TopologyFile;
}

export interface DeployedLab {
  /** Topology node name → the container that stands for it. */
  readonly containers: ReadonlyMap<string, string>;
}

/**
 * Deploys `file` (read from `path`): `external` maps each ext-container node to a running container.
 * `labels` are the run's ownership labels (E2eFleet.runLabel).
 */
export async function deployLab(path: string, file: TopologyFile, external: ReadonlyMap<string, string>, runLabel: string, veths: VethLinker): Promise<DeployedLab> {
  const containers = new Map<string, string>();
  for (const [name, node] of Object.entries(file.topology.nodes)) {
    const allowed = node.kind === 'linux' ? LINUX_FIELDS : node.kind === 'ext-container' ? EXT_FIELDS : undefined;
    if (allowed === undefined) throw new Error(`node ${name}: kind ${String(node.kind)} is not deployed by this test deployer`);
    const unknown = Object.keys(node).filter((field) => !allowed.has(field));
    if (unknown.length > 0) throw new Error(`node ${name}: ${unknown.join(', ')} not carried out by this test deployer`);
    if (node.kind === 'ext-container') {
      const container = external.get(name);
      if (container === undefined) throw new Error(`ext-container node ${name}: no running container given for it`);
      containers.set(name, container);
      continue;
    }
    if (node.image === undefined) throw new Error(`node ${name}: no image`);
    const container = `clab-e2e-${file.name}-${name}-${randomBytes(3).toString('hex')}`;
    const binds = (node.binds ?? []).map((bind) => {
      const [host, ...rest] = bind.split(':');
      const hostPath = isAbsolute(host!) ? host! : resolve(dirname(path), host!);
      return ['-v', [hostPath, ...rest].join(':')];
    });
    await dockerOk([
      'run', '-d', '--name', container, '--hostname', name, '--label', TEST_LABEL, '--label', runLabel,
      ...(node.entrypoint === undefined ? [] : ['--entrypoint', node.entrypoint]),
      ...Object.entries(node.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${String(v)}`]),
      ...binds.flat(),
      ...Object.entries(node.sysctls ?? {}).flatMap(([k, v]) => ['--sysctl', `${k}=${String(v)}`]),
      ...(node['cap-add'] ?? []).flatMap((cap) => ['--cap-add', cap]),
      ...(node.devices ?? []).flatMap((device) => ['--device', device]),
      ...(node.memory === undefined ? [] : ['--memory', node.memory]),
      // Capped at the host's CPUs as the orchestrator's own adapter does (Docker refuses more).
      ...(node.cpu === undefined ? [] : ['--cpus', String(Math.min(node.cpu, cpus().length))]),
      ...(node['security-opts'] ?? []).flatMap((option) => ['--security-opt', option]),
      ...(node.ports ?? []).flatMap((port) => ['-p', port]),
      ...Object.entries(node.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${String(v)}`]),
      node.image,
      ...(node.cmd === undefined ? [] : node.cmd.split(/\s+/).filter(Boolean)),
    ]);
    containers.set(name, container);
  }
  for (const link of file.topology.links ?? []) {
    const [a, b] = link.endpoints.map(vethEndpoint) as [ReturnType<typeof vethEndpoint>, ReturnType<typeof vethEndpoint>];
    const containerOf = (node: string): string => {
      const c = containers.get(node);
      if (c === undefined) throw new Error(`link ${link.endpoints.join(' ↔ ')}: node ${node} is not in the topology`);
      return c;
    };
    await veths.plug({ container: containerOf(a.container), interface: a.interface }, { container: containerOf(b.container), interface: b.interface });
  }
  return { containers };
}

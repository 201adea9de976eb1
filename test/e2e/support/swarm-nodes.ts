/**
 * QEMU nodes on the test swarm (test/support/swarm-harness.ts) through the Swarm runtime: their
 * NodeSpecs (the agent's environment as the orchestrator writes it, TCG, the test guest's ISO bound
 * from the host), and the clients a user points at them: `ipmitool` and `ipmitool sol activate` at the
 * host's address, Redfish over HTTPS there. Every wait is bounded; no duration is asserted.
 */
import type { NodeSpec } from '../../../src/runtime/node-runtime';
import type { SwarmNodeRuntime } from '../../../src/runtime/swarm/swarm-node-runtime';
import { pollUntil, runAsync, TerminalSession } from '../../../node-image/test/support/ipmitool-runner';
import type { RunResult } from '../../../node-image/test/support/tools';
import { SolConsole } from '../../../node-image/test/e2e/node-container';

/** Where each swarm host holds the test guest's ISO (copied there by the test). */
export const HOST_ISO_DIR = '/srv/bmcfleet-iso';
const USER = 'admin';
const PASSWORD = 'password';
const MIB = 1024 * 1024;
/** What the orchestrator's node spec keeps (src/nodes: NODE_CAPABILITIES). */
const NODE_CAPABILITIES = ['NET_ADMIN', 'NET_BIND_SERVICE'];

export interface TestNode {
  readonly spec: NodeSpec;
  readonly ipmiPort: number;
  readonly redfishPort: number;
  /** Host it was placed on and that host's address (set after ensure). */
  host: string;
  address: string;
}

export interface TestNodeOptions {
  readonly fleet: string;
  readonly name: string;
  readonly nodeId: string;
  readonly image: string;
  readonly ipmiPort: number;
  readonly redfishPort: number;
  readonly host?: string | null;
  /** Extra swarm networks (eth1, …) bridged into the VM. */
  readonly networks?: readonly string[];
}

/** A QEMU node under TCG with 256 MiB, the test guest in its CD-ROM drive, powered off at start. */
export function qemuNodeSpec(o: TestNodeOptions): TestNode {
  const networks = o.networks ?? [];
  const env: Record<string, string> = {
    NODE_NAME: o.name, MACHINE: 'qemu', ENABLE_KVM: 'false', VM_MEMORY: '256', VM_CPUS: '1', VM_DISK_SIZE: '1G',
    POWER_ON_AT_START: 'false', IPMI_USER: USER, IPMI_PASS: PASSWORD, IPMI_PORT: String(o.ipmiPort), REDFISH_PORT: String(o.redfishPort),
    VNC_PORT: 'none', VM_CDROM: '/iso/guest.iso',
  };
  if (networks.length > 0) env['VM_NETWORKS'] = networks.map((_, i) => `eth${i + 1}`).join(',');
  const spec: NodeSpec = {
    nodeId: o.nodeId, name: o.name, ref: `${o.fleet}-${o.name}`, image: o.image, env,
    ports: [
      { name: 'ipmi', inside: o.ipmiPort, outside: o.ipmiPort, protocol: 'udp', address: '0.0.0.0' },
      { name: 'redfish', inside: o.redfishPort, outside: o.redfishPort, protocol: 'tcp', address: '0.0.0.0' },
    ],
    diskPath: '/vm', files: [{ hostPath: `${HOST_ISO_DIR}/guest.iso`, path: '/iso/guest.iso' }], devices: ['tun'],
    capabilities: [...NODE_CAPABILITIES], noNewPrivileges: true, networks: [...networks],
    limits: { memoryBytes: (256 + 512) * MIB, cpus: 1.5, pids: 513 }, host: o.host ?? null,
  };
  return { spec, ipmiPort: o.ipmiPort, redfishPort: o.redfishPort, host: '', address: '' };
}

/** ensure, then the host it landed on and that host's address. */
export async function placeNode(runtime: SwarmNodeRuntime, node: TestNode): Promise<TestNode> {
  const ensured = await runtime.ensure(node.spec);
  const observed = await runtime.observe(node.spec.ref);
  if (observed === null) throw new Error(`${node.spec.ref} is not observed after ensure`);
  node.host = ensured.host;
  node.address = observed.hostAddress;
  return node;
}

export function ipmitoolAt(node: TestNode, extra: string[], timeoutMs = 30_000): Promise<RunResult> {
  return runAsync('ipmitool', ['-I', 'lanplus', '-H', node.address, '-p', String(node.ipmiPort), '-U', USER, '-P', PASSWORD, ...extra], { timeoutMs });
}

/** Polls `power status` until the BMC answers (the task may still be starting); returns the answer. */
export async function waitForBmc(node: TestNode, attempts = 60): Promise<string> {
  const r = await pollUntil(() => ipmitoolAt(node, ['power', 'status'], 10_000), (x) => x.status === 0, { attempts, timeoutMs: attempts * 2_000, intervalMs: 1_000 });
  if (r.status !== 0) throw new Error(`${node.spec.name}: no IPMI answer at ${node.address}:${node.ipmiPort}: ${r.stderr}`);
  return r.stdout.trim();
}

/** GET a Redfish path at the node's host address (the agent's self-signed certificate: -k). */
export async function redfishGet(node: TestNode, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await runAsync('curl', ['-sk', '-u', `${USER}:${PASSWORD}`, '-w', '\n%{http_code}', `https://${node.address}:${node.redfishPort}${path}`], { timeoutMs: 30_000 });
  const at = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(at + 1));
  let body: Record<string, unknown> = {};
  try { body = JSON.parse(r.stdout.slice(0, at)) as Record<string, unknown>; } catch { /* not JSON: the status says enough */ }
  return { status, body };
}

/** `ipmitool sol activate` at the host's address, once SOL is operational. */
export async function solAt(node: TestNode): Promise<SolConsole> {
  const terminal = new TerminalSession(['ipmitool', '-I', 'lanplus', '-H', node.address, '-p', String(node.ipmiPort), '-U', USER, '-P', PASSWORD, 'sol', 'activate']);
  const sol = new SolConsole(terminal, `SOL of ${node.spec.name} at ${node.address}`);
  await sol.expect('[SOL Session operational.  Use ~? for help]', 'SOL activation');
  return sol;
}

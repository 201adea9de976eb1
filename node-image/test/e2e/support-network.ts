/**
 * Network helpers of the end-to-end tests (network.e2e-spec.ts): Docker networks that stand for a
 * node's VM network, `docker network connect` of node containers (as containerlab and users plug
 * interfaces), the test PXE server (pxe-server/: dnsmasq as DHCP + TFTP server), and commands typed
 * into a guest over SOL.
 *
 * Two facts of Docker 20.10 shape these networks (found while writing the tests):
 * - On an `--internal` network Docker's isolation rules (DOCKER-ISOLATION-STAGE-1: drop what leaves or
 *   enters the bridge with an address outside the subnet) also see bridged frames, because
 *   br_netfilter is on (bridge-nf-call-iptables=1): a DHCP DISCOVER (from 0.0.0.0 to
 *   255.255.255.255) never reaches the server. So a network that carries DHCP is an ordinary bridge
 *   network, with IP masquerading off and no router offered (nothing leaves the link); an internal
 *   network is fine for static addresses inside its subnet.
 * - A container's default gateway, and with it its published ports (here the node's IPMI port),
 *   moves to a newly connected network that is not internal and sorts first: dual-stack before
 *   IPv4-only, then by name (libnetwork's endpoint order). VM_NETWORKS removes the addresses of that
 *   interface, so the node's published IPMI port would then lead nowhere. The non-internal networks
 *   here are therefore IPv4-only and named to sort after Docker's default network "bridge"
 *   (`vmlan-…`); connect() checks that IPMI still answers. The PXE server gets its IPv6 address (for
 *   router advertisements) inside its own container instead.
 *
 * Ownership: every network and container carries bmcfleet.test=1 and the run label of the spec's
 * E2eFleet, so E2eFleet.cleanup() removes the containers and NetworkLab.cleanup() then the networks.
 * `docker exec` is used only to look (which interface Docker created), never to control anything.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runAsync, sleep } from '../support/ipmitool-runner';
import {
  docker, dockerOk, GUEST_DIR, type NodeContainer, type SolConsole, TEST_LABEL,
} from './node-container';

export const PXE_IMAGE = process.env['BMCFLEET_TEST_PXE_IMAGE'] ?? 'bmcfleet/test-pxe:latest';
export const PXE_BUILD_SCRIPT = join(__dirname, 'pxe-server', 'build.sh');
/** TFTP root of the test guest (scripts/build-test-guest.sh). */
export const TFTP_DIR = join(GUEST_DIR, 'tftp');

/** A cold build downloads dnsmasq from Debian's mirror; a cached one takes about a second. */
const PXE_BUILD_TIMEOUT_MS = 300_000;
const NETWORK_CREATE_ATTEMPTS = 8;
const SERVER_START_TIMEOUT_MS = 30_000;
/** Host numbers on every test network: Docker allocates from .2–.127 (--ip-range), the rest is ours. */
export const HOST = { pxeServer: 250, dhcpFirst: 150, dhcpLast: 199, guestA: 201, guestB: 202 } as const;

/** Builds bmcfleet/test-pxe:latest (Docker's layer cache makes a repeated build cheap). */
export async function buildPxeImage(): Promise<void> {
  if (!existsSync(join(TFTP_DIR, 'boot.ipxe'))) throw new Error(`the test guest's TFTP root ${TFTP_DIR} is missing: run "bash scripts/build-test-guest.sh"`);
  const r = await runAsync('bash', [PXE_BUILD_SCRIPT], { timeoutMs: PXE_BUILD_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`building ${PXE_IMAGE} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
}

/** One Docker network of a test: an IPv4 /24 whose upper half the test assigns itself. */
export class VmLan {
  constructor(readonly name: string, readonly id: string, readonly prefix: string, readonly internal: boolean) {}

  /** "10.a.b.N". */
  address(host: number): string {
    return `${this.prefix}.${host}`;
  }

  /** "10.a.b.N/24". */
  cidr(host: number): string {
    return `${this.address(host)}/24`;
  }
}

/** The dnsmasq container of a test. */
export class PxeServer {
  constructor(readonly id: string, readonly name: string, readonly lan: VmLan) {}

  async logs(): Promise<string> {
    const r = await docker(['logs', this.id]);
    return r.stdout + r.stderr;
  }
}

export class NetworkLab {
  private seq = 0;

  /** `runLabel`: the E2eFleet's, so its cleanup() removes the PXE server with the nodes. */
  constructor(private readonly runLabel: string) {}

  private labels(): string[] {
    return ['--label', TEST_LABEL, '--label', this.runLabel];
  }

  private newName(kind: string, what: string): string {
    // "vmlan-" sorts after "bridge": see the header.
    return `${kind}-bmcfleet-test-${what}-${process.pid}-${++this.seq}-${randomBytes(2).toString('hex')}`;
  }

  /**
   * `docker network create` of an IPv4 network 10.x.y.0/24 (x, y random; another one when Docker
   * says the pool overlaps). Internal: no way off the link, no DHCP (see the header). Otherwise an
   * ordinary bridge without masquerading.
   */
  async createLan(what: string, opts: { internal: boolean }): Promise<VmLan> {
    const name = this.newName('vmlan', what);
    for (let attempt = 1; ; attempt++) {
      const prefix = `10.${randomInt(160, 240)}.${randomInt(0, 256)}`;
      const args = [
        'network', 'create', '--driver', 'bridge', ...this.labels(),
        '--subnet', `${prefix}.0/24`, '--ip-range', `${prefix}.0/25`,
        ...(opts.internal ? ['--internal'] : ['--opt', 'com.docker.network.bridge.enable_ip_masquerade=false']),
        name,
      ];
      const r = await docker(args);
      if (r.status === 0) return new VmLan(name, r.stdout.trim(), prefix, opts.internal);
      if (attempt >= NETWORK_CREATE_ATTEMPTS || !/overlap/i.test(r.stderr)) {
        throw new Error(`docker network create ${name} failed (exit ${r.status}):\n${r.stderr}`);
      }
    }
  }

  /**
   * `docker network connect` of a running node container (what containerlab does after the start).
   * Returns the container's name for the new interface, found by its MAC (`docker exec … ip -o link`,
   * a look only), and checks that the node's published IPMI port still answers.
   */
  async connect(node: NodeContainer, lan: VmLan): Promise<string> {
    await dockerOk(['network', 'connect', lan.name, node.id]);
    const mac = (await node.inspect(`{{(index .NetworkSettings.Networks "${lan.name}").MacAddress}}`)).toLowerCase();
    const ifname = interfaceWithMac(await dockerOk(['exec', node.id, 'ip', '-o', 'link', 'show']), mac);
    if (ifname === undefined) throw new Error(`${node.name}: no ethN interface with ${lan.name}'s MAC ${mac}`);
    if ((await node.powerState()) === undefined) {
      throw new Error(`${node.name}: IPMI stopped answering after connecting ${lan.name}: the container's published ports moved to it (see support-network.ts)`);
    }
    return ifname;
  }

  /**
   * The PXE server on `lan` at .250: DHCP for .150–.199 without a router, TFTP from the test guest's
   * tftp/ (read-only), router advertisements for a random ULA prefix (iPXE then does not wait for
   * IPv6). Waits until dnsmasq says it serves TFTP.
   */
  async startPxeServer(lan: VmLan): Promise<PxeServer> {
    const name = this.newName('pxe', 'server');
    const ula = `fd${randomBytes(5).toString('hex').replace(/^(..)(....)(....)$/, '$1:$2:$3')}::1/64`;
    const id = (await dockerOk([
      'run', '-d', '--name', name, ...this.labels(),
      '--cap-add', 'NET_ADMIN',
      '--sysctl', 'net.ipv6.conf.all.disable_ipv6=0', '--sysctl', 'net.ipv6.conf.eth0.disable_ipv6=0',
      '-e', `PXE_IPV6_ADDRESS=${ula}`,
      '--network', lan.name, '--ip', lan.address(HOST.pxeServer),
      '-v', `${TFTP_DIR}:/tftp:ro`,
      PXE_IMAGE,
      `--dhcp-range=${lan.address(HOST.dhcpFirst)},${lan.address(HOST.dhcpLast)},1h`,
      // No value: no router option, the guests stay on their link.
      '--dhcp-option=3',
    ])).trim();
    const server = new PxeServer(id, name, lan);
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
    for (;;) {
      const logs = await server.logs();
      if (logs.includes('TFTP root is /tftp')) return server;
      const running = await docker(['inspect', '--format', '{{.State.Running}}', id]);
      if (running.stdout.trim() !== 'true') throw new Error(`the PXE server ${name} stopped:\n${logs}`);
      if (Date.now() > deadline) throw new Error(`the PXE server ${name} did not start within ${SERVER_START_TIMEOUT_MS} ms:\n${logs}`);
      await sleep(200);
    }
  }

  /**
   * Removes this run's containers still there (normally E2eFleet.cleanup() did) and then its networks,
   * both by the run label. Never throws; safe to call twice.
   */
  async cleanup(): Promise<void> {
    const containers = (await docker(['ps', '-aq', '--filter', `label=${this.runLabel}`])).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers]);
    const networks = (await docker(['network', 'ls', '-q', '--filter', `label=${this.runLabel}`])).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (networks.length > 0) await docker(['network', 'rm', ...networks]);
  }
}

/** The ethN interface with `mac` in `ip -o link show` output (bridges and taps of the agent skipped). */
export function interfaceWithMac(ipLinkOutput: string, mac: string): string | undefined {
  for (const line of ipLinkOutput.split('\n')) {
    const m = /^\d+:\s+(eth\d+)(?:@\S+)?:.*link\/ether ([0-9a-f:]{17})/i.exec(line);
    if (m && m[2]!.toLowerCase() === mac) return m[1];
  }
  return undefined;
}

/**
 * Types `command` into the guest's shell and waits for `marker` in what follows. Write the command so
 * that its echo cannot match the marker: e.g. `echo DONE-$((7+0))` prints DONE-7, which the typed
 * line does not contain.
 */
export async function guestRun(sol: SolConsole, command: string, marker: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const from = sol.mark();
  sol.run(command);
  return sol.expect(marker, what, { from, timeoutMs });
}

let pingSeq = 0;

/** `ping` from the guest (3 echoes, at most 20 s): 'OK' or 'FAIL' as the guest's shell reports it. */
export async function guestPing(sol: SolConsole, address: string, what: string): Promise<'OK' | 'FAIL'> {
  const n = ++pingSeq;
  const m = await guestRun(sol, `ping -c 3 -w 20 ${address} >/dev/null 2>&1 && echo PING-$((${n}+0))-OK || echo PING-$((${n}+0))-FAIL`,
    new RegExp(`PING-${n}-(OK|FAIL)`), what, 45_000);
  return m[1] as 'OK' | 'FAIL';
}

/** The MAC of the guest's interface `ifname` (e.g. eth0), read over SOL. */
export async function guestMac(sol: SolConsole, ifname: string): Promise<string> {
  const m = await guestRun(sol, `echo MAC-${ifname}=$(cat /sys/class/net/${ifname}/address)=`, new RegExp(`MAC-${ifname}=([0-9a-f:]{17})=`), `MAC of the guest's ${ifname}`);
  return m[1]!;
}

/** The agent's JSON log lines (other lines skipped). */
export function agentLogLines(logs: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a complete JSON line
    }
  }
  return lines;
}

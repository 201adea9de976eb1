/**
 * A farm on a lab network (FARM_INTERFACE): every BMC's address (FARM_ADDRESSES + i) is added to one
 * interface of the farm's host — in a container, the interface of a Docker network — so each BMC
 * answers at its own IP, port 623, on that network as on a real management LAN, and reports that
 * network's netmask and gateway in `lan print`.
 *
 * The range belongs to the farm: addresses of it already on the interface (a farm that did not stop
 * cleanly) are taken as they are, the rest are added, and a clean stop removes every one of them.
 * The interface's own addresses and its gateway must lie outside the range.
 *
 * Pure: reads `ip -j` output, checks a plan against the interface's subnet, writes `ip -batch` lines.
 * The adapter that runs `ip` is lab-interface.ts.
 */
import { formatIpv4, parseIpv4, type AddressPlan } from './address-plan';

/** What every BMC of a lab-network farm reports as its network (besides its own address and MAC). */
export interface LabLan {
  readonly interfaceName: string;
  readonly prefixLength: number;
  /** Dotted quad of prefixLength. */
  readonly netmask: string;
  /** The interface's default gateway, when the routing table has one. */
  readonly gateway?: string;
}

/** One IPv4 address on the interface, as `ip -j -4 addr show dev X` lists it. */
export interface InterfaceAddress {
  readonly address: string;
  readonly prefixLength: number;
  /** A further address in a subnet the interface already has (the kernel's "secondary" flag). */
  readonly secondary: boolean;
}

/** CAP_NET_ADMIN's bit in the capability sets (linux/capability.h). */
export const CAP_NET_ADMIN = 12;

/** Linux interface names: at most 15 bytes (IFNAMSIZ), no slash, colon or white space. */
export function checkInterfaceName(name: string): string | undefined {
  if (!/^[^\s/:]{1,15}$/.test(name) || name === '.' || name === '..') {
    return `FARM_INTERFACE="${name}" must be a network interface name (1 to 15 characters, no "/", ":" or spaces), e.g. eth0`;
  }
  return undefined;
}

/** Whether the effective capability set in /proc/self/status text holds capability `bit`. */
export function hasEffectiveCapability(procStatus: string, bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(procStatus);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
}

interface IpAddrJson { ifname?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; secondary?: boolean }> }

/** The IPv4 addresses of `ifname` in `ip -j -4 addr show dev IFNAME` output. */
export function parseInterfaceAddresses(json: string, ifname: string): InterfaceAddress[] {
  const links = JSON.parse(json) as IpAddrJson[];
  const link = links.find((l) => l.ifname === ifname);
  return (link?.addr_info ?? [])
    .filter((a) => a.family === 'inet' && typeof a.local === 'string' && typeof a.prefixlen === 'number')
    .map((a) => ({ address: a.local!, prefixLength: a.prefixlen!, secondary: a.secondary === true }));
}

/** The gateway of the default route in `ip -j -4 route show default dev IFNAME` output. */
export function parseDefaultGateway(json: string): string | undefined {
  const routes = JSON.parse(json) as Array<{ dst?: string; gateway?: string }>;
  return routes.find((r) => r.dst === 'default' && typeof r.gateway === 'string')?.gateway;
}

export function netmaskOf(prefixLength: number): string {
  return formatIpv4(prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);
}

/** The result of checking a plan against the interface: the problems, or what to add. */
export type LabPlan =
  | { readonly ok: false; readonly problems: string[] }
  | { readonly ok: true; readonly lan: LabLan; readonly missing: number; readonly addLines: string[] };

/**
 * Checks an address plan against interface `ifname` (its addresses and gateway): the range must lie
 * inside the subnet of one of the interface's own addresses, short of its broadcast address, and hold
 * neither an address of the interface's own nor the gateway. Returns the `ip -batch` lines adding the
 * plan's addresses not on the interface yet.
 */
export function planLabAddresses(plan: AddressPlan, ifname: string, addresses: readonly InterfaceAddress[], gateway: string | undefined): LabPlan {
  const range = `FARM_ADDRESSES=${plan.firstAddress} with FARM_BMCS=${plan.count}`;
  const first = parseIpv4(plan.firstAddress);
  if (plan.mode !== 'addresses' || first === undefined) return { ok: false, problems: ['FARM_INTERFACE needs address mode with FARM_ADDRESSES set to an IPv4 address'] };
  const last = first + plan.count - 1;
  const own = addresses.filter((a) => !a.secondary);
  if (own.length === 0) {
    return { ok: false, problems: [`FARM_INTERFACE=${ifname} has no IPv4 address of its own: the farm takes the BMCs' subnet from it (is the container attached to the network?)`] };
  }
  const subnetOf = (a: InterfaceAddress): { network: number; broadcast: number } => {
    const mask = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
    const network = (parseIpv4(a.address)! & mask) >>> 0;
    return { network, broadcast: (network | (~mask >>> 0)) >>> 0 };
  };
  const cidr = (a: InterfaceAddress): string => `${formatIpv4(subnetOf(a).network)}/${a.prefixLength}`;
  const home = own.find((a) => { const s = subnetOf(a); return first > s.network && first < s.broadcast; });
  if (!home) {
    return { ok: false, problems: [`FARM_ADDRESSES=${plan.firstAddress} is outside ${ifname}'s subnet${own.length > 1 ? 's' : ''} ${own.map(cidr).join(', ')}: give the first BMC an address of that network, outside the range Docker hands out (--ip-range)`] };
  }
  const { broadcast } = subnetOf(home);
  const problems: string[] = [];
  if (last >= broadcast) {
    problems.push(`${range} runs past ${ifname}'s subnet ${cidr(home)} (the last BMC would be ${formatIpv4(last)}; the last usable address is ${formatIpv4(broadcast - 1)}): start lower or host fewer BMCs`);
  }
  for (const a of own) {
    const v = parseIpv4(a.address)!;
    if (v >= first && v <= last) problems.push(`${range} includes ${ifname}'s own address ${a.address}: the BMCs' range must lie outside the addresses the network hands out`);
  }
  const gw = gateway === undefined ? undefined : parseIpv4(gateway);
  if (gw !== undefined && gw >= first && gw <= last) problems.push(`${range} includes ${ifname}'s gateway ${gateway}`);
  if (problems.length > 0) return { ok: false, problems };
  const present = new Set(addresses.filter((a) => a.secondary).map((a) => parseIpv4(a.address)!));
  const addLines: string[] = [];
  for (let v = first; v <= last; v++) {
    if (!present.has(v)) addLines.push(`address add ${formatIpv4(v)}/${home.prefixLength} dev ${ifname}`);
  }
  const lan: LabLan = { interfaceName: ifname, prefixLength: home.prefixLength, netmask: netmaskOf(home.prefixLength), ...(gateway ? { gateway } : {}) };
  return { ok: true, lan, missing: addLines.length, addLines };
}

/** The `ip -batch` lines removing every address of the plan that is on the interface now. */
export function releaseLines(plan: AddressPlan, ifname: string, addresses: readonly InterfaceAddress[]): string[] {
  const first = parseIpv4(plan.firstAddress);
  if (first === undefined) return [];
  const last = first + plan.count - 1;
  return addresses
    .filter((a) => { const v = parseIpv4(a.address)!; return a.secondary && v >= first && v <= last; })
    .map((a) => `address del ${a.address}/${a.prefixLength} dev ${ifname}`);
}

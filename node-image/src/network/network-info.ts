/**
 * The BMC's own IPv4 settings as the host really has them, for Get LAN Configuration Parameters
 * (IP address, subnet mask, MAC, default gateway and its MAC). The only file of the agent that
 * looks at the host's interfaces (node:os) and routing/neighbour tables (/proc/net/route,
 * /proc/net/arp). Values are read on every call, so a changed address shows at once.
 *
 * Which interface: the one holding the address the IPMI server is bound to; when bound to the
 * wildcard (0.0.0.0), the first non-internal interface with an IPv4 address; when there is none,
 * the loopback interface.
 */
import { readFileSync } from 'node:fs';
import { endianness, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface Ipv4Settings {
  readonly interfaceName: string;
  /** Dotted quad. */
  readonly address: string;
  readonly netmask: string;
  /** aa:bb:cc:dd:ee:ff (all zero for loopback). */
  readonly mac: string;
  /** Default gateway reached through this interface, if the routing table has one. */
  readonly gateway?: string;
  /** The gateway's MAC from the neighbour table, if known. */
  readonly gatewayMac?: string;
}

export interface NetworkInfo {
  ipv4(): Ipv4Settings;
}

export interface OsNetworkInfoOptions {
  /** IPMI_ADDRESS: the address the IPMI server is bound to. */
  readonly bindAddress: string;
  /** Seams for tests; default to node:os and node:fs. */
  readonly interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly readFile?: (path: string) => string | undefined;
  readonly littleEndian?: boolean;
}

const ROUTE_TABLE = '/proc/net/route';
const ARP_TABLE = '/proc/net/arp';
const WILDCARD_ADDRESSES = new Set(['', '0.0.0.0', '::', '::0']);
const LOOPBACK: Ipv4Settings = { interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' };

export class OsNetworkInfo implements NetworkInfo {
  private readonly interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  private readonly readFile: (path: string) => string | undefined;
  private readonly littleEndian: boolean;

  constructor(private readonly options: OsNetworkInfoOptions) {
    this.interfaces = options.interfaces ?? networkInterfaces;
    this.readFile = options.readFile ?? readTextFile;
    this.littleEndian = options.littleEndian ?? endianness() === 'LE';
  }

  ipv4(): Ipv4Settings {
    const chosen = pickInterface(this.interfaces(), this.options.bindAddress);
    if (!chosen) return LOOPBACK;
    const routes = this.readFile(ROUTE_TABLE);
    const gateway = routes === undefined ? undefined : parseDefaultGateway(routes, chosen.interfaceName, this.littleEndian);
    if (!gateway) return chosen;
    const arp = this.readFile(ARP_TABLE);
    const gatewayMac = arp === undefined ? undefined : parseArpEntry(arp, gateway, chosen.interfaceName);
    return gatewayMac ? { ...chosen, gateway, gatewayMac } : { ...chosen, gateway };
  }
}

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // not Linux, or no procfs: report no gateway
  }
}

const isIpv4 = (i: NetworkInterfaceInfo): boolean => i.family === 'IPv4' || (i.family as unknown) === 4;

/** The interface for `bindAddress`, without gateway details; undefined = nothing usable at all. */
export function pickInterface(all: NodeJS.Dict<NetworkInterfaceInfo[]>, bindAddress: string): Ipv4Settings | undefined {
  const entries = Object.entries(all).flatMap(([name, list]) => (list ?? []).filter(isIpv4).map((info) => ({ name, info })));
  const wildcard = WILDCARD_ADDRESSES.has(bindAddress.trim());
  const match = (!wildcard && entries.find((e) => e.info.address === bindAddress))
    || entries.find((e) => !e.info.internal)
    || entries.find((e) => e.info.internal);
  if (!match) return undefined;
  return { interfaceName: match.name, address: match.info.address, netmask: match.info.netmask, mac: match.info.mac };
}

const RTF_UP = 0x0001;
const RTF_GATEWAY = 0x0002;

/**
 * The default route's gateway through `iface` in /proc/net/route (hex fields in host byte order),
 * the one with the lowest metric; undefined when that interface has no default route.
 */
export function parseDefaultGateway(text: string, iface: string, littleEndian: boolean): string | undefined {
  let best: { gateway: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] !== iface) continue;
    const [, destination, gateway, flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    const flagBits = parseInt(flags, 16);
    if (parseInt(destination, 16) !== 0 || parseInt(mask, 16) !== 0 || (flagBits & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { gateway: hexToDottedQuad(gateway, littleEndian), metric: m };
  }
  return best?.gateway;
}

function hexToDottedQuad(hex: string, littleEndian: boolean): string {
  const b = Buffer.alloc(4);
  const v = parseInt(hex, 16) >>> 0;
  if (littleEndian) b.writeUInt32LE(v); else b.writeUInt32BE(v);
  return [...b].join('.');
}

const ATF_COM = 0x02;

/** The complete neighbour entry for `ip` on `iface` in /proc/net/arp. */
export function parseArpEntry(text: string, ip: string, iface: string): string | undefined {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[0] !== ip || f[5] !== iface) continue;
    if ((parseInt(f[2]!, 16) & ATF_COM) === 0) continue;
    return f[3]!.toLowerCase();
  }
  return undefined;
}

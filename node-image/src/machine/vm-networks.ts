/**
 * VM_NETWORKS: each listed container interface is bridged into the VM at layer 2 (design.md, node
 * image). For an interface eth1 the agent makes
 *
 *   eth1 ──┐
 *          br-eth1 (bridge, no address)        tap-eth1 ── QEMU's virtio-net NIC (MAC from node + eth1)
 *   tap ───┘
 *
 * and removes every address from eth1 (they are logged): the container no longer speaks on that
 * network, only the VM does. The bridge and the tap are persistent, so a power cycle finds them and
 * reuses them; every step looks at what exists first (idempotent). The bridge forwards at once (no
 * STP), floods multicast (no snooping: the VM is an end host, not a switch port the bridge manages)
 * and passes the link-local groups a bridge may pass (LLDP and friends; not STP, pause or LACP).
 * None of the three interfaces generates an IPv6 link-local address (addrgenmode none), so the
 * container sends nothing onto the VM's network.
 *
 * Interfaces that are not there yet (containerlab and `docker network connect` plug them after the
 * container started): a power-on waits for them up to VM_NETWORKS_WAIT, then starts the VM without the
 * missing ones (logged); while the VM runs, a watcher looks every second (sysfs reads only, no
 * process) and hands each interface that appears, once bridged, to QEMU for a hot-plug. An interface
 * counts as arrived once it is up, or after `settleMs` when nobody brings it up: Docker sets the
 * addresses before it brings the interface up, so flushing earlier could leave Docker's address on it.
 *
 * This is the only file that changes the host's network configuration. Commands run as
 * `ip <args>` through the agent's child-process adapter (an argument array, never a shell), each with a
 * time limit. The
 * container needs NET_ADMIN and /dev/net/tun for it, never --privileged.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nicId, type QemuNic } from './qemu-args';
import { nodeNicMac } from './vm-nics';
import { runCommand } from '../exec/child-process';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

/** Linux interface names: IFNAMSIZ (16) including the terminating NUL. */
export const IFNAME_MAX = 15;
const BRIDGE_PREFIX = 'br-';
const TAP_PREFIX = 'tap-';
const NAME_HASH_CHARS = 5;
/** IFF_UP in /sys/class/net/<name>/flags. */
const IFF_UP = 0x1;
/** Bridge group_fwd_mask: every 01:80:C2:00:00:0X group a Linux bridge may forward (not 0-2: STP, pause, LACP). */
const GROUP_FWD_MASK = '0xfff8';

export const DEFAULT_VM_NETWORKS_TIMING = {
  /** Between looks while the VM runs (the hot-add watcher). */
  watchPollMs: 1_000,
  /** Between looks while a power-on waits. */
  waitPollMs: 200,
  /** An interface that exists but stays down is taken after this long. */
  settleMs: 3_000,
  /** Time limit of one `ip` command. */
  commandTimeoutMs: 5_000,
  /** A hot-add (bridge + QEMU) that failed this often is not tried again while this QEMU runs. */
  hotAddAttempts: 3,
};
export type VmNetworksTiming = typeof DEFAULT_VM_NETWORKS_TIMING;

// --- pure parts ---

/** The bridge and tap that carry one container interface into the VM. */
export interface VmNetworkNames {
  readonly ifname: string;
  readonly bridge: string;
  readonly tap: string;
}

/**
 * `prefix + ifname` when that fits in 15 characters; otherwise prefix, the start of the name, '-' and
 * a hash of the whole name (so two long names with the same start still differ).
 */
function derivedName(prefix: string, ifname: string): string {
  const plain = prefix + ifname;
  if (plain.length <= IFNAME_MAX) return plain;
  const hash = createHash('sha256').update(ifname).digest('hex').slice(0, NAME_HASH_CHARS);
  return `${prefix}${ifname.slice(0, IFNAME_MAX - prefix.length - NAME_HASH_CHARS - 1)}-${hash}`;
}

export function networkNames(ifname: string): VmNetworkNames {
  return { ifname, bridge: derivedName(BRIDGE_PREFIX, ifname), tap: derivedName(TAP_PREFIX, ifname) };
}

export { vmNicMac } from './vm-nics';

/** One link as `ip -d -j link show` and `ip -j addr show` describe it (the fields used here). */
export interface IpLink {
  readonly name: string;
  /** linkinfo.info_kind: bridge, tun, veth, ... (undefined for physical interfaces). */
  readonly kind: string | undefined;
  /** For kind tun: tap or tun. */
  readonly tunType: string | undefined;
  readonly master: string | undefined;
  readonly up: boolean;
  readonly mtu: number;
  /** inet6_addr_gen_mode (eui64, none, ...); undefined without IPv6. */
  readonly addrGenMode: string | undefined;
  /** Addresses as "a.b.c.d/n" or "fe80::1/64". */
  readonly addresses: readonly string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function jsonArray(json: string, what: string): Json[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new VmNetworkError(`${what}: expected a JSON array`);
  return parsed.filter((item): item is Json => isObject(item) && typeof item['ifname'] === 'string');
}

/**
 * Links by name from `ip -d -j link show` (kind, master, flags, MTU, address generation mode: only
 * link show prints the latter) and `ip -j addr show` (addresses), as iproute2 5.x/6.x print them.
 */
export function parseIpLinks(linkJson: string, addrJson: string): Map<string, IpLink> {
  const addresses = new Map<string, string[]>();
  for (const item of jsonArray(addrJson, 'ip -j addr show')) {
    const addrInfo = Array.isArray(item['addr_info']) ? item['addr_info'] : [];
    addresses.set(item['ifname'] as string,
      addrInfo.flatMap((a) => (isObject(a) && typeof a['local'] === 'string' ? [`${a['local']}/${String(a['prefixlen'])}`] : [])));
  }
  const links = new Map<string, IpLink>();
  for (const item of jsonArray(linkJson, 'ip -d -j link show')) {
    const name = item['ifname'] as string;
    const info = isObject(item['linkinfo']) ? item['linkinfo'] : {};
    const infoData = isObject(info['info_data']) ? info['info_data'] : {};
    const flags = Array.isArray(item['flags']) ? item['flags'] : [];
    links.set(name, {
      name,
      kind: str(info['info_kind']),
      tunType: str(infoData['type']),
      master: str(item['master']),
      up: flags.includes('UP'),
      mtu: typeof item['mtu'] === 'number' ? item['mtu'] : 0,
      addrGenMode: str(item['inet6_addr_gen_mode']),
      addresses: addresses.get(name) ?? [],
    });
  }
  return links;
}

/** One `ip` invocation; `optional` ones may fail (IPv6 switched off in the kernel) without failing the attach. */
export interface IpCommand {
  readonly args: readonly string[];
  readonly optional?: boolean;
}

export class VmNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmNetworkError';
  }
}

/**
 * The `ip` commands that bring `names` from the state `links` to: bridge and tap exist, both and the
 * interface are in the bridge and up, the interface has no address, the tap has the interface's MTU
 * (the bridge takes its ports' smallest). Empty when everything is already so. Throws VmNetworkError
 * when the interface is missing or a derived name belongs to an interface of another kind.
 */
export function planAttach(names: VmNetworkNames, links: ReadonlyMap<string, IpLink>): IpCommand[] {
  const { ifname, bridge, tap } = names;
  const iface = links.get(ifname);
  if (!iface) throw new VmNetworkError(`interface ${ifname} does not exist`);
  const br = links.get(bridge);
  const tp = links.get(tap);
  if (br && br.kind !== 'bridge') throw new VmNetworkError(`cannot bridge ${ifname}: ${bridge} exists and is not a bridge (${br.kind ?? 'no kind'})`);
  if (tp && (tp.kind !== 'tun' || tp.tunType !== 'tap')) throw new VmNetworkError(`cannot bridge ${ifname}: ${tap} exists and is not a tap (${tp.kind ?? 'no kind'})`);
  const noLinkLocal = (dev: string): IpCommand => ({ args: ['link', 'set', 'dev', dev, 'addrgenmode', 'none'], optional: true });
  const cmds: IpCommand[] = [];
  if (!br) {
    cmds.push({ args: ['link', 'add', 'name', bridge, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0', 'group_fwd_mask', GROUP_FWD_MASK] });
    cmds.push(noLinkLocal(bridge));
  } else if (br.addrGenMode !== undefined && br.addrGenMode !== 'none') {
    cmds.push(noLinkLocal(bridge));
  }
  if (!tp) {
    cmds.push({ args: ['tuntap', 'add', 'dev', tap, 'mode', 'tap'] });
    cmds.push(noLinkLocal(tap));
  } else if (tp.addrGenMode !== undefined && tp.addrGenMode !== 'none') {
    cmds.push(noLinkLocal(tap));
  }
  if (!tp || tp.mtu !== iface.mtu) cmds.push({ args: ['link', 'set', 'dev', tap, 'mtu', String(iface.mtu)] });
  // The flush follows `addrgenmode none`: a link-local address the kernel made after `links` was read
  // (the carrier came meanwhile) goes too, and none comes back.
  const linkLocalOn = iface.addrGenMode !== undefined && iface.addrGenMode !== 'none';
  if (linkLocalOn) cmds.push(noLinkLocal(ifname));
  if (linkLocalOn || iface.addresses.length > 0) cmds.push({ args: ['addr', 'flush', 'dev', ifname] });
  if (iface.master !== bridge) cmds.push({ args: ['link', 'set', 'dev', ifname, 'master', bridge] });
  if (tp?.master !== bridge) cmds.push({ args: ['link', 'set', 'dev', tap, 'master', bridge] });
  if (!br?.up) cmds.push({ args: ['link', 'set', 'dev', bridge, 'up'] });
  if (!tp?.up) cmds.push({ args: ['link', 'set', 'dev', tap, 'up'] });
  if (!iface.up) cmds.push({ args: ['link', 'set', 'dev', ifname, 'up'] });
  return cmds;
}

/** What is still wrong after the commands ran (empty = attached). */
export function attachProblems(names: VmNetworkNames, links: ReadonlyMap<string, IpLink>): string[] {
  const problems: string[] = [];
  const iface = links.get(names.ifname);
  const tap = links.get(names.tap);
  if (!links.get(names.bridge)) problems.push(`${names.bridge} is missing`);
  if (!iface) problems.push(`${names.ifname} is gone`);
  else {
    if (iface.master !== names.bridge) problems.push(`${names.ifname} is not in ${names.bridge}`);
    if (iface.addresses.length > 0) problems.push(`${names.ifname} still has ${iface.addresses.join(', ')}`);
  }
  if (!tap) problems.push(`${names.tap} is missing`);
  else if (tap.master !== names.bridge) problems.push(`${names.tap} is not in ${names.bridge}`);
  return problems;
}

// --- the adapter ---

/** Runs `ip` with an argument array; resolves with stdout, rejects with stderr in the message. */
export type IpRunner = (args: readonly string[], timeoutMs: number) => Promise<string>;

export const runIp: IpRunner = async (args, timeoutMs) => {
  try {
    return await runCommand('ip', args, { timeoutMs });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new VmNetworkError(`ip ${args.join(' ')}: ${e.stderr || e.message}`);
  }
};

/** Cheap looks at the links (no process): the watcher runs them every second. */
export interface LinkProbe {
  exists(name: string): boolean;
  up(name: string): boolean;
  master(name: string): string | undefined;
}

export function sysfsLinkProbe(root = '/sys/class/net'): LinkProbe {
  const read = (name: string, file: string): string | undefined => {
    try {
      return readFileSync(join(root, name, file), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return {
    exists: (name) => read(name, 'ifindex') !== undefined,
    up: (name) => (Number.parseInt(read(name, 'flags') ?? '0', 16) & IFF_UP) !== 0,
    master: (name) => {
      try {
        return basename(readlinkSync(join(root, name, 'master')));
      } catch {
        return undefined;
      }
    },
  };
}

export interface VmNetworksOptions {
  /** VM_NETWORKS, in order (NIC N is entry N). */
  readonly interfaces: readonly string[];
  /** Seed of the MACs together with the interface name (when there is no macId). */
  readonly nodeName: string;
  /** VM_MAC_ID: the node's allocated block of MACs (vm-nics.ts); absent: MACs derived from nodeName. */
  readonly macId?: number;
  /** VM_NETWORKS_WAIT: how long a power-on waits for missing interfaces. */
  readonly waitMs: number;
  readonly log?: Logger;
  readonly timing?: Partial<VmNetworksTiming>;
  readonly ip?: IpRunner;
  readonly probe?: LinkProbe;
  readonly clock?: () => number;
}

/** Hot-plugs one NIC into the running VM (QemuMachine does it over QMP). */
export type HotAdd = (nic: QemuNic) => Promise<void>;

export class VmNetworks {
  private readonly log: Logger;
  private readonly timing: VmNetworksTiming;
  private readonly ip: IpRunner;
  private readonly probe: LinkProbe;
  private readonly clock: () => number;
  /** When each interface was first seen down (for settleMs). */
  private readonly firstSeen = new Map<string, number>();
  /** Attaches one after another: the watcher and a power-on may meet. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: VmNetworksOptions) {
    this.log = options.log ?? silentLogger;
    this.timing = { ...DEFAULT_VM_NETWORKS_TIMING, ...options.timing };
    this.ip = options.ip ?? runIp;
    this.probe = options.probe ?? sysfsLinkProbe();
    this.clock = options.clock ?? Date.now;
  }

  get interfaces(): readonly string[] {
    return this.options.interfaces;
  }

  /** The NIC that carries VM_NETWORKS entry `ifname` (id, tap, MAC). */
  nicFor(ifname: string): QemuNic {
    const index = this.options.interfaces.indexOf(ifname);
    if (index < 0) throw new VmNetworkError(`${ifname} is not in VM_NETWORKS`);
    return { id: nicId(index), tapName: networkNames(ifname).tap, mac: nodeNicMac({ nodeName: this.options.nodeName, macId: this.options.macId }, ifname, index) };
  }

  /**
   * Before a power-on: waits up to waitMs (or until `signal` aborts) for every interface, bridges
   * those that are there and returns their NICs in VM_NETWORKS order. Missing interfaces are logged
   * and left out (the watcher adds them later). A present interface that cannot be bridged fails
   * the power-on: that is the container's set-up (NET_ADMIN, /dev/net/tun), and it will not heal.
   */
  async prepare(signal?: AbortSignal): Promise<QemuNic[]> {
    const all = this.options.interfaces;
    if (all.length === 0) return [];
    const started = this.clock();
    const deadline = started + this.options.waitMs;
    let missing = all.filter((name) => !this.arrived(name));
    if (missing.length > 0) {
      this.log.info('power-on waits for VM_NETWORKS interfaces', { missing, waitMs: this.options.waitMs });
      while (missing.length > 0 && this.clock() < deadline && !signal?.aborted) {
        await sleep(Math.min(this.timing.waitPollMs, Math.max(0, deadline - this.clock())), signal);
        missing = all.filter((name) => !this.arrived(name));
      }
    }
    if (signal?.aborted) throw new VmNetworkError('stopped while waiting for the VM_NETWORKS interfaces');
    const present = all.filter((name) => this.probe.exists(name));
    const absent = all.filter((name) => !present.includes(name));
    if (absent.length > 0) {
      this.log.warn('VM_NETWORKS interfaces are missing: the VM starts without them and gets each one hot-plugged when it appears', {
        missing: absent, waitedMs: this.clock() - started,
      });
    }
    const nics: QemuNic[] = [];
    for (const name of present) nics.push(await this.attach(name));
    return nics;
  }

  /**
   * While the VM runs: every watchPollMs, bridges each interface of VM_NETWORKS that has no NIC in
   * `attached` once it arrives and hands its NIC to `hotAdd`; an attached interface that is no longer
   * in its bridge (deleted and plugged again) is bridged again. Returns the function that stops it.
   */
  watch(attached: readonly QemuNic[], hotAdd: HotAdd): () => void {
    if (this.options.interfaces.length === 0) return () => undefined;
    const pending = new Set(this.options.interfaces.filter((name) => !attached.some((n) => n.id === this.nicFor(name).id)));
    const failures = new Map<string, number>();
    let stopped = false;
    let busy = false;
    const failed = (name: string, what: string, err: unknown): void => {
      const count = (failures.get(name) ?? 0) + 1;
      failures.set(name, count);
      const last = count >= this.timing.hotAddAttempts;
      this.log.error(`${what} failed${last ? ': not trying again while this VM runs' : ''}`, { interface: name, attempt: count, error: (err as Error).message });
    };
    const tick = async (): Promise<void> => {
      for (const name of this.options.interfaces) {
        if (stopped) return;
        if ((failures.get(name) ?? 0) >= this.timing.hotAddAttempts) continue;
        if (pending.has(name)) {
          if (!this.arrived(name)) continue;
          try {
            const nic = await this.attach(name);
            if (stopped) return;
            await hotAdd(nic);
            pending.delete(name);
            this.log.info('VM_NETWORKS interface appeared: NIC hot-plugged into the VM', { interface: name, nic: nic.id, mac: nic.mac });
          } catch (err) {
            if (!stopped) failed(name, 'hot-plugging a VM_NETWORKS interface', err);
          }
        } else if (this.probe.exists(name) && this.probe.master(name) !== networkNames(name).bridge && this.arrived(name)) {
          try {
            await this.attach(name);
            this.log.info('VM_NETWORKS interface came back: bridged to the VM again', { interface: name });
          } catch (err) {
            if (!stopped) failed(name, 'bridging a VM_NETWORKS interface again', err);
          }
        }
      }
    };
    const timer = setInterval(() => {
      if (busy || stopped) return;
      busy = true;
      tick().catch((err: unknown) => this.log.error('VM_NETWORKS watcher failed', { error: String(err) })).finally(() => { busy = false; });
    }, this.timing.watchPollMs);
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /** Bridges `ifname` into the VM's network (idempotent) and returns its NIC. */
  attach(ifname: string): Promise<QemuNic> {
    const run = this.lock.then(() => this.attachNow(ifname));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async attachNow(ifname: string): Promise<QemuNic> {
    const names = networkNames(ifname);
    const nic = this.nicFor(ifname);
    const before = await this.links();
    const plan = planAttach(names, before);
    for (const cmd of plan) {
      try {
        await this.ip(cmd.args, this.timing.commandTimeoutMs);
      } catch (err) {
        if (cmd.optional) {
          this.log.debug('optional ip command failed', { args: cmd.args, error: (err as Error).message });
          continue;
        }
        throw new VmNetworkError(`cannot bridge ${ifname} into the VM (the container needs --cap-add NET_ADMIN and --device /dev/net/tun): ${(err as Error).message}`);
      }
    }
    const problems = attachProblems(names, await this.links());
    if (problems.length > 0) throw new VmNetworkError(`bridging ${ifname} into the VM did not hold: ${problems.join('; ')}`);
    const removed = before.get(ifname)?.addresses ?? [];
    if (plan.length > 0) {
      this.log.info('VM_NETWORKS interface bridged into the VM', {
        interface: ifname, bridge: names.bridge, tap: names.tap, nic: nic.id, mac: nic.mac,
        ...(removed.length > 0 ? { removedAddresses: removed } : {}),
      });
    } else {
      this.log.debug('VM_NETWORKS interface already bridged', { interface: ifname, bridge: names.bridge, tap: names.tap });
    }
    return nic;
  }

  private async links(): Promise<Map<string, IpLink>> {
    const links = await this.ip(['-d', '-j', 'link', 'show'], this.timing.commandTimeoutMs);
    const addresses = await this.ip(['-j', 'addr', 'show'], this.timing.commandTimeoutMs);
    return parseIpLinks(links, addresses);
  }

  /** The interface exists and is up, or has existed for settleMs (nobody is going to bring it up). */
  private arrived(name: string): boolean {
    if (!this.probe.exists(name)) {
      this.firstSeen.delete(name);
      return false;
    }
    if (this.probe.up(name) || this.probe.master(name) === networkNames(name).bridge) return true;
    const now = this.clock();
    const seen = this.firstSeen.get(name);
    if (seen === undefined) {
      this.firstSeen.set(name, now);
      return this.timing.settleMs <= 0;
    }
    return now - seen >= this.timing.settleMs;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

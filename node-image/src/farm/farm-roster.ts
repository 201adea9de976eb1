/**
 * A managed farm's roster: which BMCs it hosts (name, node id, address, ports, credentials), kept as
 * one JSON file in the farm's state directory (farm-roster.json, mode 0600: it holds the BMCs'
 * initial passwords), rewritten whole through a temporary file and a rename, so a crash leaves the
 * previous roster or the new one, never a torn one. A farm restarted on the same directory reads it
 * back and hosts every BMC again.
 *
 * Each BMC's state (users, boot flags, SEL, …) lives in the farm's state store under the BMC's index.
 * A BMC removed without purge leaves its index under its name (`kept`), so a later BMC of that name
 * finds its state again, as a container node finds its kept disk; a purge forgets the index.
 * Indices are never reused: the index also makes the BMC's MAC (macOf).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIpv4 } from './address-plan';
import { VM_MAC_ID_MAX, VM_MAC_ID_MIN } from '../machine/vm-nics';
import type { FarmBmcSettings } from './farm';

export const ROSTER_FILE = 'farm-roster.json';
const FORMAT_VERSION = 1;
/** BMC names: what the orchestrator's node names are (DNS labels). */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** One BMC as the farm is asked to host it. */
export interface RosterBmc {
  readonly nodeId: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly redfishPort: number | null;
  readonly user: string;
  readonly password: string;
  readonly powerOnAtStart: boolean;
  /**
   * The node's block of VM NIC MACs (VM_MAC_ID, machine/vm-nics.ts): its simulated NIC reports
   * 52:55:<macId>:00 over Redfish; null (or absent in a roster written before it): the MAC derived from the name.
   */
  readonly macId: number | null;
}

/** A hosted BMC: what was asked, and its index in the farm's state store. */
export interface RosterEntry extends RosterBmc {
  readonly index: number;
}

interface RosterFile {
  readonly version: number;
  readonly nextIndex: number;
  readonly bmcs: readonly RosterEntry[];
  readonly kept: Readonly<Record<string, number>>;
}

export class RosterError extends Error {}

export function settingsOf(entry: RosterEntry): FarmBmcSettings {
  return { index: entry.index, name: entry.name, address: entry.address, port: entry.port, user: entry.user, password: entry.password, redfishPort: entry.redfishPort, powerOnAtStart: entry.powerOnAtStart, macId: entry.macId ?? null };
}

/** Checks one requested BMC, naming the field and the rule it breaks. */
export function parseRosterBmc(value: unknown, at: string): RosterBmc {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RosterError(`${at} must be an object`);
  const v = value as Record<string, unknown>;
  const text = (field: string, max: number): string => {
    const f = v[field];
    if (typeof f !== 'string' || f.length === 0 || f.length > max) throw new RosterError(`${at}.${field} must be a string of 1 to ${max} characters`);
    return f;
  };
  const port = (field: string, nullable: boolean): number | null => {
    const f = v[field];
    if (nullable && (f === null || f === undefined)) return null;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1 || f > 65535) throw new RosterError(`${at}.${field} must be a port number from 1 to 65535${nullable ? ', or null' : ''}`);
    return f;
  };
  const name = text('name', 63);
  if (!NAME.test(name)) throw new RosterError(`${at}.name "${name}" must be a DNS label (a-z, 0-9, inner dashes)`);
  const address = text('address', 15);
  if (parseIpv4(address) === undefined || address === '0.0.0.0') throw new RosterError(`${at}.address "${address}" must be an IPv4 address the BMC listens on (not 0.0.0.0: lan print reports it)`);
  const powerOnAtStart = v.powerOnAtStart ?? false;
  if (typeof powerOnAtStart !== 'boolean') throw new RosterError(`${at}.powerOnAtStart must be true or false`);
  const user = text('user', 16);
  const password = text('password', 20);
  const macId = v.macId ?? null;
  if (macId !== null && (typeof macId !== 'number' || !Number.isInteger(macId) || macId < VM_MAC_ID_MIN || macId > VM_MAC_ID_MAX)) {
    throw new RosterError(`${at}.macId must be a whole number from ${VM_MAC_ID_MIN} to ${VM_MAC_ID_MAX}, or null`);
  }
  return { nodeId: text('nodeId', 64), name, address, port: port('port', false)!, redfishPort: port('redfishPort', true), user, password, powerOnAtStart, macId };
}

function same(a: RosterBmc, b: RosterBmc): boolean {
  return a.nodeId === b.nodeId && a.name === b.name && a.address === b.address && a.port === b.port && a.redfishPort === b.redfishPort
    && a.user === b.user && a.password === b.password && a.powerOnAtStart === b.powerOnAtStart && (a.macId ?? null) === (b.macId ?? null);
}

export class FarmRoster {
  private readonly byName = new Map<string, RosterEntry>();
  private readonly kept = new Map<string, number>();

  private constructor(private readonly path: string, private nextIndex: number) {}

  /** Reads the roster in `dir` (none yet: an empty one); a damaged file fails loudly. */
  static open(dir: string): FarmRoster {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, ROSTER_FILE);
    if (!existsSync(path)) return new FarmRoster(path, 0);
    let file: RosterFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as RosterFile;
    } catch (err) {
      throw new Error(`farm roster ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (file.version !== FORMAT_VERSION || !Array.isArray(file.bmcs) || !Number.isInteger(file.nextIndex)) throw new Error(`farm roster ${path} is not a version ${FORMAT_VERSION} roster`);
    const roster = new FarmRoster(path, file.nextIndex);
    for (const entry of file.bmcs) roster.byName.set(entry.name, { ...entry, macId: entry.macId ?? null });
    for (const [name, index] of Object.entries(file.kept ?? {})) roster.kept.set(name, index);
    return roster;
  }

  get size(): number { return this.byName.size; }

  entries(): RosterEntry[] { return [...this.byName.values()]; }

  get(name: string): RosterEntry | undefined { return this.byName.get(name); }

  /**
   * What adding `bmc` means: "present" when the farm hosts exactly it already (a repeated request),
   * else a new entry (its kept index when its name left state behind, else a fresh one) that the
   * caller starts and then records with `put`. A name or an address:port held by another BMC is a
   * RosterError.
   */
  admit(bmc: RosterBmc): RosterEntry | 'present' {
    const held = this.byName.get(bmc.name);
    if (held) {
      if (same(held, bmc)) return 'present';
      throw new RosterError(`${bmc.name}: the farm hosts a BMC of that name already (node ${held.nodeId}, ${held.address}:${held.port}); remove it first`);
    }
    for (const other of this.byName.values()) {
      if (other.address === bmc.address && (other.port === bmc.port || (bmc.redfishPort !== null && other.redfishPort === bmc.redfishPort))) {
        throw new RosterError(`${bmc.name}: ${bmc.address} port ${other.port === bmc.port ? bmc.port : bmc.redfishPort} is ${other.name}'s in this farm`);
      }
    }
    const kept = this.kept.get(bmc.name);
    // A fresh index is taken now, whether or not the BMC then starts: indices are never reused.
    return { ...bmc, index: kept ?? this.nextIndex++ };
  }

  /** Records a started BMC (save() writes it). */
  put(entry: RosterEntry): void {
    this.byName.set(entry.name, entry);
    this.kept.delete(entry.name);
    if (entry.index >= this.nextIndex) this.nextIndex = entry.index + 1;
  }

  /**
   * Forgets a BMC; without purge its index stays under its name. Returns the index whose state a
   * purge must clear (undefined: nothing to clear). A purge of a name that only left state behind
   * clears that state.
   */
  drop(name: string, purge: boolean): number | undefined {
    const entry = this.byName.get(name);
    this.byName.delete(name);
    if (entry && !purge) { this.kept.set(name, entry.index); return undefined; }
    const index = entry?.index ?? this.kept.get(name);
    this.kept.delete(name);
    return index;
  }

  /** Writes the roster (temporary file, then rename). */
  save(): void {
    const file: RosterFile = { version: FORMAT_VERSION, nextIndex: this.nextIndex, bmcs: this.entries(), kept: Object.fromEntries(this.kept) };
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

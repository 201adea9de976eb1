/**
 * The VM_* variables of design.md section 1 (and ENABLE_KVM, VNC_PORT, VNC_PASSWORD), parsed into a typed object.
 * Pure: the environment comes in as a parameter. Every problem is collected with the variable, the
 * value given and what is allowed, and a default is used in its place, so that the BMC can start
 * anyway: bad VM configuration must not take IPMI down; the QEMU machine refuses power-on instead
 * and says why (see QemuMachine).
 */

export type VmBootDevice = 'disk' | 'cdrom' | 'network';
export type VmBootMode = 'bios' | 'uefi';
export type KvmMode = 'on' | 'off' | 'auto';

export interface QemuConfig {
  /** VM_MEMORY, MiB. */
  readonly memoryMiB: number;
  /** VM_CPUS. */
  readonly cpus: number;
  /** VM_DISK: disk image path; created as qcow2 when missing. */
  readonly disk: string;
  /** VM_DISK_SIZE in bytes (K/M/G/T are powers of 1024, as for qemu-img). */
  readonly diskSizeBytes: number;
  /** VM_CDROM: ISO attached to the CD-ROM drive; undefined = the drive is empty. */
  readonly cdrom: string | undefined;
  /** VM_BOOT: c disk, d CD-ROM, n network. */
  readonly bootDevice: VmBootDevice;
  /** VM_BOOT_MODE: firmware when the boot flags do not choose. */
  readonly bootMode: VmBootMode;
  /** VM_BOOT_MENU_TIMEOUT: how long the firmware boot menu waits, ms; 0 = no menu. */
  readonly bootMenuTimeoutMs: number;
  /** ENABLE_KVM. */
  readonly kvm: KvmMode;
  /** VNC_PORT; undefined = no VNC server (VNC_PORT=none). */
  readonly vncPort: number | undefined;
  /**
   * VNC_PASSWORD (1 to 8 characters): VNC asks for it and listens on every interface of the
   * container. Undefined: VNC listens on 127.0.0.1 only. A secret: never logged, never on QEMU's
   * command line (it reaches QEMU over QMP, see QemuMachine).
   */
  readonly vncPassword: string | undefined;
  /** VM_NETWORKS: container interfaces bridged into the VM, in order. */
  readonly networks: readonly string[];
  /** VM_NETWORKS_WAIT (seconds): how long a power-on waits for VM_NETWORKS interfaces that are missing. */
  readonly networksWaitMs: number;
}

export interface QemuConfigResult {
  /** Always complete: a bad value is replaced by its default (and reported in problems). */
  readonly config: QemuConfig;
  /** One message per bad variable; empty when the configuration is valid. */
  readonly problems: readonly string[];
}

export const QEMU_CONFIG_DEFAULTS: QemuConfig = {
  memoryMiB: 2048,
  cpus: 2,
  disk: '/vm/disk.qcow2',
  diskSizeBytes: 20 * 1024 ** 3,
  cdrom: undefined,
  bootDevice: 'disk',
  bootMode: 'bios',
  bootMenuTimeoutMs: 0,
  kvm: 'auto',
  vncPort: 5900,
  vncPassword: undefined,
  networks: [],
  networksWaitMs: 60_000,
};

export const VM_MEMORY_MIN_MIB = 128;
export const VM_MEMORY_MAX_MIB = 1024 * 1024;
export const VM_CPUS_MIN = 1;
/** The q35 machine's limit with the default APIC is 288; 255 keeps to what every firmware handles. */
export const VM_CPUS_MAX = 255;
const DISK_SIZE_MIN_BYTES = 1024 ** 2;
const DISK_SIZE_MAX_BYTES = 64 * 1024 ** 4;
/** QEMU stores the boot menu wait (-boot splash-time) as 16 bits. */
export const BOOT_MENU_TIMEOUT_MAX_MS = 0xffff;
/** QEMU serves VNC display N on TCP port 5900 + N. */
export const VNC_BASE_PORT = 5900;
const TCP_PORT_MAX = 65535;
/** VNC authentication (RFB 3.8 section 7.2.2) keys DES with the password's first 8 bytes; the rest would be ignored. */
export const VNC_PASSWORD_MAX_LENGTH = 8;
/** VM_NETWORKS_WAIT's upper bound, seconds: a power-on waits at most an hour. */
export const VM_NETWORKS_WAIT_MAX_SECONDS = 3600;
/** Linux interface names: IFNAMSIZ (16) including the terminating NUL. */
const IFNAME_MAX = 15;

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const BOOT_DEVICES: Readonly<Record<string, VmBootDevice>> = { c: 'disk', d: 'cdrom', n: 'network' };
const TRUE_WORDS = /^(true|1|yes|on)$/i;
const FALSE_WORDS = /^(false|0|no|off)$/i;
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

export function parseQemuConfig(env: Readonly<Record<string, string | undefined>>): QemuConfigResult {
  const problems: string[] = [];
  const d = QEMU_CONFIG_DEFAULTS;
  /** The variable's value, or undefined when unset or empty (the default applies). */
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const wholeNumber = (name: string, def: number, min: number, max: number, what: string): number => {
    const v = get(name);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}="${v}" must be ${what} from ${min} to ${max}`);
      return def;
    }
    return Number(v);
  };
  const path = (name: string, def: string | undefined): string | undefined => {
    const v = get(name);
    if (v === undefined) return def;
    if (CONTROL_CHARS.test(v)) {
      problems.push(`${name} must be a file path without control characters`);
      return def;
    }
    return v;
  };

  const memoryMiB = wholeNumber('VM_MEMORY', d.memoryMiB, VM_MEMORY_MIN_MIB, VM_MEMORY_MAX_MIB, 'a number of MiB');
  const cpus = wholeNumber('VM_CPUS', d.cpus, VM_CPUS_MIN, VM_CPUS_MAX, 'a whole number of vCPUs');
  const disk = path('VM_DISK', d.disk) ?? d.disk;
  const cdrom = path('VM_CDROM', undefined);

  let diskSizeBytes = d.diskSizeBytes;
  const size = get('VM_DISK_SIZE');
  if (size !== undefined) {
    const m = /^(\d+)([KMGT]?)$/i.exec(size);
    const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]! : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < DISK_SIZE_MIN_BYTES || bytes > DISK_SIZE_MAX_BYTES) {
      problems.push(`VM_DISK_SIZE="${size}" must be a size like 20G (a whole number of bytes with an optional K, M, G or T suffix) from 1M to 64T`);
    } else {
      diskSizeBytes = bytes;
    }
  }

  let bootDevice = d.bootDevice;
  const boot = get('VM_BOOT');
  if (boot !== undefined) {
    const device = BOOT_DEVICES[boot.toLowerCase()];
    if (device) bootDevice = device;
    else problems.push(`VM_BOOT="${boot}" must be c (disk), d (CD-ROM) or n (network)`);
  }

  let bootMode = d.bootMode;
  const mode = get('VM_BOOT_MODE');
  if (mode !== undefined) {
    if (/^(bios|uefi)$/i.test(mode)) bootMode = mode.toLowerCase() as VmBootMode;
    else problems.push(`VM_BOOT_MODE="${mode}" must be bios (SeaBIOS) or uefi (OVMF)`);
  }

  const bootMenuTimeoutMs = wholeNumber('VM_BOOT_MENU_TIMEOUT', d.bootMenuTimeoutMs, 0, BOOT_MENU_TIMEOUT_MAX_MS,
    'a whole number of milliseconds (0 = no boot menu)');

  let kvm = d.kvm;
  const kvmValue = get('ENABLE_KVM');
  if (kvmValue !== undefined) {
    if (TRUE_WORDS.test(kvmValue)) kvm = 'on';
    else if (FALSE_WORDS.test(kvmValue)) kvm = 'off';
    else if (/^auto$/i.test(kvmValue)) kvm = 'auto';
    else problems.push(`ENABLE_KVM="${kvmValue}" must be true, false or auto (use /dev/kvm when present)`);
  }

  let vncPort = d.vncPort;
  const vnc = get('VNC_PORT');
  if (vnc !== undefined) {
    if (/^none$/i.test(vnc)) vncPort = undefined;
    else if (/^\d+$/.test(vnc) && Number(vnc) >= VNC_BASE_PORT && Number(vnc) <= TCP_PORT_MAX) vncPort = Number(vnc);
    else problems.push(`VNC_PORT="${vnc}" must be a TCP port from ${VNC_BASE_PORT} to ${TCP_PORT_MAX} (QEMU serves VNC display N on ${VNC_BASE_PORT}+N), or none`);
  }

  // Not trimmed (spaces are characters of a password) and never quoted in a message.
  let vncPassword: string | undefined;
  const password = env['VNC_PASSWORD'];
  if (password !== undefined && password !== '') {
    if (password.length > VNC_PASSWORD_MAX_LENGTH) {
      problems.push(`VNC_PASSWORD is longer than ${VNC_PASSWORD_MAX_LENGTH} characters: VNC authentication uses at most ${VNC_PASSWORD_MAX_LENGTH} (give 1 to ${VNC_PASSWORD_MAX_LENGTH} printable ASCII characters)`);
    } else if (!/^[\x20-\x7e]+$/.test(password)) {
      problems.push(`VNC_PASSWORD must be 1 to ${VNC_PASSWORD_MAX_LENGTH} printable ASCII characters (it contains another character)`);
    } else {
      vncPassword = password;
    }
  }

  const networks: string[] = [];
  const nets = get('VM_NETWORKS');
  if (nets !== undefined) {
    for (const raw of nets.split(',')) {
      const name = raw.trim();
      if (name === '') continue;
      if (!isInterfaceName(name)) {
        problems.push(`VM_NETWORKS: "${name}" is not an interface name (1 to ${IFNAME_MAX} characters, no spaces, slashes or colons)`);
      } else if (networks.includes(name)) {
        problems.push(`VM_NETWORKS: "${name}" is listed twice`);
      } else {
        networks.push(name);
      }
    }
  }

  const networksWaitMs = 1000 * wholeNumber('VM_NETWORKS_WAIT', d.networksWaitMs / 1000, 0, VM_NETWORKS_WAIT_MAX_SECONDS,
    'a whole number of seconds (how long power-on waits for a missing VM_NETWORKS interface)');

  return {
    config: { memoryMiB, cpus, disk, diskSizeBytes, cdrom, bootDevice, bootMode, bootMenuTimeoutMs, kvm, vncPort, vncPassword, networks, networksWaitMs },
    problems,
  };
}

/** What the kernel accepts as an interface name (dev_valid_name), minus ':' (alias syntax). */
function isInterfaceName(name: string): boolean {
  return name.length <= IFNAME_MAX && name !== '.' && name !== '..' && /^[^\s/:]+$/.test(name) && !CONTROL_CHARS.test(name);
}

/**
 * QEMU's command line for one boot of the node, as an argument array (never a shell string). Pure.
 *
 * Decisions (each also explained where it is applied):
 * - Machine q35 whatever the firmware: SeaBIOS and OVMF both run on it, so an IPMI boot override
 *   that switches firmware for one boot does not change the guest's hardware (disk names, PCI paths).
 *   `graphics=off` makes SeaBIOS mirror its console to the serial port (sercon) so SOL shows the
 *   firmware; the VGA card and VNC keep working.
 * - -nodefaults and -no-user-config: every device is listed here, nothing comes from QEMU's defaults
 *   or the host's /etc/qemu.
 * - Boot order through `bootindex` on each device, never -boot order=: the selected device first,
 *   then the rest of VM_BOOT's order (a real BIOS also falls through to its normal order when the
 *   override device does not boot). bootindex can be changed at run time (qom-set) and QEMU rebuilds
 *   the firmware's boot order at every reset, so a reset to another device needs no new process.
 *   The virtual media USB stick (IPMI floppy/primary removable media, Redfish `Usb`) is plugged
 *   over QMP with its bootindex; the firmware reads the boot order (fw_cfg `bootorder`) only as
 *   QEMU rebuilds it at a reset, so a stick plugged before the first boot needs one reset before
 *   `cont` (qemu-machine.ts). SeaBIOS and OVMF both boot a stick that way.
 * - Secure Boot (the BMC's SecureBoot setting, UEFI boots only): OVMF's Secure Boot build
 *   (OVMF_CODE_4M.secboot.fd) with its own variable store made from OVMF_VARS_4M.ms.fd (Microsoft's
 *   keys enrolled, as servers ship), on q35 with `smm=on` and the flash marked secure
 *   (`-global driver=cfi.pflash01,property=secure,value=on`), so only SMM code can write the
 *   variables. A boot that switches Secure Boot on or off needs a new QEMU process.
 * - Boot device 'bios' ("force boot into BIOS setup"): QEMU has no switch that makes SeaBIOS or OVMF
 *   enter setup, so the firmware's boot menu is shown and waits the longest time QEMU allows
 *   (65.535 s): press Esc on VNC or SOL for SeaBIOS's boot menu or OVMF's setup. Then the normal order.
 * - -action reboot=shutdown,shutdown=pause: every reset request (the guest's and QMP's) and every
 *   power-off stops the VM instead of acting, so the agent decides: apply the boot flags to a guest
 *   reboot, or turn a guest power-off into 'off'. Guest reboots stay inside the same QEMU process.
 * - -S: QEMU starts paused; the agent sends `cont` once QMP and the serial port are connected, so no
 *   firmware output is lost.
 * - The serial port is a socket client (reconnect=1) to the agent's serial endpoint; QMP is a socket
 *   server the agent connects to.
 * - -sandbox on with every sub-option denied (obsolete system calls, set*uid/gid, fork/exec,
 *   scheduler and CPU-affinity changes): QEMU's seccomp filter, so a guest that breaks out of a
 *   device model cannot start programs or gain privileges. Nothing the agent uses needs them: tap
 *   netdevs use script=no (the agent makes the taps), no -daemonize, no helpers.
 * - VNC: with VNC_PASSWORD, `password=on` on every container interface (the password itself comes
 *   over QMP, never on this command line, which /proc shows to everyone); without, 127.0.0.1 only.
 * - KVM: -cpu host (what a real server's OS expects); TCG: -cpu max (x86-64-v2 and later, which
 *   current distributions require; qemu64 lacks it).
 * - Network devices exist only for the interfaces of VM_NETWORKS, so there is no network boot ROM
 *   unless a network boot is possible; with NICs, their iPXE ROMs stay (PXE and the fallback order).
 * - Each VM_NETWORKS entry has its own PCIe root port (q35's root bus takes no hot-plug), whether its
 *   interface is there at power-on or not: an interface that appears later is hot-plugged into it
 *   (QMP netdev_add + device_add), and NIC N keeps one PCI address whether it came at power-on or
 *   later. The ports sit at fixed addresses (slot 0x10 on, eight functions per slot) so the disk
 *   interface or other devices never move them.
 */
import { createHash } from 'node:crypto';
import type { BootDevice, BootSelection } from './machine-control';
import type { QemuConfig, VmBootDevice } from './qemu-config';
import { VNC_BASE_PORT } from './qemu-config';

/** IDs of the devices and backends on the command line (QOM paths: /machine/peripheral/<id>). */
export const QEMU_IDS = {
  disk: 'disk0',
  diskDrive: 'drive-disk0',
  cdrom: 'cd0',
  cdromDrive: 'drive-cd0',
  serial: 'serial0',
  qmp: 'qmp0',
  video: 'video0',
  /** xHCI controller for the virtual media USB stick. */
  usb: 'usb',
  /** The virtual media USB stick (usb-storage on `usb`), plugged over QMP when it holds a medium. */
  usbStick: 'usbstick0',
} as const;

export const QEMU_MACHINE_TYPE = 'q35';
/** The longest boot menu wait QEMU accepts (-boot splash-time is 16 bits). */
export const SETUP_MENU_WAIT_MS = 0xffff;
/** Client chardev: seconds between attempts to reach the agent's serial endpoint again. */
export const SERIAL_RECONNECT_SECONDS = 1;
/** QEMU's seccomp sandbox (-sandbox) with every optional class of system calls denied. */
export const QEMU_SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';
/** Where VNC listens without a password: reachable from inside the container only. */
export const VNC_LOOPBACK_HOST = '127.0.0.1';
/** The AHCI port of q35's built-in SATA controller used for the CD-ROM drive (and an 'ide' disk). */
const CDROM_BUS = 'ide.0';
const IDE_DISK_BUS = 'ide.1';
/** First PCI slot of the NICs' root ports on pcie.0 (0x1f is q35's ICH9; auto-assigned devices start at 1). */
const NIC_PORT_FIRST_SLOT = 0x10;
const PCI_FUNCTIONS_PER_SLOT = 8;
/** QEMU's own locally administered OUI for virtual NICs. */
const QEMU_MAC_PREFIX = [0x52, 0x54, 0x00];

/** A class of boot devices: VM_BOOT's three, and the virtual media USB stick. */
export type BootClass = VmBootDevice | 'usb';

/** The boot as QEMU sees it. */
export interface ResolvedBoot {
  /** Device class tried first. */
  readonly first: BootClass;
  /** OVMF (true) or SeaBIOS (false). */
  readonly efi: boolean;
  /** Boot device 'bios': show the firmware menu and wait for a key press. */
  readonly setup: boolean;
  /** OVMF's Secure Boot firmware (only with efi). */
  readonly secure?: boolean;
  /** Boot menu wait (ms) from the BMC's firmware settings; undefined: VM_BOOT_MENU_TIMEOUT. */
  readonly menuTimeoutMs?: number;
}

/**
 * IPMI boot device → what this machine has. No floppy: "floppy/primary removable media" and
 * "primary remote media" are the virtual media USB stick (Redfish `Usb`, see core/boot-override.ts).
 */
const DEVICE_CLASS: Readonly<Record<BootDevice, BootClass | 'default' | 'setup'>> = {
  'default': 'default',
  'pxe': 'network',
  'disk': 'disk',
  'safe': 'disk',
  'diag': 'disk',
  'remote-disk': 'disk',
  'cdrom': 'cdrom',
  'remote-cdrom': 'cdrom',
  'remote-primary': 'usb',
  'floppy': 'usb',
  'bios': 'setup',
};

const BOOT_CLASS_ORDER: readonly BootClass[] = ['disk', 'cdrom', 'usb', 'network'];

/** The boot flags' selection applied to the VM's defaults (VM_BOOT, VM_BOOT_MODE). */
export function resolveBoot(selection: BootSelection, config: Pick<QemuConfig, 'bootDevice' | 'bootMode'>): ResolvedBoot {
  const cls = DEVICE_CLASS[selection.device];
  const efi = selection.efi ?? config.bootMode === 'uefi';
  return {
    first: cls === 'default' || cls === 'setup' ? config.bootDevice : cls,
    efi,
    setup: cls === 'setup',
    ...(efi && selection.secureBoot === true ? { secure: true } : {}),
    ...(selection.bootMenuTimeoutMs === undefined ? {} : { menuTimeoutMs: selection.bootMenuTimeoutMs }),
  };
}

/** A network device backed by a tap interface that someone else prepared (VM_NETWORKS bridging). */
export interface QemuNic {
  /** Device id, e.g. net0. */
  readonly id: string;
  /** The tap interface QEMU opens. */
  readonly tapName: string;
  /** 52:54:00:xx:xx:xx (see nicMac). */
  readonly mac: string;
}

/** Device id of the NIC of VM_NETWORKS entry `index` (0-based). */
export function nicId(index: number): string {
  return `net${index}`;
}

/** The PCIe root port that NIC `id` is plugged into (at power-on or later). */
export function nicPortId(id: string): string {
  return `port-${id}`;
}

/** `-device` values of the root ports for `count` VM_NETWORKS entries (one each, for hot-plug). */
export function nicPortDevices(count: number): string[] {
  const devices: string[] = [];
  for (let i = 0; i < count; i++) {
    const slot = NIC_PORT_FIRST_SLOT + Math.floor(i / PCI_FUNCTIONS_PER_SLOT);
    const fn = i % PCI_FUNCTIONS_PER_SLOT;
    // Function 0 announces the other functions of its slot; chassis numbers must differ per port.
    devices.push(`pcie-root-port,id=${nicPortId(nicId(i))},chassis=${i + 1},bus=pcie.0,addr=0x${slot.toString(16)}.${fn}${fn === 0 ? ',multifunction=on' : ''}`);
  }
  return devices;
}

/**
 * Device ids in boot priority order. The USB stick has its place whether it is plugged or not (it is
 * plugged with that bootindex; see qemu-media.ts).
 */
export function bootOrder(boot: ResolvedBoot, config: Pick<QemuConfig, 'bootDevice'>, nics: readonly QemuNic[]): string[] {
  const classes = [boot.first, ...[config.bootDevice, ...BOOT_CLASS_ORDER].filter((c) => c !== boot.first)];
  const ids: string[] = [];
  for (const cls of new Set(classes)) {
    if (cls === 'disk') ids.push(QEMU_IDS.disk);
    else if (cls === 'cdrom') ids.push(QEMU_IDS.cdrom);
    else if (cls === 'usb') ids.push(QEMU_IDS.usbStick);
    else ids.push(...nics.map((n) => n.id));
  }
  return ids;
}

/** bootindex of every bootable device (0 = first). */
export function bootIndexes(boot: ResolvedBoot, config: Pick<QemuConfig, 'bootDevice'>, nics: readonly QemuNic[]): ReadonlyMap<string, number> {
  return new Map(bootOrder(boot, config, nics).map((id, index) => [id, index]));
}

/** How long the firmware boot menu waits, or undefined for no menu. */
export function bootMenuWaitMs(boot: ResolvedBoot, config: Pick<QemuConfig, 'bootMenuTimeoutMs'>): number | undefined {
  if (boot.setup) return SETUP_MENU_WAIT_MS;
  const wait = boot.menuTimeoutMs ?? config.bootMenuTimeoutMs;
  return wait > 0 ? Math.min(wait, SETUP_MENU_WAIT_MS) : undefined;
}

/**
 * What a boot needs on the command line itself (firmware and boot menu). Two boots with the same key
 * can follow each other in one QEMU process; otherwise QEMU has to be started again.
 */
export function launchKey(boot: ResolvedBoot, config: Pick<QemuConfig, 'bootMenuTimeoutMs'>): string {
  return `${boot.efi ? (boot.secure ? 'uefi-secure' : 'uefi') : 'bios'}/menu=${bootMenuWaitMs(boot, config) ?? 'off'}`;
}

export interface QemuLaunchPaths {
  readonly qmpSocket: string;
  readonly serialSocket: string;
  /** OVMF firmware code, mapped read-only. */
  readonly ovmfCode: string;
  /** This node's OVMF variable store (NVRAM), writable. */
  readonly ovmfVars: string;
  /** OVMF's Secure Boot firmware code, for boots with `secure`. */
  readonly ovmfSecureCode?: string;
  /** This node's variable store for Secure Boot (Microsoft keys enrolled), writable. */
  readonly ovmfSecureVars?: string;
}

export interface QemuLaunch {
  readonly config: QemuConfig;
  readonly boot: ResolvedBoot;
  readonly accel: 'kvm' | 'tcg';
  readonly paths: QemuLaunchPaths;
  /** Format of VM_DISK ('qcow2' for the disks the agent creates). */
  readonly diskFormat: string;
  /** virtio (default) or ide (SATA on q35; for guests without virtio drivers). */
  readonly diskInterface?: 'virtio' | 'ide';
  readonly nics?: readonly QemuNic[];
  /** Guest name (process title, VNC desktop name). */
  readonly name?: string;
  /** SMBIOS system UUID (e.g. the BMC's system GUID, as a real server reports both alike). */
  readonly uuid?: string;
  /** SMBIOS system serial number. */
  readonly serialNumber?: string;
}

/** QEMU option values: a comma inside a value is written twice. */
export function qemuOptValue(value: string): string {
  return value.replace(/,/g, ',,');
}

export function buildQemuArgs(launch: QemuLaunch): string[] {
  const { config, boot, paths } = launch;
  const nics = launch.nics ?? [];
  const index = bootIndexes(boot, config, nics);
  const bootindex = (id: string): string => `bootindex=${index.get(id)!}`;
  const args: string[] = [];
  if (launch.name !== undefined) args.push('-name', qemuOptValue(launch.name));
  args.push(
    '-nodefaults',
    '-no-user-config',
    '-sandbox', QEMU_SANDBOX,
    '-machine', `${QEMU_MACHINE_TYPE},graphics=off${boot.efi && boot.secure ? ',smm=on' : ''}`,
    '-accel', launch.accel,
    '-cpu', launch.accel === 'kvm' ? 'host' : 'max',
    '-m', String(config.memoryMiB),
    '-smp', String(config.cpus),
  );
  if (launch.uuid !== undefined) args.push('-uuid', launch.uuid);
  if (launch.serialNumber !== undefined) args.push('-smbios', `type=1,serial=${qemuOptValue(launch.serialNumber)}`);
  args.push('-display', 'none');
  if (config.vncPort !== undefined) {
    const display = config.vncPort - VNC_BASE_PORT;
    args.push('-vnc', config.vncPassword === undefined ? `${VNC_LOOPBACK_HOST}:${display}` : `:${display},password=on`);
  }
  args.push(
    '-device', `VGA,id=${QEMU_IDS.video}`,
    '-action', 'reboot=shutdown,shutdown=pause',
  );
  const menuWait = bootMenuWaitMs(boot, config);
  if (menuWait !== undefined) args.push('-boot', `menu=on,splash-time=${menuWait}`);
  if (boot.efi && boot.secure) {
    if (paths.ovmfSecureCode === undefined || paths.ovmfSecureVars === undefined) throw new Error('a Secure Boot launch needs ovmfSecureCode and ovmfSecureVars');
    args.push(
      '-global', 'driver=cfi.pflash01,property=secure,value=on',
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(paths.ovmfSecureCode)}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${qemuOptValue(paths.ovmfSecureVars)}`,
    );
  } else if (boot.efi) {
    args.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(paths.ovmfCode)}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${qemuOptValue(paths.ovmfVars)}`,
    );
  }
  args.push('-drive', `if=none,id=${QEMU_IDS.diskDrive},file=${qemuOptValue(config.disk)},format=${launch.diskFormat},discard=unmap`);
  args.push('-device', (launch.diskInterface ?? 'virtio') === 'virtio'
    ? `virtio-blk-pci,drive=${QEMU_IDS.diskDrive},id=${QEMU_IDS.disk},${bootindex(QEMU_IDS.disk)}`
    : `ide-hd,drive=${QEMU_IDS.diskDrive},id=${QEMU_IDS.disk},bus=${IDE_DISK_BUS},${bootindex(QEMU_IDS.disk)}`);
  // The CD-ROM drive is always there, empty without VM_CDROM, like a server's virtual media drive.
  const media = config.cdrom === undefined ? '' : `,file=${qemuOptValue(config.cdrom)},format=raw`;
  args.push(
    '-drive', `if=none,id=${QEMU_IDS.cdromDrive},media=cdrom,readonly=on${media}`,
    '-device', `ide-cd,drive=${QEMU_IDS.cdromDrive},id=${QEMU_IDS.cdrom},bus=${CDROM_BUS},${bootindex(QEMU_IDS.cdrom)}`,
  );
  // USB for the virtual media USB stick (plugged over QMP while the VM runs).
  args.push('-device', `qemu-xhci,id=${QEMU_IDS.usb}`);
  const ports = new Set(config.networks.map((_, i) => nicPortId(nicId(i))));
  for (const port of nicPortDevices(config.networks.length)) args.push('-device', port);
  for (const nic of nics) {
    const bus = ports.has(nicPortId(nic.id)) ? `,bus=${nicPortId(nic.id)}` : '';
    args.push(
      '-netdev', `tap,id=netdev-${nic.id},ifname=${qemuOptValue(nic.tapName)},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=netdev-${nic.id},id=${nic.id},mac=${nic.mac}${bus},${bootindex(nic.id)}`,
    );
  }
  args.push(
    '-chardev', `socket,id=${QEMU_IDS.serial},path=${qemuOptValue(paths.serialSocket)},server=off,reconnect=${SERIAL_RECONNECT_SECONDS}`,
    '-serial', `chardev:${QEMU_IDS.serial}`,
    '-chardev', `socket,id=${QEMU_IDS.qmp},path=${qemuOptValue(paths.qmpSocket)},server=on,wait=off`,
    '-mon', `chardev=${QEMU_IDS.qmp},mode=control`,
    '-S',
  );
  return args;
}

/** A stable MAC for one NIC of one node (same seed, same MAC across restarts: DHCP and PXE see one machine). */
export function nicMac(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return [...QEMU_MAC_PREFIX, digest[0]!, digest[1]!, digest[2]!].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

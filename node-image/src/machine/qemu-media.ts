/**
 * Virtual media in a running QEMU, over QMP (QEMU's qapi/block.json and block-core.json):
 *
 * - The CD drive is the command line's ide-cd `cd0` (backend `drive-cd0`). A medium by URL is a
 *   block node of QEMU's curl driver (`http`/`https`, Debian package qemu-block-extra): QEMU reads
 *   the image by byte ranges as the guest asks for them, nothing is copied first. Insert:
 *   blockdev-open-tray (force: a guest's tray lock does not stop the BMC), blockdev-remove-medium,
 *   blockdev-add, blockdev-insert-medium, blockdev-close-tray. Eject: the same without the new
 *   medium; VM_CDROM's image, when the node has one, goes back into the drive.
 * - The USB stick is a usb-storage device on the xHCI controller `usb` of the command line,
 *   plugged with device_add over a read-only curl node and unplugged with device_del (done when QEMU
 *   reports DEVICE_DELETED), then blockdev-del. It is plugged with its bootindex of the boot order
 *   (qemu-args.ts bootOrder), so a boot override to it (IPMI floppy, Redfish Usb) boots it.
 *
 * Every QMP failure is thrown (as MachineError by the caller), never ignored.
 */
import type { MediaDriveId, RemoteMedium } from './media-drives';
import { QEMU_IDS } from './qemu-args';

/** Runs one QMP command; rejects with QEMU's error. */
export type QmpCall = (command: string, args?: Record<string, unknown>) => Promise<unknown>;

/** Seconds QEMU's curl driver waits for each read (its `timeout` option). */
export const CURL_READ_TIMEOUT_S = 20;
const DEVICE_DELETED_TIMEOUT_MS = 5_000;

/** The read-only raw node over an image URL (blockdev-add arguments). Pure. */
export function urlBlockdev(nodeName: string, medium: RemoteMedium): Record<string, unknown> {
  const https = medium.url.startsWith('https:');
  return {
    'driver': 'raw',
    'node-name': nodeName,
    'read-only': true,
    'file': {
      'driver': https ? 'https' : 'http',
      'node-name': `${nodeName}-file`,
      'url': medium.url,
      'read-only': true,
      'timeout': CURL_READ_TIMEOUT_S,
      // The BMC's VerifyCertificate with the system's CA store (core/virtual-media.ts); else unchecked.
      ...(https ? { sslverify: medium.verifyTls === true } : {}),
    },
  };
}

/** The read-only raw node over a local image file (VM_CDROM). Pure. */
export function fileBlockdev(nodeName: string, path: string): Record<string, unknown> {
  return { 'driver': 'raw', 'node-name': nodeName, 'read-only': true, 'file': { 'driver': 'file', 'filename': path, 'read-only': true } };
}

export const USB_STICK_ID = QEMU_IDS.usbStick;

/** The media of one QEMU process: what is in each drive, by block node. */
export class QemuMedia {
  /** The block node this class put into each drive (url undefined: VM_CDROM's file, back after an eject). */
  private readonly nodes = new Map<MediaDriveId, { node: string; url: string | undefined }>();
  private serial = 0;

  /**
   * @param cdromFile VM_CDROM, which the command line put into the CD drive (and goes back in on eject).
   * @param waitDeviceDeleted resolves when QEMU reports DEVICE_DELETED for the device id.
   * @param bootIndexOf the device's bootindex in the current boot order (undefined: none).
   */
  constructor(
    private readonly qmp: QmpCall,
    private readonly cdromFile: string | undefined,
    private readonly waitDeviceDeleted: (id: string, timeoutMs: number) => Promise<void>,
    private readonly bootIndexOf: (id: string) => number | undefined,
  ) {}

  /** The URL in `drive`, when this QEMU has one there. */
  urlIn(drive: MediaDriveId): string | undefined {
    return this.nodes.get(drive)?.url;
  }

  async set(drive: MediaDriveId, medium: RemoteMedium | undefined): Promise<void> {
    if (medium?.url === this.urlIn(drive)) return;
    if (drive === 'cd') await this.setCd(medium);
    else await this.setUsb(medium);
  }

  private nextNode(drive: MediaDriveId): string {
    this.serial += 1;
    return `vmedia-${drive}-${this.serial}`;
  }

  private async setCd(medium: RemoteMedium | undefined): Promise<void> {
    const id = QEMU_IDS.cdrom;
    // The new node first: opening it is what reaches the image server, and a failure there changes nothing.
    const node = this.nextNode('cd');
    if (medium) await this.qmp('blockdev-add', urlBlockdev(node, medium));
    else if (this.cdromFile !== undefined) await this.qmp('blockdev-add', fileBlockdev(node, this.cdromFile));
    await this.qmp('blockdev-open-tray', { id, force: true });
    await this.qmp('blockdev-remove-medium', { id });
    const old = this.nodes.get('cd');
    if (old) {
      this.nodes.delete('cd');
      await this.qmp('blockdev-del', { 'node-name': old.node });
    }
    if (medium || this.cdromFile !== undefined) {
      await this.qmp('blockdev-insert-medium', { id, 'node-name': node });
      this.nodes.set('cd', { node, url: medium?.url });
    }
    await this.qmp('blockdev-close-tray', { id });
  }

  private async setUsb(medium: RemoteMedium | undefined): Promise<void> {
    const old = this.nodes.get('usb');
    if (old) {
      const deleted = this.waitDeviceDeleted(USB_STICK_ID, DEVICE_DELETED_TIMEOUT_MS);
      deleted.catch(() => undefined);
      await this.qmp('device_del', { id: USB_STICK_ID });
      await deleted;
      this.nodes.delete('usb');
      await this.qmp('blockdev-del', { 'node-name': old.node });
    }
    if (!medium) return;
    const node = this.nextNode('usb');
    await this.qmp('blockdev-add', urlBlockdev(node, medium));
    try {
      const bootindex = this.bootIndexOf(USB_STICK_ID);
      await this.qmp('device_add', { driver: 'usb-storage', id: USB_STICK_ID, drive: node, bus: `${QEMU_IDS.usb}.0`, removable: true, ...(bootindex === undefined ? {} : { bootindex }) });
    } catch (err) {
      await this.qmp('blockdev-del', { 'node-name': node }).catch(() => undefined);
      throw err;
    }
    this.nodes.set('usb', { node, url: medium.url });
  }
}

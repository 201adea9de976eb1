/**
 * /dev/net/tun, the clone device QEMU's tap NICs need (VM_NETWORKS). A plain Docker node gets it with
 * `--device /dev/net/tun`; a Docker Swarm task cannot be given devices at all, but Docker's default
 * device rules let a container use c 10:200, so with CAP_MKNOD and CAP_NET_ADMIN the agent makes the
 * node itself at start: `mkdir -p /dev/net; mknod -m 0666 /dev/net/tun c 10 200` (the numbers are the
 * kernel's, Documentation/admin-guide/devices.txt: misc major 10, minor 200 "/dev/net/tun").
 *
 * The decision is pure (ensureTunDevice takes its file system and command as functions); a failure
 * is logged with what the container lacks and does not stop the agent: the BMC still answers, and
 * the power-on that needs a tap fails with vm-networks.ts's message.
 */
import type { Logger } from '../util/logger';

export const TUN_DIR = '/dev/net';
export const TUN_PATH = '/dev/net/tun';
/** misc character devices: major 10; the TUN/TAP clone device: minor 200. */
export const TUN_MAJOR = 10;
export const TUN_MINOR = 200;

export interface TunDeviceSystem {
  exists(path: string): boolean;
  /** mkdir -p. */
  makeDirectory(path: string): void;
  /** Creates a character device node (mode 0666); rejects with the tool's or the kernel's message. */
  makeCharacterDevice(path: string, major: number, minor: number): Promise<void>;
}

/** not-needed: no tap NICs; present: it was there; created: made now; failed: missing and cannot be made. */
export type TunDeviceOutcome = 'not-needed' | 'present' | 'created' | 'failed';

export async function ensureTunDevice(needed: boolean, system: TunDeviceSystem, log: Logger): Promise<TunDeviceOutcome> {
  if (!needed) return 'not-needed';
  if (system.exists(TUN_PATH)) return 'present';
  try {
    system.makeDirectory(TUN_DIR);
    await system.makeCharacterDevice(TUN_PATH, TUN_MAJOR, TUN_MINOR);
  } catch (err) {
    log.warn(`${TUN_PATH} is missing and cannot be created (the container needs CAP_MKNOD, or --device ${TUN_PATH}): VM_NETWORKS will not work`, {
      error: err instanceof Error ? err.message : String(err),
    });
    return 'failed';
  }
  log.info(`${TUN_PATH} created (c ${TUN_MAJOR}:${TUN_MINOR})`);
  return 'created';
}

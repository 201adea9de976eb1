/**
 * A variant of the test guest's ISO whose initramfs also carries the kernel's efivarfs module, so that
 * a test can write a UEFI variable from inside the guest (and read it back after the node was
 * re-created). The test guest itself loads only the modules it needs (button, evdev, virtio_net), and
 * Debian's cloud kernel builds efivarfs as a module.
 *
 * Made from what scripts/build-test-guest.sh left in GUEST_DIR: the kernel package it downloaded
 * (debs/, named in versions.txt), vmlinuz, initrd.img and node-image/test/guest/grub.cfg; the module is
 * appended to the initramfs as one more gzip'd cpio archive (the kernel unpacks concatenated ones) at
 * /efivarfs.ko, and grub-mkrescue makes the ISO as the build script does. Takes a few seconds.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAsync } from '../support/ipmitool-runner';
import { GUEST_DIR, REPO_ROOT } from './node-container';

/** Host tools the build uses (installed by scripts/build-test-guest.sh). */
export const EFIVARS_GUEST_TOOLS = ['dpkg-deb', 'tar', 'cpio', 'gzip', 'grub-mkrescue', 'xorriso'];
/** Where the module lands in the guest. */
export const EFIVARS_MODULE_IN_GUEST = '/efivarfs.ko';

const BUILD_STEP_TIMEOUT_MS = 120_000;

async function sh(script: string, args: string[], what: string): Promise<void> {
  const r = await runAsync('sh', ['-c', script, 'sh', ...args], { timeoutMs: BUILD_STEP_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
}

/** Builds OUTDIR/guest.iso (OUTDIR must be empty or new); returns its path. */
export async function buildEfivarsGuestIso(outDir: string): Promise<string> {
  const versions = readFileSync(join(GUEST_DIR, 'versions.txt'), 'utf8');
  const kernel = /^kernel (\S+) \((\S+\.deb)\)$/m.exec(versions);
  if (!kernel) throw new Error(`${join(GUEST_DIR, 'versions.txt')} names no kernel package: rebuild the test guest`);
  const [, kver, debFile] = kernel;
  const deb = join(GUEST_DIR, 'debs', debFile!);
  if (!existsSync(deb)) throw new Error(`${deb} is missing: run "bash scripts/build-test-guest.sh"`);
  const append = /^append ?(.*)$/m.exec(versions)?.[1] ?? '';

  const extract = join(outDir, 'extract');
  const overlay = join(outDir, 'overlay');
  const isoRoot = join(outDir, 'iso');
  mkdirSync(extract, { recursive: true });
  mkdirSync(overlay, { recursive: true });
  mkdirSync(join(isoRoot, 'boot', 'grub'), { recursive: true });

  const modulePath = `./lib/modules/${kver}/kernel/fs/efivarfs/efivarfs.ko`;
  await sh('dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', [deb, extract, modulePath], `extracting ${modulePath} from ${deb}`);
  copyFileSync(join(extract, modulePath), join(overlay, EFIVARS_MODULE_IN_GUEST.slice(1)));

  copyFileSync(join(GUEST_DIR, 'vmlinuz'), join(isoRoot, 'boot', 'vmlinuz'));
  copyFileSync(join(GUEST_DIR, 'initrd.img'), join(isoRoot, 'boot', 'initrd.img'));
  await sh('cd "$1" && printf "%s\\n" "$2" | cpio -o -H newc -R 0:0 --quiet | gzip -n -9 >>"$3"',
    [overlay, EFIVARS_MODULE_IN_GUEST.slice(1), join(isoRoot, 'boot', 'initrd.img')], 'appending the module to the initramfs');
  const grubCfg = readFileSync(join(REPO_ROOT, 'node-image', 'test', 'guest', 'grub.cfg'), 'utf8').replace('@APPEND@', append);
  writeFileSync(join(isoRoot, 'boot', 'grub', 'grub.cfg'), grubCfg);

  const iso = join(outDir, 'guest.iso');
  await sh('grub-mkrescue -o "$1" --locales= --fonts= --themes= "$2" -- -volid BMCFLEET_GUEST', [iso, isoRoot], 'grub-mkrescue');
  return iso;
}

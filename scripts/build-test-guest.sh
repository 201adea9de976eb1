#!/usr/bin/env bash
# Builds the test guest that the node-runtime end-to-end tests boot under QEMU: Debian's cloud kernel,
# a busybox initramfs whose /init prints a ready marker on the serial console and powers off on the
# ACPI power button, one ISO that boots in BIOS and UEFI, and a network-boot (TFTP) directory.
# Only Debian's mirror is used (apt-get download + dpkg-deb -x); see node-image/test/guest/README.md.
#
#   bash scripts/build-test-guest.sh [OUTDIR]       (default: .cache/test-guest in the repository)
#
# Output in OUTDIR:
#   vmlinuz, initrd.img   kernel and initramfs (direct -kernel/-initrd boots)
#   guest.iso             hybrid ISO: CD-ROM or disk, SeaBIOS or OVMF
#   tftp/                 TFTP root: boot.ipxe (iPXE script), boot/grub/i386-pc/core.0 (BIOS PXE),
#                         boot/grub/x86_64-efi/core.efi (UEFI PXE), boot/grub/grub.cfg, kernel, initramfs
#   versions.txt          the Debian packages used
#   debs/                 downloaded packages, kept as the cache
#
# Environment: TEST_GUEST_APPEND adds kernel parameters to every boot path (e.g. guest.ip=off).
# A second run with unchanged inputs only checks the cache and exits.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly GUEST_SRC="$REPO_ROOT/node-image/test/guest"
OUTDIR="$(mkdir -p "${1:-$REPO_ROOT/.cache/test-guest}" && cd "${1:-$REPO_ROOT/.cache/test-guest}" && pwd)"
readonly OUTDIR
readonly APPEND="${TEST_GUEST_APPEND:-}"

readonly KERNEL_METAPACKAGE=linux-image-cloud-amd64
readonly BUSYBOX_PACKAGE=busybox-static
# Host tools: cpio packs the initramfs, grub-mkrescue (grub-common + both grub platforms, xorriso,
# mtools for the EFI system partition) makes the ISO, grub-mknetdir the network-boot images.
readonly HOST_PACKAGES=(cpio grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools)
# Modules the guest loads; their dependencies come from modules.dep.
#   button, evdev: ACPI power button as /dev/input/event* (QMP system_powerdown);
#   virtio_pci, virtio_net: the NIC (pulls virtio, virtio_ring, virtio_pci_*_dev, failover, net_failover).
readonly GUEST_MODULES=(button evdev virtio_pci virtio_net)

started_at=$SECONDS
say() { printf 'build-test-guest: %s\n' "$*"; }
die() { printf 'build-test-guest: error: %s\n' "$*" >&2; exit 1; }

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

ensure_host_packages() {
  local missing=() pkg
  for pkg in "${HOST_PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); install them as root"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# "Depends: linux-image-6.1.0-NN-cloud-amd64" of the metapackage: the versioned kernel package.
kernel_package() {
  apt-cache depends "$KERNEL_METAPACKAGE" 2>/dev/null | awk '$1 == "Depends:" { print $2; exit }'
}

resolve_packages() {
  local kpkg
  kpkg="$(kernel_package)"
  if [ -z "$kpkg" ]; then
    [ "$(id -u)" -eq 0 ] || die "apt-cache does not know $KERNEL_METAPACKAGE; run apt-get update as root"
    say "apt-get update (no package lists)"
    apt-get update -qq
    kpkg="$(kernel_package)"
    [ -n "$kpkg" ] || die "cannot resolve $KERNEL_METAPACKAGE"
  fi
  GUEST_PACKAGES=("$kpkg" "$BUSYBOX_PACKAGE")
  # Lines: 'URI' FILE SIZE SHA256:HEX. apt-get prints nothing for a file already in the current
  # directory, so ask from an empty one.
  PACKAGE_URIS="$(cd "$WORK" && apt-get download --print-uris "${GUEST_PACKAGES[@]}")"
  [ -n "$PACKAGE_URIS" ] || die "apt-get download --print-uris printed nothing"
}

# Download as root without apt's _apt sandbox user, which cannot write to most OUTDIRs.
download_packages() {
  (cd "$DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "${GUEST_PACKAGES[@]}")
}

# Downloads what is missing from debs/ and checks every file against the archive's SHA256.
fetch_packages() {
  local file hash missing=()
  while read -r _ file _ hash; do
    [ -f "$DEBS_DIR/$file" ] && sha256sum --status -c <<<"${hash#SHA256:}  $DEBS_DIR/$file" && continue
    missing+=("$file")
  done <<<"$PACKAGE_URIS"
  if [ "${#missing[@]}" -gt 0 ]; then
    say "downloading ${GUEST_PACKAGES[*]}"
    if ! download_packages; then
      # Stale package lists name versions the security archive has already replaced.
      [ "$(id -u)" -eq 0 ] || die "apt-get download failed; run apt-get update as root"
      say "apt-get update and retry"
      apt-get update -qq
      resolve_packages
      download_packages || die "apt-get download ${GUEST_PACKAGES[*]} failed"
    fi
  fi
  while read -r _ file _ hash; do
    sha256sum --status -c <<<"${hash#SHA256:}  $DEBS_DIR/$file" || die "$file: SHA256 mismatch"
  done <<<"$PACKAGE_URIS"
  # Drop older versions so the cache does not grow with every kernel update.
  local keep
  keep="$(awk '{ print $2 }' <<<"$PACKAGE_URIS")"
  for file in "$DEBS_DIR"/*.deb; do
    grep -qxF "$(basename "$file")" <<<"$keep" || rm -f "$file"
  done
}

deb_file() { awk -v pkg="$1" 'index($2, pkg "_") == 1 { print $2; exit }' <<<"$PACKAGE_URIS"; }

# What the outputs are made of, apart from the Debian packages: a rebuild picks the archive's newest
# kernel, an unchanged tree keeps the one it has (TEST_GUEST_REFRESH=1 checks the archive anyway).
inputs_digest() {
  {
    sha256sum "${BASH_SOURCE[0]}" "$GUEST_SRC"/init "$GUEST_SRC"/udhcpc.script "$GUEST_SRC"/grub.cfg \
      "$GUEST_SRC"/boot.ipxe | awk '{ print $1 }'
    printf 'append=%s\n' "$APPEND"
  } | sha256sum | awk '{ print $1 }'
}

outputs_present() {
  local f
  for f in vmlinuz initrd.img guest.iso tftp/boot.ipxe tftp/vmlinuz tftp/initrd.img \
    tftp/boot/grub/grub.cfg tftp/boot/grub/i386-pc/core.0 tftp/boot/grub/x86_64-efi/core.efi; do
    [ -s "$OUTDIR/$f" ] || return 1
  done
}

# One newc cpio member without data (directory or device node): the kernel's initramfs unpacker
# accepts concatenated archives, so /dev/console exists at boot without mknod (and without root).
newc_entry() {
  local name="$1" mode="$2" rdev_major="$3" rdev_minor="$4" namesize
  namesize=$(( ${#name} + 1 ))
  # Fields: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check.
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
    0 "$mode" 0 0 1 0 0 0 0 "$rdev_major" "$rdev_minor" "$namesize" 0 "$name"
  # The 110-byte header plus the name is padded to a multiple of 4.
  local pad=$(( (4 - (110 + namesize) % 4) % 4 ))
  head -c "$pad" /dev/zero
}

device_nodes_cpio() {
  local S_IFDIR=$((0040000)) S_IFCHR=$((0020000))
  newc_entry dev $((S_IFDIR | 0755)) 0 0
  newc_entry dev/console $((S_IFCHR | 0600)) 5 1
  newc_entry dev/null $((S_IFCHR | 0666)) 1 3
  newc_entry 'TRAILER!!!' 0 0 0
}

# Module files for GUEST_MODULES and everything they depend on, as paths relative to the module dir.
module_closure() {
  local moddir="$1" name
  for name in "${GUEST_MODULES[@]}"; do
    awk -v want="/$name.ko" '
      { key = $1; sub(/:$/, "", key) }
      substr(key, length(key) - length(want) + 1) == want { print key; for (i = 2; i <= NF; i++) print $i; exit }
    ' "$moddir/modules.dep"
  done | sort -u
}

build_initramfs() {
  local kroot="$1" kver="$2" bbroot="$3" root="$WORK/initramfs" moddir applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,lib/modules/"$kver"}
  cp "$bbroot/bin/busybox" "$root/bin/busybox"
  # One symlink per applet at the path busybox itself reports (bin/sh, sbin/poweroff, ...).
  while read -r applet; do
    [ "$applet" = bin/busybox ] || [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done < <("$root/bin/busybox" --list-full)
  install -m 0755 "$GUEST_SRC/init" "$root/init"
  install -m 0755 "$GUEST_SRC/udhcpc.script" "$root/etc/udhcpc.script"

  moddir="$kroot/lib/modules/$kver"
  # Debian's package ships no modules.dep (its postinst runs depmod): make one with busybox's depmod.
  "$bbroot/bin/busybox" depmod -b "$kroot" "$kver"
  local rel count=0
  while read -r rel; do
    mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
    cp "$moddir/$rel" "$root/lib/modules/$kver/$rel"
    count=$((count + 1))
  done < <(module_closure "$moddir")
  [ "$count" -ge "${#GUEST_MODULES[@]}" ] || die "modules.dep lacks some of: ${GUEST_MODULES[*]}"
  cp "$moddir/modules.builtin" "$moddir/modules.order" "$root/lib/modules/$kver/"
  "$bbroot/bin/busybox" depmod -b "$root" "$kver"

  {
    device_nodes_cpio
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -n -9)
  } >"$WORK/initrd.img"
  say "initramfs: $count modules ($(module_closure "$moddir" | xargs -n1 basename | tr '\n' ' '))"
}

build_iso() {
  local isoroot="$WORK/iso"
  mkdir -p "$isoroot/boot/grub"
  cp "$WORK/vmlinuz" "$WORK/initrd.img" "$isoroot/boot/"
  sed "s|@APPEND@|$APPEND|" "$GUEST_SRC/grub.cfg" >"$isoroot/boot/grub/grub.cfg"
  # Without locales, fonts and themes the ISO stays small; grub only talks over the serial port.
  grub-mkrescue -o "$WORK/guest.iso" --locales= --fonts= --themes= "$isoroot" -- -volid BMCFLEET_GUEST \
    >"$WORK/grub-mkrescue.log" 2>&1 || { cat "$WORK/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
}

build_tftp_root() {
  local tftp="$WORK/tftp" platform
  mkdir -p "$tftp/boot/grub"
  cp "$WORK/vmlinuz" "$WORK/initrd.img" "$tftp/"
  cp "$WORK/vmlinuz" "$WORK/initrd.img" "$tftp/boot/"
  sed "s|@APPEND@|$APPEND|" "$GUEST_SRC/boot.ipxe" >"$tftp/boot.ipxe"
  for platform in i386-pc x86_64-efi; do
    grub-mknetdir --net-directory="$tftp" --subdir=boot/grub -d "/usr/lib/grub/$platform" \
      --locales= --fonts= --themes= >"$WORK/grub-mknetdir-$platform.log" 2>&1 \
      || { cat "$WORK/grub-mknetdir-$platform.log" >&2; die "grub-mknetdir $platform failed"; }
  done
  # grub-mknetdir's per-platform grub.cfg sources boot/grub/grub.cfg: the shared one.
  sed "s|@APPEND@|$APPEND|" "$GUEST_SRC/grub.cfg" >"$tftp/boot/grub/grub.cfg"
}

main() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script expects Debian"
  # Test runners may build at the same time: one builds, the others then find it up to date.
  exec 9>"$OUTDIR/.lock"
  flock 9
  ensure_host_packages
  case "$APPEND" in
    *'|'* | *'&'* | *\\*) die "TEST_GUEST_APPEND must not contain | & or \\" ;;
  esac

  local digest
  digest="$(inputs_digest)"
  if [ "${TEST_GUEST_REFRESH:-0}" != 1 ] && outputs_present \
    && [ "$(cat "$OUTDIR/.inputs" 2>/dev/null || true)" = "$digest" ]; then
    say "up to date in $OUTDIR ($(head -n1 "$OUTDIR/versions.txt"))"
    return
  fi

  WORK="$OUTDIR/.work"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  trap 'rm -rf "$WORK"' EXIT
  DEBS_DIR="$OUTDIR/debs"
  mkdir -p "$DEBS_DIR"
  resolve_packages
  fetch_packages

  local kpkg="${GUEST_PACKAGES[0]}" kdeb bbdeb kver
  kdeb="$DEBS_DIR/$(deb_file "$kpkg")"
  bbdeb="$DEBS_DIR/$(deb_file "$BUSYBOX_PACKAGE")"
  dpkg-deb -x "$kdeb" "$WORK/kernel"
  dpkg-deb -x "$bbdeb" "$WORK/busybox"
  kver="${kpkg#linux-image-}"
  [ -f "$WORK/kernel/boot/vmlinuz-$kver" ] || die "$kdeb has no boot/vmlinuz-$kver"
  cp "$WORK/kernel/boot/vmlinuz-$kver" "$WORK/vmlinuz"

  build_initramfs "$WORK/kernel" "$kver" "$WORK/busybox"
  build_iso
  build_tftp_root

  # Replace the previous outputs only once everything built.
  rm -rf "$OUTDIR/tftp"
  mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/guest.iso" "$OUTDIR/"
  mv "$WORK/tftp" "$OUTDIR/tftp"
  {
    printf 'kernel %s (%s)\n' "$kver" "$(deb_file "$kpkg")"
    printf 'busybox %s\n' "$(deb_file "$BUSYBOX_PACKAGE")"
    printf 'grub %s\n' "$(dpkg-query -W -f='${Version}' grub-common)"
    printf 'append %s\n' "$APPEND"
  } >"$OUTDIR/versions.txt"
  printf '%s\n' "$digest" >"$OUTDIR/.inputs"
  say "built in $OUTDIR ($((SECONDS - started_at)) s): $(cd "$OUTDIR" && du -h guest.iso initrd.img vmlinuz | awk '{ printf "%s %s  ", $2, $1 }')"
}

main "$@"

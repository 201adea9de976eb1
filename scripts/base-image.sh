#!/usr/bin/env bash
# Makes sure the node image's base (debian:bookworm-slim) is present in the local Docker engine.
# Present: nothing to do. Otherwise pull it; where no registry is reachable (these machines), build
# an equivalent locally: `debootstrap --variant=minbase bookworm` trimmed the way the official slim
# image is (no docs, man pages or locales; apt caches cleaned), then `docker import` under the
# same tag. The Dockerfile keeps an ordinary FROM, so elsewhere the real image is pulled as usual.
#
#   bash scripts/base-image.sh [IMAGE]                       # run as a step
#   source scripts/base-image.sh && ensure_base_image [IMAGE]    # or from another script
#
# Environment: BASE_IMAGE (default debian:bookworm-slim; only bookworm can be built locally),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), BASE_IMAGE_PULL=0 skips the pull attempt,
# BASE_IMAGE_PULL_TIMEOUT (s, default 30). Needs a Docker engine (scripts/docker-engine.sh).

_BASE_IMAGE_DEFAULT="debian:bookworm-slim"

_base_image_say() { printf 'base-image: %s\n' "$*"; }
_base_image_fail() { printf 'base-image: error: %s\n' "$*" >&2; return 1; }

_base_image_present() {
  docker image inspect "$1" >/dev/null 2>&1
}

_base_image_try_pull() {
  local image="$1" out
  [ "${BASE_IMAGE_PULL:-1}" = "1" ] || return 1
  # Bounded: without a registry the pull fails on DNS or hangs on a connect.
  if out="$(timeout "${BASE_IMAGE_PULL_TIMEOUT:-30}" docker pull -q "$image" 2>&1)"; then
    _base_image_say "pulled $image"
    return 0
  fi
  _base_image_say "cannot pull $image (${out##*$'\n'}); building it locally"
  return 1
}

# Trims a minbase root file system the way Docker's official Debian slim images are trimmed, and
# gives it the official image's APT sources (deb822, with updates and security).
_base_image_slim_rootfs() {
  local root="$1" mirror="$2"
  local security="${mirror%/debian}/debian-security"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As in Docker's official Debian slim images: no documentation, manuals or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  # What those rules would have kept out had they been there during debootstrap.
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/* "$root"/tmp/* "$root"/root/.bash_history
  # The engine provides these per container.
  : >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  : >"$root/etc/machine-id"
}

_base_image_build() {
  local image="$1" mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}" root status=0
  case "$image" in
    debian:bookworm|debian:bookworm-slim) ;;
    *) _base_image_fail "$image is missing and only debian:bookworm(-slim) can be built locally"; return 1 ;;
  esac
  [ "$(id -u)" -eq 0 ] || { _base_image_fail "debootstrap needs root"; return 1; }
  if ! command -v debootstrap >/dev/null 2>&1; then
    _base_image_say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
      { _base_image_fail "cannot install debootstrap"; return 1; }
  fi
  root="$(mktemp -d "${TMPDIR:-/tmp}/bmcfleet-rootfs.XXXXXX")"
  _base_image_say "debootstrap --variant=minbase bookworm from $mirror"
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1; then
    tail -n 20 "$root.log" >&2
    _base_image_fail "debootstrap failed (log: $root.log)"
    rm -rf "$root"
    return 1
  fi
  _base_image_slim_rootfs "$root" "$mirror"
  # Same default command as the official image.
  tar --numeric-owner -C "$root" -c . |
    docker import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm (bmcfleet scripts/base-image.sh)" - "$image" >/dev/null ||
    status=$?
  rm -rf "$root" "$root.log"
  [ "$status" -eq 0 ] || { _base_image_fail "docker import failed"; return 1; }
  _base_image_say "built $image locally ($(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

ensure_base_image() {
  local image="${1:-${BASE_IMAGE:-$_BASE_IMAGE_DEFAULT}}"
  if _base_image_present "$image"; then
    _base_image_say "$image present"
    return 0
  fi
  _base_image_try_pull "$image" && return 0
  _base_image_build "$image"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_base_image "$@"
fi

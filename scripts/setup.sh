#!/usr/bin/env bash
# Prepares a Debian bookworm machine (run as root, no stdin, no systemd) to build, run and test
# bmcfleet. Idempotent: each step checks first and only does what is missing.
#
#   bash scripts/setup.sh
#
# Environment: SETUP_SKIP_APT=1 skips the Debian packages (machines prepared some other way).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# Node >= 20.19: the first Node 20 with require(esm) unflagged, which NestJS 12 (ESM-only) needs.
readonly NODE_MIN_MAJOR=20
readonly NODE_MIN_MINOR=19

# Real IPMI clients and peers for the integration tests and benchmarks:
#   ipmitool, freeipmi-tools (ipmipower, ipmiconsole, bmc-info), python3-pyghmi (Ironic's library),
#   openipmi (ipmi_sim, a reference BMC for benchmarks), tcpdump (captures), python3-cryptography (pyghmi);
# a C++ tool chain and python3 for node-gyp: better-sqlite3 (the orchestrator's SQLite driver) compiles
# its native module during npm ci when no prebuilt binary can be fetched.
readonly DEBIAN_PACKAGES=(ipmitool freeipmi-tools openipmi python3-pyghmi python3-sushy python3-sushy-cli redfishtool tcpdump python3-cryptography g++ make python3)

started_at=$SECONDS

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

ensure_debian_packages() {
  if [ "${SETUP_SKIP_APT:-0}" = "1" ]; then
    say "SETUP_SKIP_APT=1: not checking Debian packages"
    return
  fi
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian bookworm"
  local missing=() pkg
  for pkg in "$@"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    say "Debian packages present: $*"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root to install them"
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_node() {
  command -v node >/dev/null 2>&1 || die "node not found; install Node.js >= ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}"
  command -v npm >/dev/null 2>&1 || die "npm not found"
  local version major minor
  version="$(node -p 'process.versions.node')"
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  if [ "$major" -lt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -lt "$NODE_MIN_MINOR" ]; }; then
    die "Node.js ${version} is too old; need >= ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}"
  fi
  say "node ${version}, npm $(npm --version 2>/dev/null)"
}

# Docker engine (dockerd without systemd: installed and started when missing), the node image
# bmcfleet/node:latest (on a debian:bookworm-slim base built locally where no registry answers) and the
# test guest the end-to-end tests boot. Each script checks first: a present engine, an unchanged image
# (Docker's layer cache) and an up-to-date guest cost a few seconds and one line each.
# shellcheck source=scripts/docker-engine.sh
source "$REPO_ROOT/scripts/docker-engine.sh"
# shellcheck source=scripts/build-image.sh
source "$REPO_ROOT/scripts/build-image.sh"

ensure_node_image() {
  build_node_image
}

ensure_test_guest() {
  bash "$REPO_ROOT/scripts/build-test-guest.sh"
}

# QEMU, OVMF and SeaBIOS for MACHINE=qemu: the agent runs QEMU on the host in its tests (TCG).
readonly QEMU_PACKAGES=(qemu-system-x86 qemu-utils ovmf seabios ipxe-qemu qemu-block-extra)
ensure_qemu() {
  ensure_debian_packages "${QEMU_PACKAGES[@]}"
}

# The lock files that decide node_modules; their digest is stored after a successful install.
lock_digest() {
  cat package.json package-lock.json node-image/package.json 2>/dev/null | sha256sum | cut -d' ' -f1
}

readonly INSTALL_STAMP="node_modules/.bmcfleet-install-stamp"

ensure_node_modules() {
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  if [ ! -f package-lock.json ]; then
    say "no package-lock.json: npm install"
    npm install --no-audit --no-fund
  elif [ -f "$INSTALL_STAMP" ] && [ "$(cat "$INSTALL_STAMP")" = "$(lock_digest)" ]; then
    say "node_modules matches package-lock.json"
    return
  else
    say "npm ci"
    npm ci --no-audit --no-fund
  fi
  lock_digest >"$INSTALL_STAMP"
}

build() {
  say "building agent and orchestrator (npm run build)"
  npm run --silent build
}

ensure_debian_packages "${DEBIAN_PACKAGES[@]}"
ensure_node
ensure_docker_engine
ensure_qemu
ensure_node_modules
build
ensure_node_image
ensure_test_guest
say "done in $((SECONDS - started_at)) s"

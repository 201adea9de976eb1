#!/usr/bin/env bash
# Prepares a Debian bookworm machine (run as root, no stdin, no systemd) to build, run and test
# bmcfleet, starting from nothing: no Node.js is needed to run it. Idempotent: each step checks
# first and only does what is missing.
#
#   bash scripts/setup.sh            # every step, in order
#   bash scripts/setup.sh STEP...    # only these: packages node docker qemu modules build node-image test-guest
#
# Environment: SETUP_SKIP_APT=1 skips the Debian packages (machines prepared some other way);
# SETUP_SKIP_NODE=1 never installs Node.js (an older one is refused instead); SETUP_NODE_PREFIX
# (default /usr/local) is where the declared Node.js goes.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# node_pin, node_version_lt, install_node_dist: the Node.js that node-version.env declares.
# shellcheck source=scripts/install-node.sh
source "$REPO_ROOT/scripts/install-node.sh"

# Real IPMI clients and peers for the integration tests and benchmarks:
#   ipmitool, freeipmi-tools (ipmipower, ipmiconsole, bmc-info), python3-pyghmi (Ironic's library),
#   openipmi (ipmi_sim, a reference BMC for benchmarks), tcpdump (captures), python3-cryptography (pyghmi);
#   python3-sushy, python3-sushy-cli and redfishtool (Redfish clients: Ironic's library, its CLI, DMTF's tool);
#   chromium and firefox-esr (the web UI's browser tests drive both with puppeteer-core: chromium over the
#   DevTools Protocol, firefox-esr over WebDriver BiDi; their own browser downloads are unreachable);
# curl and CA certificates to fetch Node.js from the npm registry (NODE_FETCH_PACKAGES);
# a C++ tool chain and python3 for node-gyp (BUILD_PACKAGES), which builds native modules that come
# without a binary for this node (better-sqlite3 13, the orchestrator's SQLite driver, brings its own).
readonly NODE_FETCH_PACKAGES=(curl ca-certificates)
readonly BUILD_PACKAGES=(g++ make python3)
readonly DEBIAN_PACKAGES=(ipmitool freeipmi-tools openipmi python3-pyghmi python3-sushy python3-sushy-cli redfishtool tcpdump python3-cryptography chromium firefox-esr
  "${NODE_FETCH_PACKAGES[@]}" "${BUILD_PACKAGES[@]}")

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

# The node on PATH: "VERSION PATH", or nothing when there is none (or it does not run).
node_on_path() {
  local path version
  hash -r
  path="$(command -v node 2>/dev/null)" || return 0
  version="$(node -p 'process.versions.node' 2>/dev/null)" || return 0
  printf '%s %s\n' "$version" "$path"
}

# Node.js as node-version.env declares it (the images run the same one): a node on PATH at that
# version or newer is kept; a missing or older one is replaced by the declared node and npm, installed
# under SETUP_NODE_PREFIX (default /usr/local: bin/node, bin/npm, bin/npx, include/node,
# lib/node_modules/npm) straight from the npm registry, verified by integrity (scripts/install-node.sh).
# An older node elsewhere (Debian's nodejs 18 in /usr/bin) is left installed, but no longer the one
# PATH finds. Where the declared node cannot be installed, the set-up stops and says what to do.
ensure_node() {
  local want found version path prefix="${SETUP_NODE_PREFIX:-/usr/local}"
  want="$(node_pin NODE_VERSION)"
  found="$(node_on_path)"
  version="${found%% *}"
  path="${found#* }"
  if [ -n "$found" ] && ! node_version_lt "$version" "$want"; then
    command -v npm >/dev/null 2>&1 || die "npm not found next to node ${version} (${path}); install npm, or remove that node and run the set-up again"
    say "node ${version} (${path}), npm $(npm --version 2>/dev/null); node-version.env declares ${want}"
    return
  fi
  if [ -n "$found" ]; then
    say "node ${version} (${path}) is older than ${want} (node-version.env): installing node ${want} in ${prefix}"
  else
    say "no node on PATH: installing node ${want} in ${prefix}"
  fi
  local todo="install Node.js >= ${want} yourself (first on PATH), or run the set-up as root without SETUP_SKIP_NODE"
  [ "${SETUP_SKIP_NODE:-0}" != "1" ] || die "SETUP_SKIP_NODE=1 and no suitable node: ${todo}"
  [ "$(id -u)" -eq 0 ] || [ -w "$prefix" ] || die "cannot write ${prefix} as $(id -un): ${todo}"
  if ! command -v curl >/dev/null 2>&1; then
    [ "${SETUP_SKIP_APT:-0}" != "1" ] || die "curl is needed to fetch Node.js, and SETUP_SKIP_APT=1: install curl and ca-certificates"
    ensure_debian_packages "${NODE_FETCH_PACKAGES[@]}"
  fi
  install_node_dist "$prefix"
  found="$(node_on_path)"
  [ "${found#* }" = "$prefix/bin/node" ] \
    || die "installed ${prefix}/bin/node, but PATH finds ${found#* } first: put ${prefix}/bin before it in PATH"
  say "node ${found%% *} (${prefix}/bin/node), npm $(npm --version)"
}

# node-gyp builds native modules against the headers of the node that runs npm,
# never those another configuration names (an npmrc's nodedir, or the npm_config_nodedir of an outer
# `npm test` started by an older node): the module's ABI must be the running node's. node-gyp takes
# npm_package_config_node_gyp_nodedir over npm_config_nodedir, and npm 11 warns about the latter.
use_node_headers() {
  local dir
  command -v node >/dev/null 2>&1 || die "node not found: run the set-up's node step first"
  dir="$(node -p 'require("path").resolve(process.execPath, "..", "..")')"
  unset npm_config_nodedir npm_config_node_gyp
  if [ -f "$dir/include/node/node_version.h" ]; then
    export npm_package_config_node_gyp_nodedir="$dir"
  else
    unset npm_package_config_node_gyp_nodedir
  fi
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

# What decides node_modules: the lock files, and the node that installed them (its version and ABI:
# a native module built by node-gyp only loads in the node it was built for, and install scripts may
# pick binaries by node version, so a new node means a new npm ci). The digest is stored after a successful install.
lock_digest() {
  {
    cat package.json package-lock.json node-image/package.json 2>/dev/null
    node -p '`node ${process.versions.node} abi ${process.versions.modules} ${process.platform}-${process.arch}`'
  } | sha256sum | cut -d' ' -f1
}

readonly INSTALL_STAMP="node_modules/.bmcfleet-install-stamp"

ensure_node_modules() {
  ensure_debian_packages "${BUILD_PACKAGES[@]}"
  use_node_headers
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  if [ ! -f package-lock.json ]; then
    say "no package-lock.json: npm install"
    npm install --no-audit --no-fund
  elif [ -f "$INSTALL_STAMP" ] && [ "$(cat "$INSTALL_STAMP")" = "$(lock_digest)" ]; then
    say "node_modules matches package-lock.json and node $(node --version)"
    return
  else
    say "npm ci (node $(node --version))"
    npm ci --no-audit --no-fund
  fi
  lock_digest >"$INSTALL_STAMP"
}

build() {
  say "building agent and orchestrator (npm run build)"
  npm run --silent build
}

# Steps by name, in the order a full set-up runs them.
readonly STEPS=(packages node docker qemu modules build node-image test-guest)
run_step() {
  case "$1" in
    packages) ensure_debian_packages "${DEBIAN_PACKAGES[@]}" ;;
    node) ensure_node ;;
    docker) ensure_docker_engine ;;
    qemu) ensure_qemu ;;
    modules) ensure_node_modules ;;
    build) build ;;
    node-image) ensure_node_image ;;
    test-guest) ensure_test_guest ;;
  esac
}

if [ "$#" -eq 0 ]; then
  set -- "${STEPS[@]}"
fi
for step in "$@"; do
  [[ " ${STEPS[*]} " == *" $step "* ]] || die "unknown step '$step'; steps: ${STEPS[*]}"
done
for step in "$@"; do
  run_step "$step"
done
say "done in $((SECONDS - started_at)) s"

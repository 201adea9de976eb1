#!/usr/bin/env bash
# Builds the node image (node-image/Dockerfile) as bmcfleet/node:latest: makes sure a Docker engine
# answers (scripts/docker-engine.sh) and the base image is present (scripts/base-image.sh), then
# `docker build` from the repository root. Docker's layer cache makes a repeated build take seconds;
# the build's output is shown only when it fails (or with BUILD_IMAGE_VERBOSE=1).
#
#   npm run build:image                                     # = bash scripts/build-image.sh
#   source scripts/build-image.sh && build_node_image       # or from another script (setup.sh)
#
# Environment: IMAGE_TAG (default bmcfleet/node:latest), BASE_IMAGE (default debian:bookworm-slim),
# BUILD_IMAGE_VERBOSE=1 streams the build, BUILD_CA_CERTS (see below), plus those of
# docker-engine.sh and base-image.sh.

_BUILD_IMAGE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/docker-engine.sh
source "$_BUILD_IMAGE_SCRIPTS/docker-engine.sh"
# shellcheck source=scripts/base-image.sh
source "$_BUILD_IMAGE_SCRIPTS/base-image.sh"

# PEM text of the CA certificates the build's download stages must trust besides Debian's: those
# in BUILD_CA_CERTS (files, space-separated; "none" for none), by default the host's locally added
# CAs (/usr/local/share/ca-certificates/*.crt), which is where a TLS-inspecting proxy's CA lives.
_build_image_extra_cas() {
  local spec="${BUILD_CA_CERTS:-/usr/local/share/ca-certificates/*.crt}" f
  [ "$spec" = "none" ] && return 0
  for f in $spec; do
    [ -f "$f" ] && grep -q 'BEGIN CERTIFICATE' "$f" && cat "$f"
  done
  return 0
}

_build_image_say() { printf '%s: %s\n' "${_BUILD_IMAGE_WHO:-build-image}" "$*"; }
_build_image_fail() { printf '%s: error: %s\n' "${_BUILD_IMAGE_WHO:-build-image}" "$*" >&2; return 1; }

# Builds one of the project's images from the repository root:
#   build_project_image WHO DOCKERFILE TAG
# WHO prefixes the messages; DOCKERFILE is relative to the repository root.
build_project_image() {
  local _BUILD_IMAGE_WHO="$1" dockerfile="$2" tag="$3" base="${BASE_IMAGE:-debian:bookworm-slim}"
  local root="$_BUILD_IMAGE_SCRIPTS/.." started=$SECONDS log status=0 id size cas
  ensure_docker_engine || return 1
  ensure_base_image "$base" || return 1
  # --force-rm: the classic builder otherwise keeps the container of a failed step.
  local args=(build --force-rm -f "$root/$dockerfile" -t "$tag" --build-arg "BASE_IMAGE=$base")
  cas="$(_build_image_extra_cas)"
  [ -z "$cas" ] || args+=(--build-arg "EXTRA_CA_CERTS=$cas")
  args+=("$root")
  if [ "${BUILD_IMAGE_VERBOSE:-0}" = "1" ]; then
    docker "${args[@]}" || { _build_image_fail "docker build failed"; return 1; }
  else
    log="$(mktemp "${TMPDIR:-/tmp}/bmcfleet-$_BUILD_IMAGE_WHO.XXXXXX")"
    docker "${args[@]}" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
      tail -n 60 "$log" >&2
      _build_image_fail "docker build failed (exit $status; full log: $log)"
      return 1
    fi
    rm -f "$log"
  fi
  id="$(docker image inspect -f '{{.Id}}' "$tag")"
  id="${id#sha256:}"
  size="$(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%d MB", $1 / 1e6 }')"
  _build_image_say "$tag ${id:0:12} ($size) in $((SECONDS - started)) s"
}

build_node_image() {
  build_project_image build-image node-image/Dockerfile "${IMAGE_TAG:-bmcfleet/node:latest}"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  build_node_image
fi

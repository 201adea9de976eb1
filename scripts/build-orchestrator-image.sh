#!/usr/bin/env bash
# Builds the orchestrator image (Dockerfile.orchestrator) as bmcfleet/orchestrator:latest, the way
# scripts/build-image.sh builds the node image: makes sure a Docker engine answers and the base image
# is present, passes the host's local CAs for the build's downloads, then `docker build` from the
# repository root. Docker's layer cache makes a repeated build take seconds; the build's output is
# shown only when it fails (or with BUILD_IMAGE_VERBOSE=1).
#
#   bash scripts/build-orchestrator-image.sh
#   source scripts/build-orchestrator-image.sh && build_orchestrator_image    # from another script
#
# Environment: ORCHESTRATOR_IMAGE_TAG (default bmcfleet/orchestrator:latest), and those of
# build-image.sh (BASE_IMAGE, BUILD_IMAGE_VERBOSE, BUILD_CA_CERTS), docker-engine.sh and base-image.sh.

_BUILD_ORCHESTRATOR_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Engine, base image and the CA helper (_build_image_extra_cas) are the node image's.
# shellcheck source=scripts/build-image.sh
source "$_BUILD_ORCHESTRATOR_SCRIPTS/build-image.sh"

_build_orchestrator_say() { printf 'build-orchestrator-image: %s\n' "$*"; }
_build_orchestrator_fail() { printf 'build-orchestrator-image: error: %s\n' "$*" >&2; return 1; }

build_orchestrator_image() {
  local tag="${ORCHESTRATOR_IMAGE_TAG:-bmcfleet/orchestrator:latest}" base="${BASE_IMAGE:-debian:bookworm-slim}"
  local root="$_BUILD_ORCHESTRATOR_SCRIPTS/.." started=$SECONDS log status=0 id size cas
  ensure_docker_engine || return 1
  ensure_base_image "$base" || return 1
  # --force-rm: the classic builder otherwise keeps the container of a failed step.
  local args=(build --force-rm -f "$root/Dockerfile.orchestrator" -t "$tag" --build-arg "BASE_IMAGE=$base")
  cas="$(_build_image_extra_cas)"
  [ -z "$cas" ] || args+=(--build-arg "EXTRA_CA_CERTS=$cas")
  args+=("$root")
  if [ "${BUILD_IMAGE_VERBOSE:-0}" = "1" ]; then
    docker "${args[@]}" || { _build_orchestrator_fail "docker build failed"; return 1; }
  else
    log="$(mktemp "${TMPDIR:-/tmp}/bmcfleet-build-orchestrator.XXXXXX")"
    docker "${args[@]}" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
      tail -n 60 "$log" >&2
      _build_orchestrator_fail "docker build failed (exit $status; full log: $log)"
      return 1
    fi
    rm -f "$log"
  fi
  id="$(docker image inspect -f '{{.Id}}' "$tag")"
  id="${id#sha256:}"
  size="$(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%d MB", $1 / 1e6 }')"
  _build_orchestrator_say "$tag ${id:0:12} ($size) in $((SECONDS - started)) s"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  build_orchestrator_image
fi

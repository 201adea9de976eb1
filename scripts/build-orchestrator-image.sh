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
# Engine, base image, CA certificates and the build itself (build_project_image) are shared.
# shellcheck source=scripts/build-image.sh
source "$_BUILD_ORCHESTRATOR_SCRIPTS/build-image.sh"

build_orchestrator_image() {
  build_project_image build-orchestrator-image Dockerfile.orchestrator "${ORCHESTRATOR_IMAGE_TAG:-bmcfleet/orchestrator:latest}"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  build_orchestrator_image
fi

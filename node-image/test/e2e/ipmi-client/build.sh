#!/usr/bin/env bash
# Builds the test IPMI client image (Dockerfile beside this script) as bmcfleet/test-ipmi-client:latest.
# Docker's layer cache makes a repeated build take about a second; the farm lab-network end-to-end
# test runs this in its set-up. The base image must be present (scripts/setup.sh, scripts/base-image.sh).
#
#   bash node-image/test/e2e/ipmi-client/build.sh
#
# Environment: IPMI_CLIENT_IMAGE_TAG (default bmcfleet/test-ipmi-client:latest), BASE_IMAGE (default debian:bookworm-slim).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag="${IPMI_CLIENT_IMAGE_TAG:-bmcfleet/test-ipmi-client:latest}"
base="${BASE_IMAGE:-debian:bookworm-slim}"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "ipmi-client: the base image $base is missing: run scripts/setup.sh (or scripts/base-image.sh)" >&2
  exit 1
fi
log="$(mktemp "${TMPDIR:-/tmp}/bmcfleet-test-ipmi-client-build.XXXXXX")"
trap 'rm -f "$log"' EXIT
# --pull=false is the classic builder's default; --force-rm drops the container of a failed step.
if ! docker build --force-rm --build-arg "BASE_IMAGE=$base" -t "$tag" "$here" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "ipmi-client: docker build of $tag failed" >&2
  exit 1
fi
echo "ipmi-client: $tag $(docker image inspect -f '{{.Id}}' "$tag" | cut -c8-19)"

#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine (Debian bookworm, root, no systemd):
#   - `docker info` answers: nothing to do (one line of output);
#   - no dockerd binary: install Debian's docker.io (dockerd, containerd, runc);
#   - dockerd not running: start it in the background, detached, logging to /var/log/dockerd.log;
#   - then wait, bounded, until `docker info` answers.
#
#   bash scripts/docker-engine.sh                 # run as a step
#   source scripts/docker-engine.sh && ensure_docker_engine   # or call it from another script
#
# Environment: DOCKER_START_TIMEOUT (s, default 60), DOCKERD_LOG (default /var/log/dockerd.log).

# Prefixed output so it reads well inside setup.sh's log too.
_docker_engine_say() { printf 'docker-engine: %s\n' "$*"; }
_docker_engine_fail() { printf 'docker-engine: error: %s\n' "$*" >&2; return 1; }

_docker_engine_answers() {
  docker info >/dev/null 2>&1
}

_docker_engine_install() {
  [ "$(id -u)" -eq 0 ] || { _docker_engine_fail "dockerd is not installed; run as root to install docker.io"; return 1; }
  command -v apt-get >/dev/null 2>&1 || { _docker_engine_fail "dockerd is not installed and apt-get is missing (this script expects Debian)"; return 1; }
  _docker_engine_say "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No recommends: they add git, apparmor and needrestart, none of which the engine needs here.
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

_docker_engine_start() {
  local log="${DOCKERD_LOG:-/var/log/dockerd.log}"
  [ "$(id -u)" -eq 0 ] || { _docker_engine_fail "no Docker engine answers and only root can start dockerd"; return 1; }
  _docker_engine_say "starting dockerd (log: $log)"
  # setsid + no stdin: the daemon outlives this script and the shell that ran it. dockerd starts
  # its own containerd when none is listening on /run/containerd/containerd.sock.
  setsid dockerd </dev/null >>"$log" 2>&1 &
}

# Waits until `docker info` answers; on timeout shows the end of dockerd's log.
_docker_engine_wait() {
  local timeout="${DOCKER_START_TIMEOUT:-60}" log="${DOCKERD_LOG:-/var/log/dockerd.log}"
  local deadline=$((SECONDS + timeout))
  while ! _docker_engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      _docker_engine_fail "Docker engine did not answer within ${timeout} s"
      [ -f "$log" ] && tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
}

ensure_docker_engine() {
  if _docker_engine_answers; then
    _docker_engine_say "engine answers ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null || echo 'version unknown'))"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
    _docker_engine_fail "DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local engine for it"
    return 1
  fi
  command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 || _docker_engine_install || return 1
  # A daemon that is still starting (or another script just started it) only needs the wait.
  # pidof (sysvinit-utils) is Essential in Debian; pgrep (procps) may be absent on minimal machines.
  if ! pidof dockerd >/dev/null 2>&1; then
    _docker_engine_start || return 1
  fi
  _docker_engine_wait || return 1
  _docker_engine_say "engine answers ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null || echo 'version unknown'))"
}

# Run directly: do it. Sourced: only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_docker_engine
fi

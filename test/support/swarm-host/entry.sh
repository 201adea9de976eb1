#!/bin/sh
# /sys and the cgroup hierarchies arrive read-only in an unprivileged container; the inner engine
# writes to both (network namespaces, its containers' cgroups).
set -e
mount -o remount,rw /sys
for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
exec dockerd --host unix:///run/docker.sock "$@"

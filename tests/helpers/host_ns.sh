#!/bin/bash
# Runs a command with a fake host (tests/helpers/fake_host.ts) shown at the real paths, in
# a private mount namespace, so that a program without MDEVCTL_ENV_ROOT (Debian's 1.2.0)
# and ours see the very same tree at the very same paths. Used by the compatibility suite
# (tests/compat/ns.sh) and the benchmarks (bench/).
#
#   bash tests/helpers/host_ns.sh HOST_ROOT COMMAND [ARGS...]      (as root)
#
# Re-executes itself under `unshare -m` (also when already in a namespace of its own: one
# more level costs nothing). Inside:
#   HOST_ROOT/sys             -> /sys              (rbind; when the fake tree has
#                                                   sys/fs/cgroup or sys/devices/system/cpu,
#                                                   the real ones are bound there first, so
#                                                   runtimes that size thread pools see the truth)
#   HOST_ROOT/etc/mdevctl.d   -> /etc/mdevctl.d
#   HOST_ROOT/usr/lib/mdevctl -> /usr/lib/mdevctl
#   HOST_ROOT/run/lock        -> /run/lock         (or an empty tmpfs when the host has none:
#                                                   the lock file stays off the real host)
# A missing mount point is made by an overlay over its parent whose upper layer lives on a
# tmpfs at HOST_ROOT/.ns: nothing is created on the real host, and everything vanishes with
# the namespace. Exit status 90: the namespace could not be set up.
set -euo pipefail
fail() {
  echo "host_ns.sh: $*" >&2
  exit 90
}

[ $# -ge 2 ] || { echo "usage: bash tests/helpers/host_ns.sh HOST_ROOT COMMAND [ARGS...]" >&2; exit 2; }

if [ "${HOST_NS_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || fail "needs root (unshare -m and mount)"
  export HOST_NS_INSIDE=1
  exec unshare --mount --propagation private -- bash "$0" "$@"
fi
unset HOST_NS_INSIDE

root=$(realpath -e "$1") || fail "no host at $1"
shift
[ -d "$root/sys/bus/mdev/devices" ] || fail "$root is not a fake host"

mount --make-rprivate / || fail "mount --make-rprivate / failed"
mkdir -p "$root/.ns"
mount -t tmpfs -o size=16m,mode=0700 host-ns "$root/.ns" || fail "tmpfs on $root/.ns failed"

# ensure_dir DIR: make DIR exist inside this namespace only.
ensure_dir() {
  local dir=$1 parent key
  [ -d "$dir" ] && return 0
  parent=$(dirname "$dir")
  ensure_dir "$parent"
  [ -d "$dir" ] && return 0
  key=$(echo "$parent" | tr / _)
  mkdir -p "$root/.ns/up$key" "$root/.ns/work$key"
  mount -t overlay host-ns-ovl \
    -o "lowerdir=$parent,upperdir=$root/.ns/up$key,workdir=$root/.ns/work$key" "$parent" ||
    fail "overlay on $parent failed"
  mkdir "$dir"
}

for d in fs/cgroup devices/system/cpu; do
  if [ -d "/sys/$d" ] && [ -d "$root/sys/$d" ]; then
    mount --rbind "/sys/$d" "$root/sys/$d" || fail "bind of /sys/$d failed"
  fi
done
mount --rbind "$root/sys" /sys || fail "bind on /sys failed"

for d in etc/mdevctl.d usr/lib/mdevctl; do
  [ -d "$root/$d" ] || fail "$root has no $d"
  ensure_dir "/$d"
  mount --bind "$root/$d" "/$d" || fail "bind on /$d failed"
done
ensure_dir /run/lock
if [ -d "$root/run/lock" ]; then
  mount --bind "$root/run/lock" /run/lock || fail "bind on /run/lock failed"
else
  mount -t tmpfs -o size=1m,mode=1777 host-ns-lock /run/lock || fail "tmpfs on /run/lock failed"
fi

exec "$@"

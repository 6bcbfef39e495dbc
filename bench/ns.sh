#!/bin/bash
# Run a command with a fake host (made by bench/gen_host.ts) mounted over the real paths,
# inside a private mount namespace, so that tools without MDEVCTL_ENV_ROOT support
# (Debian's mdevctl 1.2.0) and ours see the very same tree at the very same paths.
#
#   bash bench/ns.sh HOST_ROOT COMMAND [ARGS...]
#
# Re-executes itself under `unshare -m` (needs root). Inside the namespace:
#   HOST_ROOT/sys             -> /sys              (rbind; the real /sys/fs/cgroup and
#                                                   /sys/devices/system/cpu are bound into
#                                                   the fake tree first, so runtimes that
#                                                   size thread pools from them see the truth)
#   HOST_ROOT/etc/mdevctl.d   -> /etc/mdevctl.d
#   HOST_ROOT/usr/lib/mdevctl -> /usr/lib/mdevctl
#   an empty tmpfs             -> /run/lock        (where our tool keeps its lock file)
# A missing mount point (/usr/lib/mdevctl on hosts without it) is made by mounting an
# overlay over its parent directory whose upper layer lives on a tmpfs at HOST_ROOT/.ns:
# nothing is created on the host, and everything vanishes with the namespace.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: bash bench/ns.sh HOST_ROOT COMMAND [ARGS...]" >&2
  exit 2
fi

if [ "${BENCH_IN_NS:-}" != 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench/ns.sh: needs root (unshare -m and mount)" >&2
    exit 1
  fi
  export BENCH_IN_NS=1
  exec unshare --mount --propagation private -- bash "$0" "$@"
fi
unset BENCH_IN_NS

root=$(realpath -e "$1")
shift
[ -d "$root/sys/bus/mdev/devices" ] || { echo "bench/ns.sh: $root is not a fake host" >&2; exit 1; }

mount --make-rprivate /
mount -t tmpfs -o size=16m,mode=0700 bench-ns "$root/.ns"

# ensure_dir DIR: make DIR exist inside this namespace only.
ensure_dir() {
  local dir=$1 parent
  [ -d "$dir" ] && return 0
  parent=$(dirname "$dir")
  ensure_dir "$parent"
  [ -d "$dir" ] && return 0
  local key
  key=$(echo "$parent" | tr / _)
  mkdir -p "$root/.ns/up$key" "$root/.ns/work$key"
  mount -t overlay bench-ovl \
    -o "lowerdir=$parent,upperdir=$root/.ns/up$key,workdir=$root/.ns/work$key" "$parent"
  mkdir "$dir"
}

for d in fs/cgroup devices/system/cpu; do
  if [ -d "/sys/$d" ] && [ -d "$root/sys/$d" ]; then
    mount --rbind "/sys/$d" "$root/sys/$d"
  fi
done
mount --rbind "$root/sys" /sys

ensure_dir /etc/mdevctl.d
mount --bind "$root/etc/mdevctl.d" /etc/mdevctl.d
ensure_dir /usr/lib/mdevctl
mount --bind "$root/usr/lib/mdevctl" /usr/lib/mdevctl
# Our tool takes its lock at /run/lock/mdevctl.lock: a private, empty /run/lock keeps it off
# the host and away from mdevctl runs of other jobs on the machine.
ensure_dir /run/lock
mount -t tmpfs -o size=1m,mode=1777 bench-lock /run/lock

exec "$@"

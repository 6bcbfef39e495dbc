#!/bin/bash
# tests/package/overlay_root.sh - runs a command as root in a chroot of this
# machine's root file system made writable by a tmpfs overlay, in private
# mount and PID namespaces: whatever dpkg and apt do there vanishes with it.
# As in a chroot or container being set up, nothing runs there: no systemd,
# no udevd (a fresh, empty /run), an empty /tmp, no /sys.
#
# Usage: bash tests/package/overlay_root.sh [--no-proc] [--keep DIR]... [--] COMMAND [ARG...]
#   --no-proc   no /proc either (a debootstrap chroot before it is mounted)
#   --keep DIR  DIR is there, read-only, at the same path, even under /tmp or
#               /run (a checkout in /tmp: the chroot's /tmp is empty)
# COMMAND is looked up in the chroot's PATH and runs with a clean environment.
set -euo pipefail
proc=1
keep=${OVERLAY_ROOT_KEEP:-}
while [ $# -gt 0 ]; do
  case $1 in
  --no-proc) proc=0 ;;
  --keep) keep+="${keep:+:}$(cd "$2" && pwd)"; shift ;;
  --) shift; break ;;
  *) break ;;
  esac
  shift
done
[ $# -gt 0 ] || { echo "overlay_root.sh: no command" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "overlay_root.sh: needs root" >&2; exit 77; }

if [ -z "${OVERLAY_ROOT_INNER:-}" ]; then
  export OVERLAY_ROOT_INNER=1 OVERLAY_ROOT_PROC=$proc OVERLAY_ROOT_KEEP=$keep
  exec unshare --mount --pid --fork --propagation private -- bash "$0" -- "$@"
fi

# The mount point is made on the host's /tmp and removed again by the last
# step; everything mounted on it exists only in this namespace.
base=$(mktemp -d /tmp/overlay-root.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "$base"
mkdir "$base/merged" "$base/upper" "$base/work"
m=$base/merged
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$m"
mount --bind /dev "$m/dev"
[ "$OVERLAY_ROOT_PROC" = 1 ] && mount -t proc proc "$m/proc"
mount -t tmpfs -o mode=0755 tmpfs "$m/run"
mkdir -p "$m/run/lock"
mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
IFS=: read -r -a kept <<< "$keep"
for dir in "${kept[@]}"; do
  mkdir -p "$m$dir"
  mount --bind "$dir" "$m$dir"
  mount -o remount,bind,ro "$m$dir"
done
set +e
chroot "$m" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
rc=$?
umount -R "$m" 2>/dev/null
umount "$base" 2>/dev/null
rmdir "$base" 2>/dev/null
exit $rc

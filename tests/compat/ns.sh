#!/bin/bash
# Runs inside `unshare -m --propagation private` (a private mount namespace):
# bind-mounts the fake host H over /sys, /etc/mdevctl.d, /usr/lib/mdevctl and
# /run/lock, then runs the generated command list H/cmds.sh.  Nothing is mounted or
# created outside the namespace; directories missing on the real host are
# provided by an overlay of their parent whose upper layer lives in H.
# Exit status 90 means the namespace could not be set up.
set -u
H=$1
fail() { echo "ns.sh: $*" >&2; exit 90; }

mount --make-rprivate / || fail "mount --make-rprivate / failed"

# place SRC DEST: make DEST show SRC
place() {
  local src=$1 dest=$2
  if [ ! -d "$dest" ]; then
    local parent name ovl
    parent=$(dirname "$dest"); name=$(basename "$dest")
    [ -d "$parent" ] || fail "$parent does not exist"
    ovl="$H/.ovl/$name"
    mkdir -p "$ovl/upper/$name" "$ovl/work" || fail "mkdir $ovl"
    mount -t overlay overlay -o "lowerdir=$parent,upperdir=$ovl/upper,workdir=$ovl/work" "$parent" ||
      fail "overlay on $parent failed"
  fi
  mount --bind "$src" "$dest" || fail "bind $src on $dest failed"
}

mount --bind "$H/sys" /sys || fail "bind on /sys failed"
place "$H/etc/mdevctl.d" /etc/mdevctl.d
place "$H/usr/lib/mdevctl" /usr/lib/mdevctl
# ours keeps its lock file in /run/lock (spec §0.5): give each run its own
place "$H/run/lock" /run/lock

cd "$H/cwd" || fail "no cwd"
umask 022
# shellcheck disable=SC1091
source "$H/cmds.sh"
exit 0

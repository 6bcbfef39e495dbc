#!/bin/sh
# The mdevctl launcher: the one way every installed entry (mdevctl, lsmdev,
# the udev rule, the systemd units) runs the program, with Deno permissions
# scoped to what it reads, writes and runs; never --allow-all for root
# (docs/sandbox.md). tools/gen_sandbox.ts writes it for `make` (dist/mdevctl)
# and `make install`: this file, with the configuration block below filled in
# from tools/sandbox_paths.ts, where every path and variable is declared.
#
# The configuration:
#   form      bundle: $deno runs $bundle with $flags and the permissions
#             made here; compiled: $binary, its permissions baked in
#   view, devview  the empty directories /sys and /dev are bound at (Deno
#             refuses every path under /sys, and device files under /dev,
#             unless it has every permission, on the canonical path)
#   keep      1: root's binds stay (installed); 0: a private mount namespace
#             per command (dist/: no bind left in a source tree)
#   denodir   Deno's cache (its V8 code cache of the bundle) for callers that
#             may write it and have not set DENO_DIR; empty: Deno's default
#   write, read  root-relative paths the program may write (and read), or
#             only read; those under sys/ and dev/ are reached in the views
#   scripts   root-relative directories whose entries it may run
#   programs  what else it may run, by name;  env  the variables it may read
#
# How a command gets the views, first match wins:
#   test   MDEVCTL_ENV_ROOT is set: every path below that root, no views;
#   ready  the views are bound (an earlier run as root, the units'
#          BindPaths=, the launcher of the command whose callout runs this);
#   root   bind /sys and /dev there, not recursively (the mounts below them
#          stay out of reach), and keep the binds; with keep=0, in a private
#          mount namespace for this command only;
#   user   not root: in a user and mount namespace of its own, bind them
#          recursively (the kernel will not uncover the mounts below them
#          there), map the caller's uid and gid back, run;
#   all    not root and no user namespace: the bundle runs with -A, which
#          gives nothing the kernel does not refuse this uid anyway; the
#          compiled form fails.
# A sandbox that cannot be made is one line on stderr and exit status 1.

# @CONFIGURATION@

me=${0##*/}
fail() {
  printf '%s: cannot set up the permission sandbox: %s\n' "$me" "$*" >&2
  exit 1
}

# esc TEXT: sets e to TEXT with every comma doubled, which Deno reads as a
# comma inside one entry of a permission list.
esc() {
  e= t=$1
  while :; do
    case $t in
    *,*) e=$e${t%%,*},, t=${t#*,} ;;
    *)
      e=$e$t
      return
      ;;
    esac
  done
}

# linked PATH: true when a component of PATH is a symbolic link (builtins
# only: no program is started for the usual path without one).
linked() {
  case $1 in /*) l_at= ;; *) l_at=. ;; esac
  l_rest=$1
  while [ -n "$l_rest" ]; do
    l_c=${l_rest%%/*}
    case $l_rest in */*) l_rest=${l_rest#*/} ;; *) l_rest= ;; esac
    [ -n "$l_c" ] || continue
    l_at=$l_at/$l_c
    [ -h "$l_at" ] && return 0
  done
  return 1
}

# grant LIST: sets g to the comma list of LIST's root-relative paths where
# this command reaches them: below $s (sysfs), $v (/dev) or $p (the root),
# each escaped by esc.
grant() {
  g=
  for w in $1; do
    case $w in
    sys | sys/*) g=$g,$s${w#sys} ;;
    dev | dev/*) g=$g,$v${w#dev} ;;
    *) g=$g,$p$w ;;
    esac
  done
  g=${g#,}
}

# Which way, and where the program finds sysfs, /dev and the rest.
export MDEVCTL_ARGV0="$0" DENO_NO_UPDATE_CHECK=1
if [ -n "${MDEVCTL_ENV_ROOT+set}" ]; then
  how=test root=$MDEVCTL_ENV_ROOT
  case $root in '' | */) ;; *) root=$root/ ;; esac
  sys=${root}sys dev=${root}dev
  unset MDEVCTL_SYSFS_VIEW MDEVCTL_DEV_VIEW
else
  root=/ sys=$view dev=$devview
  export MDEVCTL_SYSFS_VIEW="$view" MDEVCTL_DEV_VIEW="$devview"
  if [ -d "$view/class" ] && [ -e "$devview/null" ]; then
    how=ready
  else
    [ -x "$unshare" ] || fail "$unshare not found (util-linux)"
    [ -x "$mount" ] || fail "$mount not found (util-linux)"
    [ -d "$view" ] || fail "$view is missing (reinstall mdevctl)"
    [ -d "$devview" ] || fail "$devview is missing (reinstall mdevctl)"
    while read -r key real eff rest; do
      case $key in
      Uid:) euid=$eff ;;
      Gid:)
        egid=$eff
        break
        ;;
      esac
    done </proc/self/status
    if [ "$euid" = 0 ]; then
      how=root
    elif "$unshare" --map-root-user --mount true 2>/dev/null; then
      how=user
    elif [ "$form" = bundle ]; then
      how=all
    else
      fail "no user namespace for uid $euid (the compiled form cannot reach /sys without one)"
    fi
  fi
fi
if [ "$how" = root ] && [ "$keep" = 1 ]; then
  # They stay for the next commands, which then pay a `test -d` for them.
  if [ ! -d "$view/class" ]; then
    msg=$("$mount" --no-canonicalize --bind /sys "$view" 2>&1) || fail "mount --bind /sys $view: $msg"
  fi
  if [ ! -e "$devview/null" ]; then
    msg=$("$mount" --no-canonicalize --bind /dev "$devview" 2>&1) || fail "mount --bind /dev $devview: $msg"
  fi
  how=ready
fi

# The command: the program and its permissions, then the caller's arguments.
if [ "$how" = all ]; then
  case ${MDEVCTL_LOG:-} in *debug*) echo "$me: no user namespace: all permissions for uid $euid" >&2 ;; esac
  # shellcheck disable=SC2086 # $flags is a list of words
  set -- "$deno" run -A $flags "$bundle" "$@"
elif [ "$form" = bundle ]; then
  esc "$sys" && s=$e
  esc "$dev" && v=$e
  esc "$root" && p=$e
  grant "$write" && rw=$g
  grant "$read" && ro=$rw,$g
  # Each script present now may be run (Deno scopes --allow-run to
  # programs, not directories); dot files too.
  x=$programs
  # apply --enable-vfs runs NVIDIA's sriov-manage (docs/vfio-vgpu.md) when it is there.
  sm=${MDEVCTL_SRIOV_MANAGE:-/usr/lib/nvidia/sriov-manage}
  if [ -e "$sm" ]; then esc "$sm" && x=$x,$e; fi
  for d in $scripts; do
    for f in "$root$d"/* "$root$d"/.[!.]* "$root$d"/..?*; do
      [ -e "$f" ] || [ -h "$f" ] || continue
      esc "$f" && x=$x,$e
    done
  done
  # The words of the command line that are not options may be read: the
  # files a command names (--jsonfile FILE, -f FILE, -fFILE, --opt=FILE).
  # Deno checks a file at its real path, so one reached through a symbolic
  # link (on any component) is granted there too. (Not /dev and /proc:
  # /dev/stdin is read from the standard input, no path is opened.)
  for a; do
    case $a in --*=*) a=${a#*=} ;; -f?*) a=${a#-f} a=${a#=} ;; -*) continue ;; esac
    [ -n "$a" ] || continue
    case $a in /dev/* | /proc/*) ;; *)
      if [ -e "$a" ] && linked "$a" && t=$(readlink -f -- "$a") && [ -n "$t" ]; then
        esc "$t" && ro=$ro,$e
      fi
      ;;
    esac
    esc "$a" && ro=$ro,$e
  done
  # Deno's cache: a Deno that cannot write its cache directory (the units'
  # ProtectHome= hides /root/.cache) compiles the bundle at every start.
  if [ -z "${DENO_DIR:-}" ] && [ -n "$denodir" ] && [ -w "$denodir" ]; then
    export DENO_DIR="$denodir"
  fi
  # shellcheck disable=SC2086 # $flags is a list of words
  set -- "$deno" run $flags --allow-read="$ro" --allow-write="$rw" --allow-run="$x" \
    --allow-env="$env" "$bundle" "$@"
else
  set -- "$binary" "$@"
fi

# Run it, in the namespace it needs. (exec, so that callers who signal or
# wait for mdevctl reach the program.)
case $how in
test | ready | all) exec "$@" ;;
esac
# In a new mount namespace: bind /sys and /dev at the views with $1
# (--bind, or --rbind in a user namespace), then exec the rest.
binds='
  b=$1 m=$2 v=$3 d=$4
  shift 4
  msg=$("$m" --no-canonicalize "$b" /sys "$v" 2>&1) ||
    { printf "%s: cannot set up the permission sandbox: mount %s /sys %s: %s\n" "$0" "$b" "$v" "$msg" >&2; exit 1; }
  msg=$("$m" --no-canonicalize "$b" /dev "$d" 2>&1) ||
    { printf "%s: cannot set up the permission sandbox: mount %s /dev %s: %s\n" "$0" "$b" "$d" "$msg" >&2; exit 1; }
  exec "$@"'
if [ "$how" = root ]; then
  exec "$unshare" --mount --propagation slave -- /bin/sh -c "$binds" "$me" --bind "$mount" \
    "$view" "$devview" "$@"
fi
exec "$unshare" --map-root-user --mount --propagation slave -- /bin/sh -c "$binds" "$me" \
  --rbind "$mount" "$view" "$devview" "$unshare" --map-user="$euid" --map-group="$egid" -- "$@"

#!/bin/bash
# Installs or removes mdevctl (`make install`, `make uninstall`).
# Usage: tools/install.sh install|uninstall|generate [OUTDIR]
#
# Settings come from the environment (make passes its variables through):
#   DESTDIR         staging root prepended to every path (default: none)
#   PREFIX          /usr
#   SBINDIR         $PREFIX/sbin         mdevctl and lsmdev
#   LIBDIR          $PREFIX/lib/mdevctl  bundle (mdevctl.js, mdevctl-yaml.js) and Deno
#                                        (or the compiled binary),
#                                        scripts.d, and sysfs/, the launcher's
#                                        view of /sys (docs/sandbox.md)
#   DATADIR         $PREFIX/share
#   MANDIR          $DATADIR/man
#   UDEVDIR         pkg-config udev's udevdir, else /usr/lib/udev
#   SYSTEMDUNITDIR  pkg-config systemd's systemdsystemunitdir, else /usr/lib/systemd/system
#   BASHCOMPDIR     pkg-config bash-completion's completionsdir, else $DATADIR/bash-completion/completions
#   ZSHCOMPDIR      $DATADIR/zsh/site-functions
#   DIST            the build output to install from (default: dist)
#   DENO_BIN        the Deno binary to install with a bundled build
#                   (default: tools/deno_path.sh, the pinned one)
#   CACHEDIR        /var/cache/mdevctl   bundled form: Deno's cache of the
#                                        bundle in deno/ (its V8 code cache)
# The configuration directory is always /etc/mdevctl.d, and mdevctl always
# looks for callout scripts in /usr/lib/mdevctl/scripts.d whatever PREFIX is.
#
# `generate` only writes the man pages and completions into OUTDIR (dist).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

pkg_var() { # pkg-config variable, empty when pkg-config or the package is missing
  if command -v pkg-config >/dev/null 2>&1; then pkg-config --variable="$2" "$1" 2>/dev/null || true; fi
}
or_default() { if [ -n "$1" ]; then printf '%s' "$1"; else printf '%s' "$2"; fi; }

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
LIBDIR=${LIBDIR:-$PREFIX/lib/mdevctl}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
UDEVDIR=${UDEVDIR:-$(or_default "$(pkg_var udev udevdir)" /usr/lib/udev)}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$(or_default "$(pkg_var systemd systemdsystemunitdir)" /usr/lib/systemd/system)}
BASHCOMPDIR=${BASHCOMPDIR:-$(or_default "$(pkg_var bash-completion completionsdir)" "$DATADIR/bash-completion/completions")}
ZSHCOMPDIR=${ZSHCOMPDIR:-$DATADIR/zsh/site-functions}
DIST=${DIST:-$top/dist}
CACHEDIR=${CACHEDIR:-/var/cache/mdevctl}
CONFDIR=/etc/mdevctl.d

die() {
  echo "install.sh: $*" >&2
  exit 1
}

# The paths end up in udev rules, unit files and shell commands: keep them
# to characters that need no quoting anywhere.
for var in PREFIX SBINDIR LIBDIR DATADIR MANDIR UDEVDIR SYSTEMDUNITDIR BASHCOMPDIR ZSHCOMPDIR CACHEDIR; do
  value=${!var}
  [[ $value == /* ]] || die "$var must be an absolute path: '$value'"
  [[ $value =~ ^[A-Za-z0-9/._+-]+$ ]] || die "$var has characters that need quoting: '$value'"
done

d() { printf '%s%s' "$DESTDIR" "$1"; }

# Writes a template with every @VAR@ replaced; fails on one left over.
substitute() { # SRC DEST
  sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@PREFIX@|$PREFIX|g" \
    -e "s|@DATADIR@|$DATADIR|g" -e "s|@DENODIR@|$CACHEDIR/deno|g" "$1" >"$2.tmp"
  if grep -n '@[A-Z_]*@' "$2.tmp" >&2; then
    rm -f "$2.tmp"
    die "unknown @VARIABLE@ left in $1"
  fi
  chmod 644 "$2.tmp"
  mv "$2.tmp" "$2"
}

generate() { # OUTDIR: man pages and completions from the command table and docs/
  local out=$1 deno
  deno=$("$top/tools/deno_path.sh")
  mkdir -p "$out"
  DENO_NO_UPDATE_CHECK=1 "$deno" run --quiet --no-lock --no-prompt --allow-read --allow-write \
    --allow-env=SOURCE_DATE_EPOCH "$top/tools/gen_man.ts" "$out/mdevctl.8"
  DENO_NO_UPDATE_CHECK=1 "$deno" run --quiet --no-lock --no-prompt --allow-read --allow-write \
    --allow-env=SOURCE_DATE_EPOCH "$top/tools/gen_doc_man.ts" "$out"
  DENO_NO_UPDATE_CHECK=1 "$deno" run --quiet --no-lock --no-prompt --allow-read --allow-write \
    "$top/tools/gen_completions.ts" "$out"
}

# The launcher (tools/launcher.sh with its configuration, docs/sandbox.md).
gen_launcher() {
  DENO_NO_UPDATE_CHECK=1 "$("$top/tools/deno_path.sh")" run --quiet --no-lock --no-prompt \
    --allow-read --allow-env=PATH "$top/tools/gen_sandbox.ts" launcher "$@"
}

# Files and links install puts down, one "DEST" per line; directories apart.
# Uninstall walks the same list, so the two cannot drift apart.
installed_files() {
  echo "$SBINDIR/mdevctl"
  echo "$SBINDIR/lsmdev"
  echo "$LIBDIR/mdevctl.js"
  echo "$LIBDIR/mdevctl-yaml.js"
  echo "$LIBDIR/deno"
  echo "$LIBDIR/mdevctl.bin"
  echo "$UDEVDIR/rules.d/60-mdevctl.rules"
  echo "$DATADIR/mdevctl/61-mdevctl-record.rules"
  echo "$SYSTEMDUNITDIR/mdev@.service"
  echo "$SYSTEMDUNITDIR/mdevctl-autostart@.service"
  echo "$SYSTEMDUNITDIR/mdevctl-wait-online.service"
  echo "$SYSTEMDUNITDIR/mdevctl-apply.service"
  echo "$MANDIR/man8/mdevctl.8"
  echo "$MANDIR/man8/lsmdev.8"
  echo "$MANDIR/man5/mdevctl-hostfile.5"
  echo "$BASHCOMPDIR/mdevctl"
  echo "$BASHCOMPDIR/lsmdev"
  echo "$ZSHCOMPDIR/_mdevctl"
}

do_install() {
  [ -e "$DIST/mdevctl" ] || die "$DIST/mdevctl missing: run make first"
  install -d -m 755 "$(d "$SBINDIR")" "$(d "$LIBDIR")" "$(d "$UDEVDIR/rules.d")" \
    "$(d "$DATADIR/mdevctl")" "$(d "$SYSTEMDUNITDIR")" "$(d "$MANDIR/man8")" "$(d "$MANDIR/man5")" \
    "$(d "$BASHCOMPDIR")" "$(d "$ZSHCOMPDIR")" "$(d "$CONFDIR")" \
    "$(d "$LIBDIR/scripts.d/callouts")" "$(d "$LIBDIR/scripts.d/notifiers")" \
    "$(d "$LIBDIR/sysfs")" "$(d "$LIBDIR/dev")"

  # The launcher names the final paths, not the staging ones.
  if [ -f "$DIST/mdevctl.bin" ]; then
    built_for=$(cat "$DIST/mdevctl.libdir" 2>/dev/null || echo "?")
    [ "$built_for" = "$LIBDIR" ] ||
      die "the compiled $DIST/mdevctl.bin may only write $built_for/sysfs: rebuild with LIBDIR=$LIBDIR"
    echo "install: compiled binary -> $LIBDIR/mdevctl.bin, launcher -> $SBINDIR/mdevctl"
    install -m 755 "$DIST/mdevctl.bin" "$(d "$LIBDIR/mdevctl.bin")"
    gen_launcher compiled "$LIBDIR/mdevctl.bin" "$LIBDIR" >"$(d "$SBINDIR/mdevctl.tmp")"
    # A bundled form installed before would be left unused.
    rm -f "$(d "$LIBDIR/mdevctl.js")" "$(d "$LIBDIR/mdevctl-yaml.js")" "$(d "$LIBDIR/deno")"
  else
    [ -f "$DIST/mdevctl.js" ] || die "$DIST/mdevctl is a launcher but $DIST/mdevctl.js is missing"
    echo "install: bundle and Deno -> $LIBDIR, launcher -> $SBINDIR/mdevctl"
    install -m 644 "$DIST/mdevctl.js" "$(d "$LIBDIR/mdevctl.js")"
    # The YAML library the host-file commands import (tools/build.sh).
    install -m 644 "$DIST/mdevctl-yaml.js" "$(d "$LIBDIR/mdevctl-yaml.js")"
    install -m 755 "${DENO_BIN:-$("$top/tools/deno_path.sh")}" "$(d "$LIBDIR/deno")"
    # Deno's cache of the bundle, shared by root's runs and the units.
    install -d -m 755 "$(d "$CACHEDIR")" "$(d "$CACHEDIR/deno")"
    gen_launcher --deno-dir "$CACHEDIR/deno" bundle "$LIBDIR/deno" "$LIBDIR/mdevctl.js" "$LIBDIR" \
      >"$(d "$SBINDIR/mdevctl.tmp")"
    rm -f "$(d "$LIBDIR/mdevctl.bin")"
  fi
  chmod 755 "$(d "$SBINDIR/mdevctl.tmp")"
  mv "$(d "$SBINDIR/mdevctl.tmp")" "$(d "$SBINDIR/mdevctl")"
  ln -sfn mdevctl "$(d "$SBINDIR/lsmdev")"
  # Staged installs (DESTDIR) name paths that do not exist yet.
  [ -n "${DESTDIR:-}" ] || "$top/tools/warm_code_cache.sh" "$SBINDIR/mdevctl"

  substitute "$top/udev/60-mdevctl.rules.in" "$(d "$UDEVDIR/rules.d/60-mdevctl.rules")"
  substitute "$top/udev/61-mdevctl-record.rules.in" "$(d "$DATADIR/mdevctl/61-mdevctl-record.rules")"
  substitute "$top/systemd/mdev@.service.in" "$(d "$SYSTEMDUNITDIR/mdev@.service")"
  substitute "$top/systemd/mdevctl-autostart@.service.in" \
    "$(d "$SYSTEMDUNITDIR/mdevctl-autostart@.service")"
  # Opt-in: installed, never enabled here (systemctl enable mdevctl-wait-online.service).
  substitute "$top/systemd/mdevctl-wait-online.service.in" \
    "$(d "$SYSTEMDUNITDIR/mdevctl-wait-online.service")"
  # Opt-in too (systemctl enable mdevctl-apply.service): applies /etc/mdevctl/host.yaml at boot.
  substitute "$top/systemd/mdevctl-apply.service.in" "$(d "$SYSTEMDUNITDIR/mdevctl-apply.service")"

  gen=$(mktemp -d)
  trap 'rm -rf "$gen"' EXIT
  generate "$gen"
  install -m 644 "$gen/mdevctl.8" "$(d "$MANDIR/man8/mdevctl.8")"
  ln -sfn mdevctl.8 "$(d "$MANDIR/man8/lsmdev.8")"
  install -m 644 "$gen/mdevctl-hostfile.5" "$(d "$MANDIR/man5/mdevctl-hostfile.5")"
  install -m 644 "$gen/mdevctl.bash" "$(d "$BASHCOMPDIR/mdevctl")"
  # bash-completion loads completions/<command>; one file serves both.
  ln -sfn mdevctl "$(d "$BASHCOMPDIR/lsmdev")"
  install -m 644 "$gen/_mdevctl" "$(d "$ZSHCOMPDIR/_mdevctl")"
  echo "install: done (DESTDIR='${DESTDIR}' PREFIX=$PREFIX SBINDIR=$SBINDIR UDEVDIR=$UDEVDIR" \
    "SYSTEMDUNITDIR=$SYSTEMDUNITDIR)"
}

do_uninstall() {
  local path
  while read -r path; do
    rm -f "$(d "$path")"
  done < <(installed_files)
  # The launcher's binds of /sys and /dev (docs/sandbox.md), if this is the live system.
  if [ -z "$DESTDIR" ]; then
    while umount "$LIBDIR/sysfs" 2>/dev/null; do :; done
    while umount "$LIBDIR/dev" 2>/dev/null; do :; done
  fi
  # Deno's cache is ours alone and rebuilt at will: it goes whole.
  rm -rf "$(d "$CACHEDIR/deno")"
  # Directories go only when empty: scripts and configs a user put there stay.
  for path in "$LIBDIR/scripts.d/callouts" "$LIBDIR/scripts.d/notifiers" "$LIBDIR/scripts.d" \
    "$LIBDIR/sysfs" "$LIBDIR/dev" "$LIBDIR" "$DATADIR/mdevctl" "$CONFDIR" "$CACHEDIR"; do
    [ -d "$(d "$path")" ] && rmdir --ignore-fail-on-non-empty "$(d "$path")"
  done
  echo "uninstall: done (DESTDIR='${DESTDIR}' PREFIX=$PREFIX)"
}

case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
generate) generate "${2:-$top/dist}" ;;
list) installed_files ;;
*) die "usage: tools/install.sh install|uninstall|generate [OUTDIR]|list" ;;
esac

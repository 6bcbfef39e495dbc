#!/bin/sh
# Has Deno store the V8 code cache of the program a launcher runs, so that
# every later start reads the compiled bundle from it instead of compiling
# it again (about 5 ms of a small host's `list`, bench/analysis.md).
#
# Usage: tools/warm_code_cache.sh LAUNCHER
#
# Deno writes the cache only when the main module returns, and cli.ts returns
# only when MDEVCTL_WARM_CODE_CACHE=1; otherwise it ends with Deno.exit(),
# which is quicker. The run lists an empty fake host (MDEVCTL_ENV_ROOT), so it
# touches nothing of this machine, through the launcher itself: the cache is
# kept only for the same Deno, the same V8 flags and the same bundle path.
# It goes to the Deno cache of the user who runs this (root's for an
# install); other users' runs compile the bundle as before. Never fails a build:
# without the cache, the program is slower, not wrong.
set -u
launcher=${1:?usage: warm_code_cache.sh LAUNCHER}
root=$(mktemp -d) || exit 0
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/sys/class/mdev_bus" "$root/sys/bus/mdev/devices" "$root/etc/mdevctl.d"
MDEVCTL_ENV_ROOT=$root MDEVCTL_WARM_CODE_CACHE=1 "$launcher" list >/dev/null 2>&1 ||
  echo "warm_code_cache: $launcher list failed; starts will compile the bundle each time" >&2
exit 0

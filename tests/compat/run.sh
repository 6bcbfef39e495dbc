#!/bin/bash
# Compatibility suite against Debian's mdevctl 1.2.0 (see README.md here).
# Needs root and `unshare` (private mount namespaces).  Outside CI it reports
# a skip when it cannot run; with CI=true that is a failure.
set -u
# `run.sh --list-differences` prints the table of deliberate differences.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

cannot_run() {
  echo "compat: cannot run: $*"
  if [ "${CI:-}" = "true" ]; then
    echo "compat: CI=true, so this is a failure"
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "compat: skipped (not in CI)"
  echo "0 passed, 0 failed"
  exit 0
}

if [ "${1:-}" = "--list-differences" ]; then
  exec "${DENO:-$repo/node_modules/.bin/deno}" run --allow-all --no-config "$here/compat.ts" --list-differences
fi
[ "$(id -u)" = 0 ] || cannot_run "not root"
command -v unshare >/dev/null 2>&1 || cannot_run "no unshare command"
unshare -m --propagation private true 2>/dev/null || cannot_run "unshare -m does not work here"

debian=${MDEVCTL_DEBIAN:-/usr/bin/mdevctl}
if [ ! -x "$debian" ]; then
  echo "compat: installing Debian's mdevctl"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y mdevctl >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && apt-get install -y mdevctl >/dev/null 2>&1; }
  [ -x "$debian" ] || cannot_run "could not install Debian's mdevctl ($debian)"
fi

deno=${DENO:-$repo/node_modules/.bin/deno}
[ -x "$deno" ] || cannot_run "no deno at $deno (run npm ci)"

exec "$deno" run --allow-all --no-config "$here/compat.ts"

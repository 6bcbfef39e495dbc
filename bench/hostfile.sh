#!/bin/bash
# Host-file timings (issue 14) on the bench's large host: `diff` and an `apply`
# of 512 new definitions, as ratios to `list -d` in the same run.
#   bash bench/hostfile.sh        (as root; BENCH_LARGE, BENCH_RUNS_LARGE, MDEVCTL_OURS as in bench/README.md)
# The host is a copy of bench/hosts/large (generated if missing), so the shared
# tree stays as generated; the ledger lives on a tmpfs over /var/lib inside the
# namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
DENO=${DENO:-$top/node_modules/.bin/deno}
shape=${BENCH_LARGE:-64x256x512}
runs=${BENCH_RUNS_LARGE:-7}
ours=${MDEVCTL_OURS:-$top/dist/mdevctl}
[ "$(id -u)" = 0 ] || { echo "bench/hostfile.sh: must run as root" >&2; exit 1; }

src=$here/hosts/large-hostfile
parents=${shape%%x*}
"$DENO" run -A "$here/gen_host.ts" --out "$src" --shape "$shape" >&2
work=$here/hosts/hostfile-work
rm -rf "$work"
cp -a "$src" "$work"
trap 'rm -rf "$work"' EXIT
bash "$top/tests/helpers/host_ns.sh" "$work" bash -c \
  'mount -t tmpfs -o size=64m bench-var /var/lib && exec "$@"' _ \
  "$DENO" run -A "$here/hostfile_measure.ts" --ours "$ours" --type nvidia-256 \
  --per-parent $((512 / parents)) --runs "$runs"

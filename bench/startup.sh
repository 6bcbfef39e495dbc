#!/bin/bash
# Start-up of the installed program against the bare Deno floor (issue 23):
# `mdevctl --version` and a small host's `list`, through the installed
# launcher, interleaved with `deno run` of an empty script with the same Deno
# flags (tools/gen_sandbox.ts deno-flags), in one run, by
# bench/startup_measure.ts: medians, interquartile ranges, and the ratios to
# the floor (of the medians, and per round). Needs root and a built dist/
# (bundled form).
#
#   bash bench/startup.sh            BENCH_ROUNDS (default 201), BENCH_SMALL (2x4x4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
DENO=${DENO:-$top/node_modules/.bin/deno}
say() { echo "bench/startup: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "must run as root"; exit 1; }
[ -f "$top/dist/mdevctl.js" ] || { say "needs the bundled dist/ (make)"; exit 1; }

deno_bin=$("$top/tools/deno_path.sh")
flags=$("$deno_bin" run --quiet --no-lock --allow-read "$top/tools/gen_sandbox.ts" deno-flags)
lib=/usr/lib/mdevctl
root=$here/hosts/startup
snap=$(mktemp -d)
trap 'rm -rf "$snap"' EXIT
cp "$top/dist/mdevctl.js" "$top/dist/mdevctl-yaml.js" "$snap/"
"$DENO" run -A --no-config "$here/gen_host.ts" --out "$root" --shape "${BENCH_SMALL:-2x4x4}" \
  --force >/dev/null
bash "$here/install_in_host.sh" "$snap" "$root"
# The first run as root binds the views (kept, as on a real host); then the rounds.
bash "$here/ns.sh" "$root" sh -c '"$1/mdevctl" list >/dev/null && shift && exec "$@"' sh "$lib" \
  "$DENO" run -A --no-config "$here/startup_measure.ts" --rounds "${BENCH_ROUNDS:-201}" \
  --warmup 5 --json "$here/hosts/startup.json" \
  --tool "floor=$deno_bin run $flags $here/empty.ts" \
  --tool "version=$lib/mdevctl --version" \
  --tool "list=$lib/mdevctl list"

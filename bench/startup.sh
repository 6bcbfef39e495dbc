#!/bin/bash
# Start-up of the installed program against the bare Deno floor (issue 23):
# `mdevctl --version` and a small host's `list`, through the installed
# launcher, interleaved with `deno run` of an empty script with the same Deno
# flags (tools/gen_sandbox.ts deno-flags), in one run, by
# bench/startup_measure.ts: medians, interquartile ranges, and the ratios to
# the floor (of the medians, and per round). With perf installed, CPU time
# too (each round runs every command twice). Needs root and a built dist/
# (bundled form).
#
#   bash bench/startup.sh [BEFORE]
#   BEFORE: the top of another checkout with a bundled dist/ built (e.g. an
#   older commit, `git archive REV | tar -x -C DIR`, `tools/build.sh DIR/dist`),
#   installed beside ours with its own tools and measured in the same rounds.
#   BENCH_ROUNDS (default 201), BENCH_SMALL (default 2x4x4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
before=${1:-}
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
tools=(--tool "floor=$deno_bin run $flags $here/empty.ts" --tool "version=$lib/mdevctl --version")
if [ -n "$before" ]; then
  # The other checkout's bundle and launcher, as its own bench/install_in_host.sh
  # lays them out, moved to $lib/before/ (its views: ours, the same /sys and /dev).
  old=$(mktemp -d)
  cp -a "$root$lib/." "$old/"
  bash "$before/bench/install_in_host.sh" "$before/dist" "$root"
  mkdir -p "$old/before"
  for f in mdevctl mdevctl.js mdevctl-yaml.js; do
    [ -e "$root$lib/$f" ] && cp -a "$root$lib/$f" "$old/before/"
  done
  sed -i "s#$lib/mdevctl.js#$lib/before/mdevctl.js#" "$old/before/mdevctl"
  rm -rf "${root:?}$lib" && mv "$old" "$root$lib"
  # Both code caches again: the other install replaced Deno's cache directory.
  bash "$top/tests/helpers/host_ns.sh" "$root" "$top/tools/warm_code_cache.sh" "$lib/before/mdevctl"
  bash "$top/tests/helpers/host_ns.sh" "$root" "$top/tools/warm_code_cache.sh" "$lib/mdevctl"
  tools+=(--tool "before-version=$lib/before/mdevctl --version")
fi
tools+=(--tool "list=$lib/mdevctl list")
[ -n "$before" ] && tools+=(--tool "before-list=$lib/before/mdevctl list")
# The first run as root binds the views (kept, as on a real host); then the rounds.
bash "$top/tests/helpers/host_ns.sh" "$root" sh -c '"$1/mdevctl" list >/dev/null && shift && exec "$@"' sh "$lib" \
  "$DENO" run -A --no-config "$here/startup_measure.ts" --rounds "${BENCH_ROUNDS:-201}" \
  --warmup 5 --json "$here/hosts/startup.json" \
  --cpu "$(command -v perf >/dev/null && echo 1 || echo 0)" "${tools[@]}"

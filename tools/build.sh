#!/bin/sh
# Builds dist/mdevctl and dist/lsmdev in one of two forms:
#  - compiled: one self-contained binary from `deno compile`, when a denort
#    runtime is at hand (DENORT_BIN, or one in Deno's cache);
#  - bundled: dist/mdevctl.js plus a launcher that runs it with the pinned
#    Deno (-A --no-prompt, no network, absolute paths, any cwd).
# Usage: tools/build.sh [OUTDIR]   (default: dist)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
deno=$("$top/tools/deno_path.sh")
version=$("$deno" --version | sed -n 's/^deno \([0-9.]*\).*/\1/p')
mkdir -p "$out"
rm -f "$out/mdevctl" "$out/lsmdev" "$out/mdevctl.js"

denort=${DENORT_BIN:-}
if [ -z "$denort" ]; then
  cache=${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}
  zip="$cache/dl/release/v$version/denort-x86_64-unknown-linux-gnu.zip"
  [ -f "$zip" ] && denort=$zip
fi

if [ -n "$denort" ] && [ -f "$denort" ]; then
  echo "build: compiled form (deno compile with denort from $denort)"
  DENORT_BIN=$denort DENO_NO_UPDATE_CHECK=1 "$deno" compile --quiet -A --v8-flags=--max-semi-space-size=1 --no-prompt \
    --no-config --no-lock -o "$out/mdevctl" "$top/cli.ts"
  ln -s mdevctl "$out/lsmdev"
  exit 0
fi

echo "build: bundled form (no denort runtime: set DENORT_BIN to compile one binary)"
# Minified: V8 parses the whole bundle at every start, and half the bytes
# parse in less time (measured about 0.5-1 ms of CPU per run).
DENO_NO_UPDATE_CHECK=1 "$deno" bundle --quiet --no-lock --platform=deno --minify \
  -o "$out/mdevctl.js" "$top/cli.ts"
"$top/tools/write_launcher.sh" "$deno" "$out/mdevctl.js" > "$out/mdevctl"
chmod 755 "$out/mdevctl"
ln -s mdevctl "$out/lsmdev"

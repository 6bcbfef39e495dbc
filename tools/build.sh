#!/bin/sh
# Builds dist/mdevctl and dist/lsmdev in one of two forms:
#  - compiled: one self-contained binary dist/mdevctl.bin from `deno
#    compile`, when a denort runtime is at hand (DENORT_BIN, or one in
#    Deno's cache);
#  - bundled: dist/mdevctl.js (and the YAML library it imports on demand,
#    dist/mdevctl-yaml.js), run by the pinned Deno (no network, absolute
#    paths, any cwd).
# Either way dist/mdevctl is the sandboxing launcher (tools/launcher.sh written
# by tools/gen_sandbox.ts, docs/sandbox.md) with dist/sysfs and dist/dev as its
# views of /sys and /dev,
# bound per command in a private namespace (a bind kept in a source tree
# would be walked by cp -a).
# Usage: tools/build.sh [OUTDIR]   (default: dist)
# LIBDIR (default /usr/lib/mdevctl): where `make install` will put the
# compiled binary; its views are baked into the binary's permissions.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
deno=$("$top/tools/deno_path.sh")
version=$("$deno" --version | sed -n 's/^deno \([0-9.]*\).*/\1/p')
# gen ARGS...: runs tools/gen_sandbox.ts (the sandbox's one declaration).
gen() {
  DENO_NO_UPDATE_CHECK=1 "$deno" run --quiet --no-lock --no-prompt --allow-read --allow-env=PATH \
    "$top/tools/gen_sandbox.ts" "$@"
}
mkdir -p "$out"
rm -f "$out/mdevctl" "$out/lsmdev" "$out/mdevctl.js" "$out/mdevctl-yaml.js" "$out/mdevctl.bin" \
  "$out/mdevctl.libdir"
mkdir -p "$out/sysfs" "$out/dev"

denort=${DENORT_BIN:-}
if [ -z "$denort" ]; then
  cache=${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}
  zip="$cache/dl/release/v$version/denort-x86_64-unknown-linux-gnu.zip"
  [ -f "$zip" ] && denort=$zip
fi

if [ -n "$denort" ] && [ -f "$denort" ]; then
  libdir=${LIBDIR:-/usr/lib/mdevctl}
  echo "build: compiled form (deno compile with denort from $denort, for LIBDIR=$libdir)"
  # Baked in, so the same set for every start (tools/gen_sandbox.ts compileFlags).
  flags=$(gen compile-flags "$out" "$libdir")
  set --
  while IFS= read -r flag; do set -- "$@" "$flag"; done <<FLAGS
$flags
FLAGS
  DENORT_BIN=$denort DENO_NO_UPDATE_CHECK=1 "$deno" compile --quiet --no-prompt "$@" \
    -o "$out/mdevctl.bin" "$top/cli.ts"
  echo "$libdir" >"$out/mdevctl.libdir"
  gen launcher --view-per-run compiled "$out/mdevctl.bin" "$out" >"$out/mdevctl"
  chmod 755 "$out/mdevctl"
  ln -s mdevctl "$out/lsmdev"
  exit 0
fi

echo "build: bundled form (no denort runtime: set DENORT_BIN to compile one binary)"
# Minified: V8 parses the whole bundle at every start, and half the bytes
# parse in less time (about 0.5-1 ms of CPU per run, bench/analysis.md).
# The YAML library, which only the host-file commands import (lib/hostfile/
# load.ts), goes to a file of its own, mdevctl-yaml.js beside the bundle:
# every start pays for each byte of the bundle (its 104 KB cost 0.7-1.5 ms of
# CPU, bench/analysis.md), while a file named by a literal import() is only
# read. Deno resolves that import without a read permission.
yaml='node_modules/yaml/browser/index.js'
DENO_NO_UPDATE_CHECK=1 "$deno" bundle --quiet --no-lock --platform=deno --minify \
  --external "*/$yaml" -o "$out/mdevctl.js.tmp" "$top/cli.ts"
found=$(grep -o "import(\"[./]*$yaml\")" "$out/mdevctl.js.tmp" | wc -l)
if [ "$found" != 1 ]; then
  echo "build: expected one import() of $yaml in the bundle, found $found" >&2
  exit 1
fi
sed "s#import(\"[./]*$yaml\")#import(\"./mdevctl-yaml.js\")#" "$out/mdevctl.js.tmp" >"$out/mdevctl.js"
rm "$out/mdevctl.js.tmp"
DENO_NO_UPDATE_CHECK=1 "$deno" bundle --quiet --no-lock --platform=deno --minify \
  -o "$out/mdevctl-yaml.js" "$top/$yaml"
gen launcher --view-per-run bundle "$deno" "$out/mdevctl.js" "$out" >"$out/mdevctl"
chmod 755 "$out/mdevctl"
ln -s mdevctl "$out/lsmdev"
"$top/tools/warm_code_cache.sh" "$out/mdevctl"

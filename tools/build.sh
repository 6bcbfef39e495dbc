#!/bin/sh
# Builds dist/mdevctl and dist/lsmdev in one of two forms:
#  - compiled: one self-contained binary dist/mdevctl.bin from `deno
#    compile`, when a denort runtime is at hand (DENORT_BIN, or one in
#    Deno's cache);
#  - bundled: dist/mdevctl.js, run by the pinned Deno (no network, absolute
#    paths, any cwd).
# Either way dist/mdevctl is the sandboxing launcher (tools/write_launcher.sh,
# docs/sandbox.md) with dist/sysfs and dist/dev as its views of /sys and /dev,
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
mkdir -p "$out"
rm -f "$out/mdevctl" "$out/lsmdev" "$out/mdevctl.js" "$out/mdevctl.bin" "$out/mdevctl.libdir"
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
  # Baked in, so the same set for every start: writes as the launcher
  # grants them (both views: this build's and the installed one's); reads
  # and runs unscoped, because the files named on the command line and the
  # scripts present are only known at run time (docs/sandbox.md).
  DENORT_BIN=$denort DENO_NO_UPDATE_CHECK=1 "$deno" compile --quiet --no-prompt \
    --v8-flags="$("$top/tools/v8_flags.sh")" --no-config --no-lock \
    --allow-read \
    --allow-write="$out/sysfs,$libdir/sysfs,$out/dev/vfio,$libdir/dev/vfio,/etc/mdevctl.d,/run/lock,/var/lib/mdevctl" \
    --allow-run --allow-env='MDEVCTL_*' -o "$out/mdevctl.bin" "$top/cli.ts"
  echo "$libdir" >"$out/mdevctl.libdir"
  "$top/tools/write_launcher.sh" --view-per-run compiled "$out/mdevctl.bin" "$out/sysfs" >"$out/mdevctl"
  chmod 755 "$out/mdevctl"
  ln -s mdevctl "$out/lsmdev"
  exit 0
fi

echo "build: bundled form (no denort runtime: set DENORT_BIN to compile one binary)"
# Minified: V8 parses the whole bundle at every start, and half the bytes
# parse in less time (about 0.5-1 ms of CPU per run, bench/analysis.md).
DENO_NO_UPDATE_CHECK=1 "$deno" bundle --quiet --no-lock --platform=deno --minify \
  -o "$out/mdevctl.js" "$top/cli.ts"
"$top/tools/write_launcher.sh" --view-per-run bundle "$deno" "$out/mdevctl.js" "$out/sysfs" >"$out/mdevctl"
chmod 755 "$out/mdevctl"
ln -s mdevctl "$out/lsmdev"
"$top/tools/warm_code_cache.sh" "$out/mdevctl"

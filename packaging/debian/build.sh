#!/bin/bash
# Builds the Debian package (`make deb`): OUTDIR/mdevctl-deno_<version>_amd64.deb.
# Usage: packaging/debian/build.sh [OUTDIR]   (default: dist)
#        packaging/debian/build.sh --version  prints the package's version
#
# Offline, with what apt provides (dpkg-dev, debhelper) and what `npm ci`
# fetched (the pinned Deno). The program is built afresh into build/deb/dist
# by tools/build.sh (bundled form; the compiled form when DENORT_BIN is
# given), then debian/rules lays it out with tools/install.sh, as `make
# install` does.
#
# Environment:
#   DEB_REVISION  the Debian revision (default 1): <version>-<revision>, the
#                 version being the program's own (lib/version.ts)
#   DENORT_BIN    Deno's runtime image: package the compiled binary
#   DEB_COMPRESSION  xz (default), gzip, zstd or none: dpkg-deb's -Z (xz
#                 packs the 90 MiB of Deno smallest and takes longest)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/packaging/debian
out=${1:-$top/dist}
die() {
  echo "deb: $*" >&2
  exit 1
}

version=$(sed -n 's/^export const VERSION = "\([^"]*\)";$/\1/p' "$top/lib/version.ts")
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "no version in lib/version.ts"
revision=${DEB_REVISION:-1}
[[ $revision =~ ^[0-9A-Za-z.+~]+$ ]] || die "DEB_REVISION '$revision' is not a Debian revision"
full=$version-$revision
if [ "$out" = --version ]; then
  echo "$full"
  exit 0
fi
compression=${DEB_COMPRESSION:-}
case $compression in '' | xz | gzip | zstd | none) ;; *) die "DEB_COMPRESSION '$compression': xz, gzip, zstd or none" ;; esac
for tool in dpkg-buildpackage dh dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || die "$tool missing (apt-get install dpkg-dev debhelper)"
done

work=$top/build/deb
rm -rf "$work"
mkdir -p "$work" "$out"
out=$(cd "$out" && pwd)

# Reproducible: every date in the package is that of the last commit.
if epoch=$(git -C "$top" log -1 --format=%ct 2>/dev/null) && [ -n "$epoch" ]; then
  commit=$(git -C "$top" rev-parse --short HEAD)
  git -C "$top" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
else
  epoch=$(stat -c %Y "$top/lib/version.ts")
  commit=
fi
export SOURCE_DATE_EPOCH=$epoch

# The program, for the installed paths (the compiled form bakes them in).
# Its build-time code cache goes to a scratch Deno directory, not root's.
DENO_DIR=$work/deno-dir LIBDIR=/usr/lib/mdevctl "$top/tools/build.sh" "$work/dist" >"$work/build.log" 2>&1 ||
  {
    cat "$work/build.log" >&2
    die "tools/build.sh failed"
  }
grep '^build:' "$work/build.log" | sed 's/^build:/deb: program:/'

src=$work/mdevctl-deno-$version
mkdir -p "$src"
cp -r "$here" "$src/debian"
rm -f "$src/debian/build.sh" "$src/debian/README.md"
{
  echo "mdevctl-deno ($full) unstable; urgency=medium"
  echo
  echo "  * mdevctl for Deno $version, packaged by \`make deb\` from the project's"
  echo "    tree${commit:+ at commit $commit}."
  echo
  echo " -- mdevctl for Deno developers <dev@mdevctl.invalid>  $(date -u -R -d "@$epoch")"
} >"$src/debian/changelog"

echo "deb: building mdevctl-deno $full (dpkg-buildpackage; log in $work/dpkg-buildpackage.log)"
if ! (cd "$src" && MDEVCTL_TOP=$top MDEVCTL_DIST=$work/dist MDEVCTL_VERSION=$version \
  MDEVCTL_DEB_COMPRESSION=$compression dpkg-buildpackage -b --no-sign) >"$work/dpkg-buildpackage.log" 2>&1; then
  tail -n 30 "$work/dpkg-buildpackage.log" >&2
  die "dpkg-buildpackage failed"
fi
deb=mdevctl-deno_${full}_amd64.deb
mv -f "$work/$deb" "$out/$deb"
echo "deb: $out/$deb ($(du -k "$out/$deb" | cut -f1) KiB; installed size $(dpkg-deb -f "$out/$deb" Installed-Size) KiB)"

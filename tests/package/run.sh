#!/bin/bash
# tests/package/run.sh - the Debian package (`make test-package`, part of
# `make test-all`):
#   1. `make deb` builds dist/mdevctl-deno_<version>-1_amd64.deb, and a
#      rebuild with Debian revision 2 (gzip: quicker) serves as the upgrade;
#   2. lintian: no errors; every warning it still prints is listed in
#      packaging/debian/README.md;
#   3. the package's fields and files, laid out as tools/install.sh lays
#      them out;
#   4. the maintainer scripts in a chroot without systemd or udevd (an
#      overlay of this machine's root, tests/package/overlay_root.sh), with
#      dpkg (no /proc) and with apt;
#   5. the five-step scenario in a systemd guest with udev, libvirt and mtty
#      (tests/e2e/run.sh package, tests/e2e/package.sh).
# Each check prints `PASS name` or `FAIL name: why`; the last line is
# `N passed, N failed` (exit 1 on failures). Parts that cannot run here
# (not root, no QEMU) say why; with CI=true that is a failure.
#
# Usage: bash tests/package/run.sh [--no-guest]
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/packaging/debian/build.sh
CACHE=$HERE/.cache
GUEST=1
[ "${1:-}" = --no-guest ] && GUEST=0
PASSED=0 FAILED=0
pass() {
  echo "PASS $1"
  PASSED=$((PASSED + 1))
}
fail() {
  echo "FAIL $1: $2"
  FAILED=$((FAILED + 1))
}
check() {
  local name=$1 why=$2
  shift 2
  if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
cannot() { # PART WHY: a part that cannot run here
  if [ "${CI:-}" = true ]; then
    fail "package/$1" "cannot run here (CI=true): $2"
  else
    echo "package: $1 skipped: $2"
  fi
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit
}
now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }
mkdir -p "$CACHE"

# --- 1. make deb, and the rebuild with a higher revision ------------------------
VERSION=$(bash "$BUILD" --version) || {
  fail package/version "packaging/debian/build.sh --version failed"
  finish
}
DEB=$REPO/dist/mdevctl-deno_${VERSION}_amd64.deb
t=$(now)
rm -f "$DEB"
make -s -C "$REPO" deb > "$CACHE/make-deb.log" 2>&1
rc=$?
echo "package: make deb took $(secs "$t") s"
check package/make-deb "exit $rc: $(tail -n 5 "$CACHE/make-deb.log")" eval '[ $rc = 0 ] && [ -s "$DEB" ]'
[ -s "$DEB" ] || finish
echo "package: $(tail -n 1 "$CACHE/make-deb.log")"
mkdir -p "$CACHE/upgrade"
DEB_UPGRADE=$CACHE/upgrade/mdevctl-deno_${VERSION%-*}-2_amd64.deb
rm -f "$CACHE"/upgrade/*.deb
t=$(now)
DEB_REVISION=2 DEB_COMPRESSION=gzip bash "$BUILD" "$CACHE/upgrade" > "$CACHE/rebuild.log" 2>&1
rc=$?
echo "package: the rebuild with revision 2 took $(secs "$t") s"
check package/rebuild-higher-revision "exit $rc: $(tail -n 5 "$CACHE/rebuild.log")" \
  eval '[ $rc = 0 ] && dpkg --compare-versions "$(dpkg-deb -f "$DEB_UPGRADE" Version)" gt "$VERSION"'

# --- 2. lintian ---------------------------------------------------------------------
if command -v lintian > /dev/null; then
  t=$(now)
  # --show-overrides: the overridden tags prove that lintian looked. Exit 1
  # is lintian failing; 2 its --fail-on, which counts overridden errors.
  lintian --tag-display-limit 0 --show-overrides "$DEB" > "$CACHE/lintian.log" 2>&1
  rc=$?
  echo "package: lintian took $(secs "$t") s"
  grep -v -e 'running with root privileges' -e '^N: ' "$CACHE/lintian.log" | sed 's/^/package: lintian: /'
  errors=$(grep -c '^E: ' "$CACHE/lintian.log")
  check package/lintian-no-errors "exit $rc, $errors errors, $(grep -c '^O: ' "$CACHE/lintian.log") overridden" \
    eval '[ $rc != 1 ] && [ "$errors" = 0 ] && grep -q "^O: .*embedded-library lcms2" "$CACHE/lintian.log"'
  # Each warning tag lintian prints is one the README explains.
  undocumented=$(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' "$CACHE/lintian.log" | sort -u |
    while read -r tag; do grep -q "\`$tag\`" "$REPO/packaging/debian/README.md" || echo "$tag"; done)
  check package/lintian-warnings-documented "not in packaging/debian/README.md: $undocumented" \
    [ -z "$undocumented" ]
else
  cannot lintian "lintian is not installed (apt-get install lintian)"
fi

# --- 3. fields and files --------------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
check package/fields "$(dpkg-deb -f "$DEB" Package Version Provides Conflicts Replaces Depends | tr '\n' ' ')" \
  eval '[ "$(field Package)" = mdevctl-deno ] && [ "$(field Version)" = "$VERSION" ] &&
        [ "$(field Provides)" = "mdevctl (= ${VERSION%-*})" ] && [ "$(field Conflicts)" = mdevctl ] &&
        [ "$(field Replaces)" = mdevctl ] && [[ $(field Depends) =~ (^|, )udev(,|$) ]] &&
        [[ $(field Depends) =~ (^|, )mount(,|$) ]] && [[ $(field Depends) == *"util-linux ("* ]] &&
        [[ $(field Depends) == *"libc6 (>= "* ]]'
dpkg-deb -c "$DEB" | awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); print p }' | sort > "$CACHE/contents"
missing=$(for p in /usr/sbin/mdevctl /usr/sbin/lsmdev /usr/bin/mdevctl /usr/bin/lsmdev \
  /usr/lib/mdevctl/deno /usr/lib/mdevctl/mdevctl.js /usr/lib/udev/rules.d/60-mdevctl.rules \
  /usr/lib/systemd/system/mdev@.service /usr/lib/systemd/system/mdevctl-autostart@.service \
  /usr/share/man/man8/mdevctl.8.gz /usr/share/man/man8/lsmdev.8.gz \
  /usr/share/bash-completion/completions/mdevctl /usr/share/zsh/vendor-completions/_mdevctl \
  /usr/share/doc/mdevctl-deno/copyright /usr/share/doc/mdevctl-deno/changelog.Debian.gz \
  /etc/mdevctl.d; do grep -qx "$p" "$CACHE/contents" || echo "$p"; done)
check package/contents "missing: $missing" [ -z "$missing" ]
# Every file and link `make install` would put down (tools/install.sh list,
# with the package's settings) is in the package, but the other form's
# (manual pages compressed, as Debian wants them).
not_in=$(DESTDIR= PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions UDEVDIR=/usr/lib/udev \
  SYSTEMDUNITDIR=/usr/lib/systemd/system BASHCOMPDIR=/usr/share/bash-completion/completions \
  bash "$REPO/tools/install.sh" list | grep -v '/mdevctl\.bin$' |
  while read -r p; do grep -qx -e "$p" -e "$p.gz" "$CACHE/contents" || echo "$p"; done)
check package/layout-of-install-sh "install.sh lists, the package lacks: $not_in" [ -z "$not_in" ]
ctrl=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -t | tr '\n' ' ')
check package/no-conffiles "control members: $ctrl" eval '[[ $ctrl != *conffiles* ]]'
check package/cache-not-dpkgs "$(grep '^/var' "$CACHE/contents")" eval '! grep -q "^/var" "$CACHE/contents"'
copyright=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/doc/mdevctl-deno/copyright)
check package/copyright-machine-readable "$(head -n 1 <<< "$copyright")" \
  eval '[ "$(head -n 1 <<< "$copyright")" = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ] &&
        grep -q "^License: LGPL-2.1-or-later$" <<< "$copyright" && grep -q "^License: MIT$" <<< "$copyright" &&
        grep -q "the Deno authors" <<< "$copyright"'

# --- 4. the maintainer scripts where nothing runs --------------------------------
chroot_part() { # MODE [OVERLAY-ARGS]
  local mode=$1 t out
  shift
  t=$(now)
  out=$(bash "$HERE/overlay_root.sh" "$@" --keep "$REPO" -- \
    bash "$HERE/chroot.sh" "$mode" "$DEB" "$DEB_UPGRADE" 2>&1)
  echo "$out" | grep -E '^(PASS|FAIL) '
  PASSED=$((PASSED + $(grep -c '^PASS ' <<< "$out")))
  FAILED=$((FAILED + $(grep -c '^FAIL ' <<< "$out")))
  grep -q '^PASS .*/purged$' <<< "$out" || fail "package/chroot-$mode" "did not finish: $(tail -n 5 <<< "$out")"
  echo "package: chroot ($mode) took $(secs "$t") s"
}
if [ "$(id -u)" != 0 ]; then
  cannot chroot "not root (an overlay of / in a private mount namespace)"
elif [ "$(dpkg-query -W -f='${db:Status-Abbrev}' mdevctl 2>/dev/null | tr -d ' ')" != ii ]; then
  cannot chroot "Debian's mdevctl is not installed here (apt-get install mdevctl)"
else
  chroot_part dpkg --no-proc
  chroot_part apt
fi

# --- 5. the systemd guest -------------------------------------------------------------
# Debian's mdevctl .deb, the version installed here (the guest's root is
# this one): apt's cache, else downloaded once into the suite's cache.
debian_deb() {
  local v f
  v=$(dpkg-query -W -f='${Version}' mdevctl 2>/dev/null) || return 1
  f=mdevctl_${v/:/%3a}_amd64.deb
  for d in "$CACHE/debs" /var/cache/apt/archives; do
    [ -s "$d/$f" ] && { echo "$d/$f"; return 0; }
  done
  mkdir -p "$CACHE/debs"
  (cd "$CACHE/debs" && apt-get download -q "mdevctl=$v" > /dev/null 2>&1) && [ -s "$CACHE/debs/$f" ] &&
    echo "$CACHE/debs/$f"
}
if [ "$GUEST" = 1 ]; then
  if ! DEBIAN_DEB=$(debian_deb); then
    cannot guest "no .deb of Debian's mdevctl (installed here, in apt's cache or from apt-get download)"
  else
    t=$(now)
    PKG_DEB=$DEB PKG_DEB_UPGRADE=$DEB_UPGRADE PKG_DEBIAN_DEB=$DEBIAN_DEB PKG_VERSION=${VERSION%-*} \
      bash "$REPO/tests/e2e/run.sh" package > "$CACHE/guest.log" 2>&1
    grep -E '^(PASS|FAIL|e2e:) ' "$CACHE/guest.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$CACHE/guest.log" | tail -n 1)
    if [ -z "$line" ]; then
      fail package/guest "tests/e2e/run.sh package ended without a summary: $(tail -n 5 "$CACHE/guest.log")"
    else
      PASSED=$((PASSED + ${line%% passed*}))
      f=${line#*passed, }
      FAILED=$((FAILED + ${f%% failed*}))
    fi
    echo "package: the guest took $(secs "$t") s"
  fi
fi
finish

#!/bin/bash
# tests/package/chroot.sh - the maintainer scripts where nothing runs: inside
# tests/package/overlay_root.sh (a throw-away overlay of this machine's root,
# no systemd, no udevd, an empty /run), with Debian's mdevctl installed as
# on the host. One line per check, `PASS package/chroot-...` or `FAIL ...`.
#
# Usage (inside the overlay root): bash chroot.sh dpkg|apt DEB DEB_UPGRADE
#   dpkg  dpkg -i over Debian's mdevctl (dpkg removes it itself, after
#         unpacking ours: the udev rule must survive), dpkg -i of the
#         upgrade, dpkg -r with the views bound, dpkg -P; run without /proc
#   apt   apt-get install over Debian's mdevctl, the upgrade, apt-get
#         remove, apt-get purge; Deno's cache is warmed (needs /proc)
set -u
mode=$1 deb=$2 deb2=$3
P=package/chroot-$mode
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
check() {
  local name=$1 why=$2
  shift 2
  if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
status_of() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
log=$(mktemp)
# run NAME COMMAND...: the command must succeed, with all its output kept.
run() {
  local name=$1 rc
  shift
  "$@" > "$log" 2>&1 < /dev/null
  rc=$?
  check "$P/$name" "exit $rc: $(tail -n 8 "$log" | tr '\n' '|')" [ $rc = 0 ]
}
A1=c0000000-0000-4000-8000-00000000a001
M1=c0000000-0000-4000-8000-00000000b001
mkdir -p /etc/mdevctl.d/mtty
printf '{\n  "mdev_type": "mtty-1",\n  "start": "auto",\n  "attrs": []\n}\n' > /etc/mdevctl.d/mtty/$A1
printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}\n' > /etc/mdevctl.d/mtty/$M1
defs() { find /etc/mdevctl.d/mtty -type f | sort; }
DEFS=$(defs)

check "$P/debian-mdevctl-present" "status '$(status_of mdevctl)'" [ "$(status_of mdevctl)" = ii ]
check "$P/no-systemd-no-udevd" "$(ls -d /run/systemd/system /run/udev/control 2>&1)" \
  eval '[ ! -e /run/systemd/system ] && [ ! -e /run/udev/control ]'
export DEBIAN_FRONTEND=noninteractive
case $mode in
dpkg) run install dpkg -i "$deb" ;;
apt) run install apt-get -q -y install "$deb" ;;
esac
check "$P/debian-replaced" "mdevctl '$(status_of mdevctl)', mdevctl-deno '$(status_of mdevctl-deno)'" \
  eval '[ "$(status_of mdevctl)" != ii ] && [ "$(status_of mdevctl-deno)" = ii ]'
check "$P/files-intact" "dpkg -V: $(dpkg -V mdevctl-deno 2>&1)" eval '[ -z "$(dpkg -V mdevctl-deno 2>&1)" ]'
check "$P/no-diversion-left" "$(dpkg-divert --list '*mdevctl*')" eval '[ -z "$(dpkg-divert --list "*mdevctl*")" ]'
if [ "$mode" = apt ]; then
  check "$P/cache-warmed" "$(ls -l /var/cache/mdevctl/deno 2>&1 | tr '\n' ' ')" \
    [ -s /var/cache/mdevctl/deno/v8_code_cache_v2 ]
  out=$(mdevctl list -d 2>&1)
  check "$P/lists-definitions" "list -d: $out" \
    [ "$out" = "$A1 mtty mtty-1 auto"$'\n'"$M1 mtty mtty-2 manual" ]
else
  check "$P/cache-dir-made" "$(ls -ld /var/cache/mdevctl/deno 2>&1)" [ -d /var/cache/mdevctl/deno ]
fi

case $mode in
dpkg) run upgrade dpkg -i "$deb2" ;;
apt) run upgrade apt-get -q -y install "$deb2" ;;
esac
check "$P/upgraded" "version $(dpkg-query -W -f='${Version}' mdevctl-deno)" \
  [ "$(dpkg-query -W -f='${Version}' mdevctl-deno)" = "$(dpkg-deb -f "$deb2" Version)" ]

# The launcher's binds of /sys and /dev, as a run as root leaves them
# (stand-ins: this root has no /sys).
mount -t tmpfs view /usr/lib/mdevctl/sysfs
mount -t tmpfs view /usr/lib/mdevctl/dev
# (stat, not mountpoint: without /proc that cannot tell)
bound() { [ "$(stat -c %d "$1")" != "$(stat -c %d /usr/lib/mdevctl)" ]; }
check "$P/views-bound" "sysfs/ and dev/ are not mount points" \
  eval 'bound /usr/lib/mdevctl/sysfs && bound /usr/lib/mdevctl/dev'
case $mode in
dpkg) run remove dpkg -r mdevctl-deno ;;
apt) run remove apt-get -q -y remove mdevctl-deno ;;
esac
# A directory still mounted on cannot be removed: its absence is the proof.
check "$P/remove-unmounts-views" "$(ls -d /usr/lib/mdevctl/* 2>&1 | tr '\n' ' '); $(grep -i 'not empty\|warning' "$log")" \
  eval '[ ! -e /usr/lib/mdevctl ] && ! grep -q "mdevctl.*not empty" "$log"'
check "$P/remove-keeps-state" "definitions: $(defs | tr '\n' ' ')" \
  eval '[ "$(defs)" = "$DEFS" ] && [ -d /var/cache/mdevctl/deno ] && [ ! -e /usr/sbin/mdevctl ]'
mkdir -p /var/lib/mdevctl/owners
echo '{}' > /var/lib/mdevctl/owners/e2e.json
case $mode in
dpkg) run purge dpkg -P mdevctl-deno ;;
apt) run purge apt-get -q -y purge mdevctl-deno ;;
esac
check "$P/purge-removes-cache-and-ledger" "$(ls -d /var/cache/mdevctl /var/lib/mdevctl 2>&1 | tr '\n' ' ')" \
  eval '[ ! -e /var/cache/mdevctl ] && [ ! -e /var/lib/mdevctl ]'
check "$P/purge-keeps-definitions" "definitions: $(defs | tr '\n' ' ')" [ "$(defs)" = "$DEFS" ]
check "$P/purged" "status '$(status_of mdevctl-deno)'" eval '[ -z "$(status_of mdevctl-deno)" ] ||
  [ "$(status_of mdevctl-deno)" = pn ]'
rm -f "$log"
exit 0

#!/bin/bash
# tests/e2e/run.sh - the real stack end to end (`make test-e2e`): systemd as
# PID 1, udev, libvirt and the program installed by `make install`, in the
# QEMU guest of tests/kernel (Debian's kernel, the mtty sample driver).
#
# Usage: bash tests/e2e/run.sh [-v] [systemd|udev-only|package]... [-- PART...]
#   systemd     the guest with systemd as PID 1 (systemd.sh; PARTs: boot
#               hotplug unit record libvirt, default all)
#   udev-only   the guest with udevd alone (udev_only.sh)
#   package     a systemd guest without `make install`: the Debian package
#               replacing Debian's mdevctl (package.sh). Not in the default
#               set: tests/package/run.sh builds the packages and runs it,
#               with PKG_DEB, PKG_DEB_UPGRADE, PKG_DEBIAN_DEB and
#               PKG_VERSION in the environment.
#   -v          print the guests' logs
# Environment: CI (=true: a guest that cannot boot is a failure), MDEVCTL_KT_*
# (see tests/kernel/vm.sh).  Ends with "N passed, N failed"; exit 1 on failures.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VM=$REPO/tests/kernel/vm.sh
GUESTS=() PARTS=() VERB=0
while [ $# -gt 0 ]; do
    case $1 in
        -v) VERB=1; shift ;;
        systemd|udev-only|package) GUESTS+=("$1"); shift ;;
        --) shift; PARTS=("$@"); break ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#GUESTS[@]} -gt 0 ] || GUESTS=(systemd udev-only)

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }
T0=$(now)
skip_all() {
    echo "e2e: cannot run the end-to-end suite here: $*"
    if [ "${CI:-}" = true ]; then
        echo "e2e: CI=true, so this is a failure"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "e2e: skipped (outside CI this is not an error)"
    echo "0 passed, 0 failed"
    exit 0
}

# --- host side: the guest of tests/kernel, libvirt, systemd, udev, the build --
echo "e2e: preparing (tests/kernel/vm.sh --prepare, cached)"
PREP_LOG=$(mktemp)
bash "$VM" --prepare 2> "$PREP_LOG"
rc=$?
reason=$(grep -h 'vm.sh: ' "$PREP_LOG" | tail -n1 | sed 's/^vm.sh: \(cannot boot a guest: \)\{0,1\}//')
rm -f "$PREP_LOG"
[ $rc = 0 ] || skip_all "${reason:-guest preparation failed (exit $rc)}"
missing=()
for f in /lib/systemd/systemd /lib/systemd/systemd-udevd /usr/sbin/libvirtd /usr/bin/virsh \
    /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_nodedev.so /usr/bin/mdevctl; do
    [ -e "$f" ] || missing+=("$f")
done
[ ${#missing[@]} = 0 ] || skip_all "missing ${missing[*]} (apt-get install --no-install-recommends systemd udev libvirt-daemon libvirt-clients mdevctl)"
if [[ " ${GUESTS[*]} " == *" systemd "* || " ${GUESTS[*]} " == *" udev-only "* ]]; then
    [ -x "$REPO/dist/mdevctl" ] || skip_all "no $REPO/dist/mdevctl (run make)"
fi

# Results; the guests run a copy of the scripts (a file edited while a guest
# reads it over 9p derails the guest).
mkdir -p "$HERE/.cache/runs"
RES=$HERE/.cache/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RES/scripts"
ln -sfn "runs/${RES##*/}" "$HERE/.cache/last-run"
ls -1d "$HERE/.cache/runs"/* | sort | head -n -3 | xargs -r rm -rf
cp "$HERE"/*.sh "$RES/scripts/"
printf 'REPO=%q\nRES=%q\n' "$REPO" "$RES" > "$RES/scripts/env.sh"
for v in PKG_DEB PKG_DEB_UPGRADE PKG_DEBIAN_DEB PKG_VERSION; do
    printf '%s=%q\n' "$v" "${!v:-}" >> "$RES/scripts/env.sh"
done

PASSED=0 FAILED=0
count() { # FILE: the PASS/FAIL lines a guest printed
    PASSED=$((PASSED + $(grep -c '^PASS ' "$1")))
    FAILED=$((FAILED + $(grep -c '^FAIL ' "$1")))
}
guest() { # NAME VM-ARGS...: boots one guest, its lines to stdout
    local name=$1 t rc
    shift
    t=$(now)
    for attempt in 1 2; do
        MDEVCTL_KT_BOOTLOG=$RES/$name.console MDEVCTL_KT_MEM=${MDEVCTL_KT_MEM:-1536} \
            bash "$VM" --rw "$RES" "$@" > "$RES/$name.out" 2> "$RES/$name.err"
        rc=$?
        # A guest that died before running anything (a kernel panic under TCG
        # on an overloaded host) gets one more boot.
        [ $rc = 125 ] && ! grep -q 'ktinit: command starts' "$RES/$name.console" 2>/dev/null \
            && [ $attempt = 1 ] || break
        echo "e2e: $name guest died before its command ran; booting it again"
    done
    grep -E '^(PASS|FAIL|e2e:) ' "$RES/$name.out"
    count "$RES/$name.out"
    echo "e2e: $name guest: $(secs "$t") s (exit $rc)"
    if [ $rc != 0 ] && ! grep -q 'ktinit: command starts' "$RES/$name.console" 2>/dev/null \
        && [ "${CI:-}" != true ]; then
        echo "e2e: $name guest could not boot (exit $rc, see $RES/$name.err): skipped outside CI"
        tail -n 20 "$RES/$name.err"
    elif [ $rc != 0 ]; then
        echo "FAIL $name/guest: the guest or its script failed (exit $rc; see $RES/$name.err)"
        FAILED=$((FAILED + 1))
        tail -n 20 "$RES/$name.err"
    fi
    if [ "$VERB" = 1 ]; then cat "$RES/$name.err"; fi
}

for g in "${GUESTS[@]}"; do
    case $g in
        systemd) guest systemd --systemd "$RES/scripts/setup.sh" -- \
            bash "$RES/scripts/systemd.sh" "${PARTS[@]+"${PARTS[@]}"}" ;;
        udev-only) guest udev-only -- bash "$RES/scripts/udev_only.sh" ;;
        # dpkg and apt under TCG: more time than vm.sh's default 900 s
        package) MDEVCTL_KT_TIMEOUT=${MDEVCTL_KT_TIMEOUT:-1800} guest package \
            --systemd "$RES/scripts/package_setup.sh" -- bash "$RES/scripts/package.sh" ;;
    esac
done
for g in systemd package; do
    boot=$(sed -n 's/^ktinit: command starts at uptime \([0-9.]*\)s.*/\1/p' "$RES/$g.console" 2>/dev/null)
    [ -n "$boot" ] && echo "e2e: $g guest boot: power-on to kt.service ${boot} s (uptime)"
done
echo "e2e: total $(secs "$T0") s; logs in $RES"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

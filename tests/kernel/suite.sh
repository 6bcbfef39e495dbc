#!/bin/bash
# tests/kernel/suite.sh - runs INSIDE the QEMU guest (see run.sh): every
# scenario of scenarios.sh against one implementation.
#
# Usage: suite.sh IMPL PROGRAM RESULTS_DIR [SCENARIO...]
#   IMPL     label: ours | debian
#   PROGRAM  the mdevctl to test (e.g. /work/main/dist/mdevctl, /usr/bin/mdevctl),
#            or stage:DIR, a `tools/install.sh` DESTDIR put in place here (the
#            guest's root is a throw-away overlay) and run as /usr/sbin/mdevctl
# Writes RESULTS_DIR/IMPL/results (lines "PASS name", "FAIL name",
# "SKIP name reason"), and per scenario a log and a normalised transcript.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMPL=$1 MDEVCTL=$2 RES=$3; shift 3

if [ "${KT_GUEST:-}" != 1 ] || [ ! -d /sys/class/mdev_bus/mtty ]; then
    echo "suite.sh: refusing to run outside the test guest (it removes every mdev device)" >&2
    exit 125
fi
. "$HERE/lib.sh"
. "$HERE/scenarios.sh"
. "$HERE/hostfile_scenarios.sh"
. "$HERE/scenarios_monitor.sh"

# A clean system: no callout or notifier scripts the host may have installed
# (this only changes the guest's overlay, never the host).
for d in /etc/mdevctl.d/scripts.d /usr/lib/mdevctl/scripts.d; do
    for s in callouts notifiers; do
        [ -d "$d/$s" ] && find "$d/$s" -mindepth 1 -delete
    done
done

if [[ $MDEVCTL == stage:* ]]; then
    STAGE=${MDEVCTL#stage:}
    mkdir -p /usr/lib/mdevctl /usr/sbin
    mount --bind "$STAGE/usr/lib/mdevctl" /usr/lib/mdevctl || exit 125
    cp "$STAGE/usr/sbin/mdevctl" /usr/sbin/mdevctl && ln -sfn mdevctl /usr/sbin/lsmdev || exit 125
    MDEVCTL=/usr/sbin/mdevctl
fi

RESDIR=$RES/$IMPL
rm -rf "$RESDIR"; mkdir -p "$RESDIR"
TMPBIN=$(mktemp -d /tmp/kt-bin.XXXXXX)

# lsmdev: Debian ships a symlink; for ours use dist/lsmdev if the build makes
# one, else a symlink named lsmdev (the program looks at argv[0]).
if [ "$IMPL" = debian ]; then
    LSMDEV=$(dirname "$MDEVCTL")/lsmdev
    LEGACY=$HERE/legacy-shim.sh
    export LEGACY_REAL=$MDEVCTL
else
    LSMDEV=$(dirname "$MDEVCTL")/lsmdev
    [ -x "$LSMDEV" ] || { ln -s "$MDEVCTL" "$TMPBIN/lsmdev"; LSMDEV=$TMPBIN/lsmdev; }
    LEGACY=$MDEVCTL
fi

# Preflight: can the program read the real sysfs at all?  (Deno refuses
# /sys and /proc unless it runs with the full --allow-all; our launcher binds
# /sys elsewhere for it, docs/sandbox.md. Fake trees under /tmp never show it.)
if "$MDEVCTL" types > /tmp/kt-preflight.out 2>&1; then :; fi
if grep -q 'Requires all access' /tmp/kt-preflight.out; then
    echo "# NOTE $IMPL: the program cannot read /sys: $(grep -m1 -o 'Requires all access.*' /tmp/kt-preflight.out)"
    echo "#      (Deno refuses /sys and /proc to a program without --allow-all; see docs/sandbox.md)"
fi

want=("$@")
[ ${#want[@]} -gt 0 ] || want=("${SCENARIOS[@]}")

echo "# $IMPL: $MDEVCTL ($("$MDEVCTL" --version 2>&1 | head -n1)), kernel $(uname -r)"
for SC in "${want[@]}"; do
    if ! declare -F "sc_$SC" >/dev/null; then
        echo "FAIL $IMPL/$SC: no such scenario"; echo "FAIL $SC" >> "$RESDIR/results"; continue
    fi
    SC_DIR=$RESDIR/$SC; mkdir -p "$SC_DIR"; : > "$SC_DIR/log"; : > "$SC_DIR/transcript"
    SC_FAILS=0 SC_SKIP= SC_NOCOMPARE= N_CMD=0 UCOUNT=0; UMAP=()
    t0=${EPOCHREALTIME/[.,]/}
    if ! reset_state 2>> "$SC_DIR/log"; then
        fail "could not reset the guest to a clean state before the scenario"
    else
        "sc_$SC"
    fi
    dt=$(( (${EPOCHREALTIME/[.,]/} - t0) / 100000 )); dt="$((dt / 10)).$((dt % 10))"
    if [ -n "$SC_SKIP" ]; then
        echo "SKIP $IMPL/$SC: $SC_SKIP"; echo "SKIP $SC $SC_SKIP" >> "$RESDIR/results"
    elif [ "$SC_FAILS" = 0 ]; then
        echo "PASS $IMPL/$SC (${N_CMD} commands, ${dt}s)"; echo "PASS $SC" >> "$RESDIR/results"
    else
        echo "FAIL $IMPL/$SC ($SC_FAILS failed checks, ${dt}s)"
        sed 's/^/    /' "$SC_DIR/log"
        echo "FAIL $SC" >> "$RESDIR/results"
    fi
    [ -n "$SC_NOCOMPARE" ] && echo "$SC_NOCOMPARE" > "$SC_DIR/nocompare"
done
reset_state >/dev/null 2>&1 || true
rm -rf "$TMPBIN"
exit 0

#!/bin/bash
# tests/kernel/run.sh - tests against the REAL kernel mdev framework
# (`make test-kernel`).  Boots Debian's kernel in QEMU with the kernel's sample
# mdev driver mtty, runs every scenario of scenarios.sh with our mdevctl and
# with Debian's mdevctl 1.2.0 (one guest each), asserts kernel state, and
# compares the two implementations' exit statuses and stdout.
#
# Usage: bash tests/kernel/run.sh [--impl ours|debian|both] [--probe] [-v] [SCENARIO...]
#   --impl    which implementation(s) to run (default both)
#   --probe   instead of the scenarios, print the raw kernel facts (probe.sh)
#   -v        print every scenario's log, not only failing ones
# Environment: MDEVCTL_BIN (default: <repo>/dist installed with tools/install.sh
# into a staging dir, then run in the guest at its real paths /usr/sbin/mdevctl,
# /usr/lib/mdevctl, sandbox and all), CI (=true: not being
# able to boot a guest is a failure), MDEVCTL_KT_* (see vm.sh).
# Ends with "N passed, N failed"; exit 1 on failures.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MDEVCTL_BIN=${MDEVCTL_BIN:-}
DEBIAN_BIN=${MDEVCTL_DEBIAN_BIN:-/usr/bin/mdevctl}

IMPLS=both PROBE=0 VERB=0 ONLY=()
while [ $# -gt 0 ]; do
    case $1 in
        --impl) IMPLS=${2:-}; shift 2 ;;
        --impl=*) IMPLS=${1#--impl=}; shift ;;
        --probe) PROBE=1; shift ;;
        -v) VERB=1; shift ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) ONLY+=("$1"); shift ;;
    esac
done
case $IMPLS in ours|debian|both) ;; *) echo "run.sh: --impl ours|debian|both" >&2; exit 2 ;; esac

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }
T0=$(now)
PASSED=0 FAILED=0
pass_line() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail_line() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }

skip_all() {
    echo "kernel tests: cannot boot a test guest here: $*"
    if [ "${CI:-}" = true ]; then
        echo "kernel tests: CI=true, so this is a failure"
        echo "0 passed, 0 failed"; exit 1
    fi
    echo "kernel tests: skipped (outside CI this is not an error)"
    echo "0 passed, 0 failed"
    exit 0
}

# --- 1. host side: packages, mtty.ko, initramfs ------------------------------
echo "kernel tests: preparing (packages, mtty.ko, initramfs; cached after the first run)"
PREP_LOG=$(mktemp)
bash "$HERE/vm.sh" --prepare 2> "$PREP_LOG"
rc=$?
if [ $rc != 0 ]; then
    reason=$(grep -h 'vm.sh: ' "$PREP_LOG" | tail -n1 | sed 's/^vm.sh: \(cannot boot a guest: \)\{0,1\}//')
    [ $rc = 77 ] || tail -n 20 "$PREP_LOG" >&2
    rm -f "$PREP_LOG"
    skip_all "${reason:-preparation failed (exit $rc)}"
fi
grep -h '^vm.sh: installing' "$PREP_LOG"
rm -f "$PREP_LOG"
echo "kernel tests: host-side preparation $(secs "$T0")s"

# results: .cache/runs/<time>-<pid>, the newest also as .cache/last-run
mkdir -p "$HERE/.cache/runs"
RES=$HERE/.cache/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RES"
ln -sfn "runs/${RES##*/}" "$HERE/.cache/last-run"
ls -1d "$HERE/.cache/runs"/* | sort | head -n -3 | xargs -r rm -rf

if [ "$PROBE" = 1 ]; then
    bash "$HERE/vm.sh" -- bash "$HERE/probe.sh"
    exit $?
fi

# --- 2. one guest per implementation (in parallel unless MDEVCTL_KT_PARALLEL=0) ---
start_suite() {   # start_suite IMPL PROGRAM: boot in the background
    local impl=$1 prog=$2
    echo "kernel tests: booting a guest for $impl ($prog)"
    (
        t=$(now)
        MDEVCTL_KT_BOOTLOG=$RES/$impl.console.log \
            bash "$HERE/vm.sh" --rw "$RES" -- bash "$HERE/suite.sh" "$impl" "$prog" "$RES" \
            "${ONLY[@]+"${ONLY[@]}"}" > "$RES/$impl.out" 2> "$RES/$impl.err"
        echo "$? $(secs "$t")" > "$RES/$impl.rc"
    ) &
    if [ "${MDEVCTL_KT_PARALLEL:-1}" = 0 ]; then wait $!; fi
}
report_suite() {   # report_suite IMPL: print what its guest said
    local impl=$1 rc wall up
    read -r rc wall < "$RES/$impl.rc" || { rc=125; wall=?; }
    if [ "$VERB" = 1 ]; then
        cat "$RES/$impl.out"
        for f in "$RES/$impl"/*/log; do echo "--- $f"; cat "$f"; done
    else
        grep -v '^PASS \|^SKIP ' "$RES/$impl.out"
    fi
    up=$(sed -n 's/.*ktinit: command starts at uptime \([0-9.]*\)s.*/\1/p' "$RES/$impl.console.log" 2>/dev/null | head -n1)
    echo "kernel tests: $impl guest: ${up:-?}s from power-on to the command, ${wall}s wall in total (exit $rc)"
    if [ "$rc" != 0 ] || [ ! -f "$RES/$impl/results" ]; then
        fail_line "$impl: the guest did not complete (exit $rc)"
        sed 's/^/    /' "$RES/$impl.err" | tail -n 40
    fi
}

RUN_OURS=0 RUN_DEBIAN=0
[ "$IMPLS" != debian ] && RUN_OURS=1
[ "$IMPLS" != ours ] && RUN_DEBIAN=1
if [ "$RUN_DEBIAN" = 1 ] && [ ! -x "$DEBIAN_BIN" ]; then
    fail_line "debian: $DEBIAN_BIN not found"; RUN_DEBIAN=0
fi
OURS_PROG=$MDEVCTL_BIN
if [ "$RUN_OURS" = 1 ] && [ -z "$MDEVCTL_BIN" ]; then
    # The installed form: what the guest runs is what `make install` puts down.
    if [ ! -x "$REPO/dist/mdevctl" ]; then
        fail_line "ours: $REPO/dist/mdevctl not found (run make first)"; RUN_OURS=0
    elif ! DESTDIR=$RES/install PREFIX=/usr bash "$REPO/tools/install.sh" install > "$RES/install.log" 2>&1; then
        fail_line "ours: tools/install.sh into $RES/install failed"; sed 's/^/    /' "$RES/install.log"; RUN_OURS=0
    else
        OURS_PROG=stage:$RES/install
    fi
elif [ "$RUN_OURS" = 1 ] && [ ! -x "$MDEVCTL_BIN" ]; then
    fail_line "ours: $MDEVCTL_BIN not found or not executable (run make first)"; RUN_OURS=0
fi
[ "$RUN_OURS" = 1 ] && start_suite ours "$OURS_PROG"
[ "$RUN_DEBIAN" = 1 ] && start_suite debian "$DEBIAN_BIN"
wait
[ "$RUN_DEBIAN" = 1 ] && report_suite debian
[ "$RUN_OURS" = 1 ] && report_suite ours

# --- 3. results --------------------------------------------------------------
for impl in debian ours; do
    [ -f "$RES/$impl/results" ] || continue
    while read -r st name rest; do
        case $st in
            PASS) pass_line "$impl/$name" ;;
            FAIL) fail_line "$impl/$name (log: $RES/$impl/$name/log)" ;;
            SKIP) echo "SKIP $impl/$name: $rest" ;;
        esac
    done < "$RES/$impl/results"
done

# Same scenario, same exit statuses and stdout (generated uuids normalised,
# 1.2.0's extra trailing newline ignored) from both implementations.
if [ -f "$RES/ours/results" ] && [ -f "$RES/debian/results" ]; then
    while read -r st name rest; do
        [ "$st" = SKIP ] && continue
        grep -q "^[A-Z]* $name\$" "$RES/ours/results" || continue
        if [ -f "$RES/debian/$name/nocompare" ] || [ -f "$RES/ours/$name/nocompare" ]; then
            echo "SKIP compare/$name: $(cat "$RES"/*/"$name"/nocompare | head -n1)"
            continue
        fi
        if diff -u "$RES/debian/$name/transcript" "$RES/ours/$name/transcript" > "$RES/compare-$name.diff"; then
            pass_line "compare/$name (ours = Debian 1.2.0: exit statuses, stdout)"
            rm -f "$RES/compare-$name.diff"
        else
            fail_line "compare/$name (ours differs from Debian 1.2.0; --- debian +++ ours)"
            sed -n '3,$p' "$RES/compare-$name.diff" | head -n 40 | sed 's/^/    /'
        fi
    done < "$RES/debian/results"
fi

echo "kernel tests: total $(secs "$T0")s; logs and transcripts in $RES"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

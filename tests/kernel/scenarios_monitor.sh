# tests/kernel/scenarios_monitor.sh - monitor and wait against the real
# kernel (sourced by suite.sh after scenarios.sh; docs/monitor.md). New
# commands, so Debian's 1.2.0 skips them.

SCENARIOS+=(
    monitor-events
    wait-parent
)

# The suite runs chrooted, where udevadm refuses to work unless told not to
# mind (systemd's running_in_chroot check); without it both commands fall
# back to polling, which the fake-tree tests cover.
export SYSTEMD_IGNORE_CHROOT=1

# mon_wait FILE PATTERN [SECONDS]: waits until FILE has a line matching the
# bash pattern (Deno start-up under TCG takes seconds).
mon_wait() {
    local file=$1 pat=$2 n=$((${3:-60} * 10)) l
    while [ "$n" -gt 0 ]; do
        while IFS= read -r l; do [[ $l == $pat ]] && return 0; done < "$file"
        read -rt 0.1 <> <(:) || true
        n=$((n - 1))
    done
    return 1
}

# mon_ms ISO_TIME: milliseconds of the day of an RFC 3339 UTC time (REPLY).
mon_ms() {
    local t=${1#*T}; t=${t%Z}
    local h=${t%%:*} rest=${t#*:}; local m=${rest%%:*} s=${rest#*:}
    REPLY=$(( (10#$h * 3600 + 10#$m * 60 + 10#${s%.*}) * 1000 + 10#${s#*.} ))
}

# now_ms: milliseconds of the day now, UTC (REPLY).
now_ms() {
    local us=${EPOCHREALTIME/[.,]/}
    REPLY=$(( (us / 1000) % 86400000 ))
}

sc_monitor-events() {
    if [ "$IMPL" != ours ]; then SC_SKIP="monitor is not in 1.x"; return 0; fi
    local out=$SC_DIR/monitor.jsonl rec=$SC_DIR/udevadm.txt pid rpid rc t0 lat
    : > "$out"
    # The raw uevents too, as a recording for the parser's fixture.
    udevadm monitor --kernel --property > "$rec" 2>&1 & rpid=$!
    "$MDEVCTL" monitor --dumpjson --source udevadm --snapshot > "$out" 2> "$SC_DIR/monitor.err" &
    pid=$!
    check "monitor prints synced" mon_wait "$out" '*"event":"synced"*' 90
    # start/stop through mdevctl, then the driver going and coming back.
    mc start -p mtty -t mtty-2 -u "$U1"
    expect_rc 0
    check "started event" mon_wait "$out" "*\"event\":\"started\",\"uuid\":\"$U1\"*"
    now_ms; t0=$REPLY
    k_remove "$U1"
    check "stopped event" mon_wait "$out" "*\"event\":\"stopped\",\"uuid\":\"$U1\"*"
    local l; while IFS= read -r l; do
        if [[ $l == *'"event":"stopped"'* && $l =~ \"time\":\"([^\"]+)\" ]]; then
            mon_ms "${BASH_REMATCH[1]}"; lat=$((REPLY - t0))
        fi
    done < "$out"
    note "  latency of stopped (remove written -> event printed): ${lat:-?} ms"
    check "rmmod mtty" rmmod mtty
    check "parent-unregistered event" mon_wait "$out" '*"event":"parent-unregistered","parent":"mtty"*'
    check "insmod mtty.ko again" insmod /run/kt-mtty.ko
    check "parent-registered event" mon_wait "$out" '*"event":"parent-registered","parent":"mtty","source":"udevadm"*'
    kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
    kill -TERM "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
    check "monitor exits 0 on SIGTERM" test "$rc" = 0
    # The order of the non-initial device and parent events.
    local seen=() ev
    while IFS= read -r l; do
        [[ $l == *'"initial":true'* || $l != *'"source":"udevadm"'* ]] && continue
        [[ $l =~ \"event\":\"([a-z-]+)\" ]] && seen+=("${BASH_REMATCH[1]}")
    done < "$out"
    ev="${seen[*]}"
    note "  events: $ev"
    check "started, stopped, parent-unregistered, parent-registered in that order" \
        test "$ev" = "started stopped parent-unregistered parent-registered"
    readf "$SC_DIR/monitor.err"
    check "monitor printed no warning" test -z "$REPLY"
}

sc_wait-parent() {
    if [ "$IMPL" != ours ]; then SC_SKIP="wait is not in 1.x"; return 0; fi
    local pid rc t0 dt
    check "rmmod mtty" rmmod mtty
    "$MDEVCTL" wait -p mtty -t mtty-2 --timeout 300 > "$SC_DIR/wait.out" 2> "$SC_DIR/wait.err" &
    pid=$!
    # Long enough for Deno to start and block under TCG.
    read -rt 8 <> <(:) || true
    check "wait -p mtty still blocks while the module is out" kill -0 "$pid"
    now_ms; t0=$REPLY
    check "insmod mtty.ko" insmod /run/kt-mtty.ko
    rc=0; wait "$pid" || rc=$?
    now_ms; dt=$((REPLY - t0))
    note "  wait returned ${dt} ms after insmod"
    check "wait -p mtty exits 0 once the module is loaded" test "$rc" = 0
    readf "$SC_DIR/wait.err"
    check "wait printed nothing on stderr" test -z "$REPLY"
    check "wait -p mtty returned within 5 s of insmod" test "$dt" -lt 5000
    # And a missing type times out with start's top line.
    mc wait -p mtty -t mtty-9 --timeout 1
    expect_rc 1
    expect_err_starts "Error: Parent mtty does not support mdev type mtty-9"
    expect_err_has "timed out after 1 s waiting for \"/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-9\""
}

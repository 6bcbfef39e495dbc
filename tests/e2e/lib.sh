# tests/e2e/lib.sh - helpers for the guest side of the end-to-end suite
# (sourced).  Every check prints one line, `PASS <name>` or
# `FAIL <name>: <why>`; run.sh on the host counts them.
# shellcheck shell=bash

# Fixed uuids, so that both implementations' libvirt transcripts compare.
A1=e2e00000-0000-4000-8000-00000000a001   # auto, mtty-1
A2=e2e00000-0000-4000-8000-00000000a002   # auto, mtty-2
M1=e2e00000-0000-4000-8000-00000000b001   # manual, mtty-1
TYPES=/sys/class/mdev_bus/mtty/mdev_supported_types
OURS=/usr/sbin/mdevctl                    # installed by make install
DEBIAN=/usr/bin/mdevctl                   # Debian's 1.2.0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME WHY COMMAND...: one line, PASS when COMMAND succeeds.
check() {
    local name=$1 why=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.5 s until it succeeds.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.5
    done
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
running() { [ -e "/sys/bus/mdev/devices/$1" ]; }
not_running() { [ ! -e "/sys/bus/mdev/devices/$1" ]; }
all_of() { local u; for u in "$@"; do running "$u" || return 1; done; }
none_of() { local u; for u in "$@"; do running "$u" && return 1; done; return 0; }
# Which of the three boot-time definitions run, e.g. "A1 A2".
which_run() {
    local out=() n
    for n in A1 A2 M1; do running "${!n}" && out+=("$n"); done
    echo "${out[*]}"
}

# define_json PARENT UUID TYPE auto|manual: a definition written as a file,
# the way an administrator or a restored backup puts it there.
define_json() {
    mkdir -p "/etc/mdevctl.d/$1"
    printf '{\n  "mdev_type": "%s",\n  "start": "%s",\n  "attrs": []\n}\n' "$3" "$4" \
        > "/etc/mdevctl.d/$1/$2"
}
boot_definitions() {
    define_json mtty "$A1" mtty-1 auto
    define_json mtty "$A2" mtty-2 auto
    define_json mtty "$M1" mtty-1 manual
}

# Every mdev removed through sysfs, every definition removed (the 1.2.0
# start-up check needs scripts.d, kept).
reset_state() {
    local d
    for d in /sys/bus/mdev/devices/*; do
        [ -e "$d/remove" ] && echo 1 > "$d/remove"
    done
    for d in /etc/mdevctl.d/*; do
        case ${d##*/} in scripts.d|'*') ;; *) rm -rf "$d" ;; esac
    done
}

# record_rule_defines NAME UUID TYPE SETTLE: the opt-in record rule put in
# place, then an mdev of TYPE created through sysfs must become an auto
# definition (udevadm settle waits up to SETTLE seconds). One check, NAME.
record_rule_defines() {
    local name=$1 uuid=$2 type=$3 settle=$4 out
    cp /usr/share/mdevctl/61-mdevctl-record.rules /etc/udev/rules.d/
    udevadm control --reload
    echo "$uuid" > "$TYPES/$type/create"
    udevadm settle --timeout="$settle"
    wait_for 60 [ -f "/etc/mdevctl.d/mtty/$uuid" ]
    out=$($OURS list -d -u "$uuid" 2>&1)
    check "$name" "list -d: '$out'" [ "$out" = "$uuid mtty $type auto (active)" ]
}

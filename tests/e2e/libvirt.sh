# tests/e2e/libvirt.sh - libvirt as a client of mdevctl (sourced by
# systemd.sh): libvirtd 9.0 with the node-device driver only, driving
# Debian's mdevctl, then ours, through the same steps.  Each step's view of
# libvirt (nodedev-info, nodedev-dumpxml) goes into a transcript per
# implementation; the two must be identical.  A wrapper in front of each
# program logs its arguments, so the suite counts libvirt's refreshes
# (`list` runs) for the same scenario.
# shellcheck shell=bash

VIRSH=(virsh -q -c nodedev:///system)
KT=/run/kt
U1=e2e00000-0000-4000-8000-00000000e001   # nodedev-define'd
U2=e2e00000-0000-4000-8000-00000000e002   # defined behind libvirt's back
U3=e2e00000-0000-4000-8000-00000000e003   # transient, nodedev-create'd
name_of() { echo "mdev_${1//-/_}_mtty"; }

lv_start() { # IMPL BIN
    mkdir -p "$KT/bin-$1" "$KT/drivers"
    printf '#!/bin/sh\necho "$*" >> %s\necho "call: $*" >> %s\nexec %s "$@"\n' \
        "$KT/calls-$1" "$KT/events-$1" "$2" > "$KT/bin-$1/mdevctl"
    chmod 755 "$KT/bin-$1/mdevctl"
    : > "$KT/calls-$1"
    ln -sfn /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_nodedev.so "$KT/drivers/"
    cat > "$KT/libvirtd.conf" <<CONF
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
log_filters = "1:node_device 1:util.command"
log_outputs = "1:file:$RES/libvirtd-$1.log"
CONF
    env PATH="$KT/bin-$1:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        LIBVIRT_DRIVER_DIR="$KT/drivers" \
        libvirtd --config "$KT/libvirtd.conf" --daemon --pid-file "$KT/libvirtd.pid"
    wait_for 120 lv_ready
}
lv_ready() { "${VIRSH[@]}" nodedev-list --cap mdev_types 2>/dev/null | grep -qx mtty_mtty; }
lv_stop() {
    local pid
    pid=$(cat "$KT/libvirtd.pid" 2>/dev/null) || return 0
    kill "$pid"
    wait_for 30 eval '! kill -0 '"$pid"' 2>/dev/null'
}

# info_is UUID FIELD VALUE: libvirt's nodedev-info shows FIELD: VALUE.
info_is() {
    local out
    out=$("${VIRSH[@]}" nodedev-info "$(name_of "$1")" 2>/dev/null) || return 1
    [[ $out =~ (^|$'\n')"$2":\ +"$3"($'\n'|$) ]]
}
unknown_to_libvirt() { ! "${VIRSH[@]}" nodedev-info "$(name_of "$1")" > /dev/null 2>&1; }
# settle_on UUID FIELD VALUE...: waits (libvirt updates asynchronously)
settle_on() {
    local u=$1
    shift
    while [ $# -ge 2 ]; do
        wait_for 60 info_is "$u" "$1" "$2" || return 1
        shift 2
    done
}
# The transcript: what libvirt shows, normalised where runs differ by
# themselves (IOMMU group numbers grow with every device created).
show() { # STEP UUID
    echo "step done: $1" >> "$KT/events-$IMPL"
    {
        echo "## $1"
        "${VIRSH[@]}" nodedev-info "$(name_of "$2")" 2>&1 | sed 's/^error: .*/error: no such device/'
        "${VIRSH[@]}" nodedev-dumpxml "$(name_of "$2")" 2>/dev/null \
            | sed -E "s/number='[0-9]+'/number='N'/; s|/dev/vfio/[0-9]+|/dev/vfio/N|"
    } >> "$TRANSCRIPT"
}
mdev_xml() { # UUID TYPE
    printf '<device>\n  <parent>mtty_mtty</parent>\n  <capability type="mdev">\n    <type id="%s"/>\n    <uuid>%s</uuid>\n  </capability>\n</device>\n' "$2" "$1"
}
config_start() { sed -n 's/.*"start": *"\([a-z]*\)".*/\1/p' "/etc/mdevctl.d/mtty/$1" 2>/dev/null; }

lv_scenario() { # IMPL BIN
    local impl=$1 bin=$2 p="libvirt/$1" out
    IMPL=$impl
    reset_state
    TRANSCRIPT=$RES/libvirt-$impl.transcript
    : > "$TRANSCRIPT"
    local t0=$SECONDS
    if ! lv_start "$impl" "$bin"; then
        fail "$p/libvirtd-ready" "nodedev-list --cap mdev_types never listed mtty_mtty"
        lv_stop
        return
    fi
    : > "$KT/calls-$impl"   # count from here: the scenario, not the start-up
    # What libvirt's inotify sees, between the steps and the calls (diagnostics).
    local inw=
    if command -v inotifywait > /dev/null; then
        inotifywait -q -m -r -e modify,attrib,close_write,moved_from,moved_to,create,delete,delete_self \
            --format 'inotify: %e %w%f' /etc/mdevctl.d >> "$KT/events-$impl" 2>&1 &
        inw=$!
    fi
    out=$("${VIRSH[@]}" nodedev-list --cap mdev_types 2>&1)
    check "$p/list-mdev-types" "$out" [ "$out" = mtty_mtty ]
    out=$("${VIRSH[@]}" nodedev-dumpxml mtty_mtty 2>&1)
    { echo "## parent"; echo "$out"; } >> "$TRANSCRIPT"
    check "$p/parent-xml-types" "$out" eval '[[ $out == *"<type id='"'"'mtty-1'"'"'>"* &&
        $out == *"<type id='"'"'mtty-2'"'"'>"* && $out == *"<availableInstances>24</availableInstances>"* &&
        $out == *"<availableInstances>12</availableInstances>"* ]]'

    # nodedev-define -> start -> autostart / --disable -> destroy -> undefine
    mdev_xml "$U1" mtty-2 > "$KT/u1.xml"
    "${VIRSH[@]}" nodedev-define "$KT/u1.xml" > /dev/null 2>&1
    check "$p/define" "$(cat "/etc/mdevctl.d/mtty/$U1" 2>&1)" \
        eval 'settle_on "$U1" Persistent yes Active no && [ "$(config_start "$U1")" = manual ]'
    show define "$U1"
    "${VIRSH[@]}" nodedev-start "$(name_of "$U1")" > /dev/null 2>&1
    check "$p/start" "running: $(running "$U1" && echo yes)" \
        eval 'settle_on "$U1" Active yes && running "$U1"'
    show start "$U1"
    "${VIRSH[@]}" nodedev-autostart "$(name_of "$U1")" > /dev/null 2>&1
    check "$p/autostart" "config start: $(config_start "$U1")" \
        eval 'settle_on "$U1" Autostart yes && [ "$(config_start "$U1")" = auto ]'
    show autostart "$U1"
    "${VIRSH[@]}" nodedev-autostart --disable "$(name_of "$U1")" > /dev/null 2>&1
    check "$p/autostart-disable" "config start: $(config_start "$U1")" \
        eval 'settle_on "$U1" Autostart no && [ "$(config_start "$U1")" = manual ]'
    show autostart-disable "$U1"
    "${VIRSH[@]}" nodedev-destroy "$(name_of "$U1")" > /dev/null 2>&1
    check "$p/destroy" "device still running or definition lost" \
        eval 'settle_on "$U1" Active no Persistent yes && not_running "$U1" && [ -f "/etc/mdevctl.d/mtty/$U1" ]'
    show destroy "$U1"
    "${VIRSH[@]}" nodedev-undefine "$(name_of "$U1")" > /dev/null 2>&1
    check "$p/undefine" "libvirt still lists it or the definition stayed" \
        eval 'wait_for 60 unknown_to_libvirt "$U1" && [ ! -e "/etc/mdevctl.d/mtty/$U1" ]'
    show undefine "$U1"

    # nodedev-create of a transient device, then destroy
    mdev_xml "$U3" mtty-1 > "$KT/u3.xml"
    out=$("${VIRSH[@]}" nodedev-create "$KT/u3.xml" 2>&1)
    check "$p/create-transient" "$out" \
        eval 'settle_on "$U3" Active yes Persistent no && running "$U3" && [ ! -e "/etc/mdevctl.d/mtty/$U3" ]'
    show create-transient "$U3"
    "${VIRSH[@]}" nodedev-destroy "$(name_of "$U3")" > /dev/null 2>&1
    check "$p/destroy-transient" "still there" \
        eval 'wait_for 60 unknown_to_libvirt "$U3" && not_running "$U3"'
    show destroy-transient "$U3"

    # behind libvirt's back: the program alone changes things, libvirt follows
    "$bin" define -u "$U2" -p mtty -t mtty-1
    check "$p/behind-define" "libvirt did not show it defined" settle_on "$U2" Persistent yes Active no
    show behind-define "$U2"
    "$bin" start -u "$U2"
    check "$p/behind-start" "libvirt did not show it active" settle_on "$U2" Active yes
    show behind-start "$U2"
    "$bin" modify -u "$U2" --auto
    check "$p/behind-modify-auto" "libvirt did not show autostart" settle_on "$U2" Autostart yes
    show behind-modify-auto "$U2"
    "$bin" stop -u "$U2"
    check "$p/behind-stop" "libvirt did not show it inactive" settle_on "$U2" Active no Persistent yes
    show behind-stop "$U2"
    "$bin" undefine -u "$U2"
    check "$p/behind-undefine" "libvirt still lists it" wait_for 60 unknown_to_libvirt "$U2"
    show behind-undefine "$U2"
    # Let the last refreshes land before counting.
    sleep 3
    LIST_RUNS[$impl]=$(grep -c '^list' "$KT/calls-$impl")
    echo "e2e: libvirt with $impl: ${LIST_RUNS[$impl]} list runs, $(grep -vc '^list' "$KT/calls-$impl") other mdevctl runs, $((SECONDS - t0)) s"
    cp "$KT/calls-$impl" "$RES/libvirt-$impl.calls"
    [ -z "$inw" ] || kill "$inw"
    cp "$KT/events-$impl" "$RES/libvirt-$impl.events"
    lv_stop
}

libvirt_suite() {
    declare -gA LIST_RUNS=()
    rm -f /etc/udev/rules.d/61-mdevctl-record.rules   # would record libvirt's transient device
    lv_scenario debian "$DEBIAN"
    lv_scenario ours "$OURS"
    check libvirt/compare "$(diff "$RES/libvirt-debian.transcript" "$RES/libvirt-ours.transcript" | head -n 20)" \
        cmp -s "$RES/libvirt-debian.transcript" "$RES/libvirt-ours.transcript"
    check libvirt/refreshes-not-more-than-debian \
        "list runs: ours ${LIST_RUNS[ours]:-?}, Debian's ${LIST_RUNS[debian]:-?}" \
        [ "${LIST_RUNS[ours]:-999}" -le "${LIST_RUNS[debian]:-0}" ]
}

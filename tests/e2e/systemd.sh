#!/bin/bash
# tests/e2e/systemd.sh - the systemd guest's checks (runs as kt.service, with
# systemd as PID 1, udevd, journald; setup.sh installed the program and
# wrote the boot-time definitions; mtty was loaded before udev started).
# Usage: bash systemd.sh [PART...]   PART: boot vfio hotplug unit record libvirt
#        (default all).  Writes logs and transcripts to $RES.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$HERE/env.sh"   # REPO, RES
# shellcheck source=lib.sh
. "$HERE/lib.sh"
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(boot vfio hotplug unit record libvirt)
want() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

AUTOSTART=mdevctl-autostart@sys-devices-virtual-mtty-mtty.service
# Runs of the autostart unit so far: PID 1's "Starting" lines for it.
runs() { journalctl -b -q -o cat _PID=1 "UNIT=$AUTOSTART" | grep -c '^Starting '; }
unit_idle() {
    local s
    s=$(systemctl show -P ActiveState "$AUTOSTART")
    [ "$s" != activating ] && [ "$s" != reloading ]
}
runs_at_least() { [ "$(runs)" -ge "$1" ] && unit_idle; }

echo "e2e: systemd guest: kt.service started at uptime $(uptime_s) s" \
    "($(systemd-analyze 2>/dev/null | head -n1 || echo 'systemd-analyze: boot not finished'))"
udevadm settle --timeout=60

# --- cold plug: definitions existed before mtty was loaded -------------------
if want boot; then
    wait_for 180 runs_at_least 1
    echo "e2e: autostart unit done at uptime $(uptime_s) s"
    check systemd/coldplug-unit-ran-once "runs: $(runs)" [ "$(runs)" = 1 ]
    check systemd/coldplug-unit-succeeded \
        "$(systemctl show -p Result -p ExecMainStatus "$AUTOSTART" | tr '\n' ' ')" \
        [ "$(systemctl show -P Result "$AUTOSTART")" = success ]
    check systemd/coldplug-starts-exactly-auto "running: '$(which_run)'" \
        [ "$(which_run)" = "A1 A2" ]
    log=$(journalctl -b -q -o cat -u "$AUTOSTART")
    check systemd/coldplug-journal-started-lines "journal: $log" \
        eval '[[ $log == *"Started mdev $A1 (type mtty-1) on parent mtty"* &&
                 $log == *"Started mdev $A2 (type mtty-2) on parent mtty"* ]]'
fi

# --- mdevctl-apply.service: the host file applied at boot to fake NVIDIA VFs --
if want vfio; then
    APPLY=mdevctl-apply.service
    apply_done() {
        local s
        s=$(systemctl show -P ActiveState "$APPLY")
        [ "$s" = active ] || [ "$s" = failed ]
    }
    wait_for 300 apply_done
    echo "e2e: $APPLY done at uptime $(uptime_s) s"
    journalctl -b -q -o short-monotonic -u "$APPLY" > "$RES/apply.journal"
    check systemd/apply-unit-enabled "$(systemctl is-enabled "$APPLY" 2>&1)" \
        [ "$(systemctl is-enabled "$APPLY" 2>&1)" = enabled ]
    check systemd/apply-unit-succeeded \
        "$(systemctl show -p ActiveState -p Result -p ExecMainStatus "$APPLY" | tr '\n' ' ')" \
        [ "$(systemctl show -P Result "$APPLY")" = success ]
    before=$(systemctl show -P Before "$APPLY")
    after=$(systemctl show -P After "$APPLY")
    check systemd/apply-unit-ordering "Before=$before After=$after" \
        eval '[[ " $before " == *" libvirtd.service "* && " $before " == *" virtqemud.service "* &&
                 " $after " == *" nvidia-vgpu-mgr.service "* ]]'
    # It ran the wait, then apply, whose lines name each assignment.
    log=$(journalctl -b -q -o cat -u "$APPLY")
    want_lines=""
    for pf in $VFIO_PFS; do
        want_lines+="+ $(vfio_vf "$pf" 0) L40S-12Q (id 1411) assign rule=l40s slot=0 status=done
"
    done
    missing_lines=$(printf '%s' "$want_lines" | while IFS= read -r l; do
        [[ $log == *"$l"* ]] || echo "$l"
    done)
    check systemd/apply-journal-assign-lines "missing: '$missing_lines'; journal: $log" \
        [ -z "$missing_lines" ]
    got=""
    for pf in $VFIO_PFS; do
        got+="$(vfio_current "$(vfio_vf "$pf" 0)") $(vfio_current "$(vfio_vf "$pf" 1)") "
    done
    check systemd/apply-fake-tree-assigned "current_vgpu_type: $got" [ "$got" = "1411 0 1411 0 " ]
    check systemd/apply-ledger "$(cat "/var/lib/mdevctl/owners/$VFIO_OWNER.json" 2>&1)" \
        grep -Eq '"typeId": ?1411' "/var/lib/mdevctl/owners/$VFIO_OWNER.json"
    bad=$(grep -Ei 'permission denied|read-only file system|notcapable|requires .* access|operation not permitted|warning' "$RES/apply.journal")
    check systemd/apply-journal-clean "$bad" [ -z "$bad" ]
fi

# --- hot plug: rmmod/insmod, one registration = one run ----------------------
if want hotplug; then
    [ "$(which_run)" = "A1 A2" ] || { reset_state; boot_definitions; }
    before=$(runs)
    rmmod mtty
    check systemd/rmmod-removes-devices "running: '$(which_run)'" none_of "$A1" "$A2" "$M1"
    insmod /run/kt-mtty.ko
    udevadm settle --timeout=60
    wait_for 180 runs_at_least $((before + 1))
    # A second run would be queued by now; give it time to show anyway.
    sleep 5
    udevadm settle --timeout=60
    wait_for 60 unit_idle
    check systemd/hotplug-one-registration-one-run "runs: $before before insmod, $(runs) after" \
        [ "$(runs)" = $((before + 1)) ]
    check systemd/hotplug-restarts-exactly-auto "running: '$(which_run)'" [ "$(which_run)" = "A1 A2" ]
    check systemd/hotplug-unit-succeeded "$(systemctl show -P Result "$AUTOSTART")" \
        [ "$(systemctl show -P Result "$AUTOSTART")" = success ]
fi

# --- mdev@<uuid>.service ------------------------------------------------------
if want unit; then
    D=e2e00000-0000-4000-8000-00000000c001
    $OURS define -u "$D" -p mtty -t mtty-2
    # Deno's cache, warmed by make install: the unit's launcher may write it
    # (ReadWritePaths=) and points Deno at it. A notifier, which the program
    # runs with its own environment, records where.
    NOTE=/usr/lib/mdevctl/scripts.d/notifiers/e2e-deno-dir
    printf '#!/bin/sh\necho "${DENO_DIR:-unset}" > /run/lock/e2e-deno-dir\n' > "$NOTE"
    chmod 755 "$NOTE"
    check systemd/mdev@-start "$(systemctl start "mdev@$D.service" 2>&1)" \
        systemctl start "mdev@$D.service"
    check systemd/mdev@-device-present "not running" running "$D"
    rm -f "$NOTE"
    check systemd/unit-uses-deno-cache \
        "DENO_DIR '$(cat /run/lock/e2e-deno-dir 2>&1)'; $(ls -l /var/cache/mdevctl/deno 2>&1 | tr '\n' ' ')" \
        eval '[ "$(cat /run/lock/e2e-deno-dir)" = /var/cache/mdevctl/deno ] &&
              [ -s /var/cache/mdevctl/deno/v8_code_cache_v2 ]'
    rm -f /run/lock/e2e-deno-dir
    mkdir -p /run/systemd/system /run/kt
    cat > /run/systemd/system/kt-consumer.service <<UNIT
[Unit]
Description=A consumer of mdev $D (as a virtual machine would be)
Requires=mdev@$D.service
After=mdev@$D.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'if test -e /sys/bus/mdev/devices/$D; then echo present; else echo absent; fi > /run/kt/consumer.out'
UNIT
    systemctl daemon-reload
    check systemd/mdev@-stop "$(systemctl stop "mdev@$D.service" 2>&1)" systemctl stop "mdev@$D.service"
    check systemd/mdev@-device-gone "still running" not_running "$D"
    check systemd/mdev@-definition-kept "definition missing" [ -f "/etc/mdevctl.d/mtty/$D" ]
    # Starting the consumer pulls in and orders after mdev@D: the device is
    # there when the consumer starts.
    systemctl start kt-consumer.service
    check systemd/requires-after-device-present "consumer saw: $(cat /run/kt/consumer.out 2>&1)" \
        [ "$(cat /run/kt/consumer.out 2>/dev/null)" = present ]
    check systemd/requires-pulled-mdev@ "$(systemctl is-active "mdev@$D.service")" \
        systemctl -q is-active "mdev@$D.service"
    systemctl stop kt-consumer.service "mdev@$D.service"
    $OURS undefine -u "$D"
    # Hardening is real: the unit as installed runs under ProtectSystem=strict
    # and still wrote /sys and its lock; nothing in the journal complains.
    check systemd/units-sandboxed "ProtectSystem=$(systemctl show -P ProtectSystem "mdev@$D.service")" \
        [ "$(systemctl show -P ProtectSystem "mdev@$D.service")" = strict ]
fi

# --- the opt-in record rule ----------------------------------------------------
if want record; then
    R=e2e00000-0000-4000-8000-00000000d001
    record_rule_defines systemd/record-rule-defines-auto "$R" mtty-1 60
    rm -f /etc/udev/rules.d/61-mdevctl-record.rules
    udevadm control --reload
    $OURS stop -u "$R"
    $OURS undefine -u "$R"
fi

if want libvirt; then
    # shellcheck source=libvirt.sh
    . "$HERE/libvirt.sh"
    libvirt_suite
fi

# --- the journal of every unit under test: no permission error, no Deno warning
if want boot || want hotplug || want unit; then
    journalctl -b -q -o short-monotonic -u 'mdev@*' -u 'mdevctl-autostart@*' > "$RES/units.journal"
    bad=$(grep -Ei 'permission denied|read-only file system|notcapable|requires .* access|operation not permitted|cache|warning' "$RES/units.journal")
    check systemd/units-journal-clean "$bad" [ -z "$bad" ]
fi
journalctl -b -q -o short-monotonic > "$RES/systemd-guest.journal" 2>&1
exit 0

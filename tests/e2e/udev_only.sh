#!/bin/bash
# tests/e2e/udev_only.sh - the RUN fallback: udevd alone, no systemd (the
# guest of tests/kernel: busybox init, chroot; mtty was loaded before udevd
# started, as at boot).  The rule must run the autostart itself, once per
# registration: once for the coldplug replay, once per rmmod/insmod.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$HERE/env.sh"   # REPO, RES
# shellcheck source=lib.sh
. "$HERE/lib.sh"
export SYSTEMD_IGNORE_CHROOT=1   # else udevadm trigger/settle ignore requests in a chroot
P=udev-only

make -s -C "$REPO" install PREFIX=/usr > "$RES/udev-only-install.log" 2>&1 \
    || { fail "$P/make-install" "$(tail -n 5 "$RES/udev-only-install.log")"; exit 0; }
boot_definitions
# The RUN line pipes into logger: a syslog to read it back.
busybox syslogd -n -O "$RES/udev-only.syslog" & SYSLOGD=$!
/lib/systemd/systemd-udevd --debug 2> "$RES/udev-only-udevd.log" & UDEVD=$!
wait_for 30 [ -S /run/udev/control ]
# Runs of the autostart so far, from udevd's own account of what it ran.
runs() { grep -c "Running command.*mdevctl-autostart mtty" "$RES/udev-only-udevd.log"; }

udevadm trigger --action=add
udevadm settle --timeout=120
check "$P/coldplug-one-run" "runs: $(runs)" [ "$(runs)" = 1 ]
check "$P/coldplug-starts-exactly-auto" "running: '$(which_run)'" [ "$(which_run)" = "A1 A2" ]

rmmod mtty
udevadm settle --timeout=60
insmod /run/kt-mtty.ko
udevadm settle --timeout=120
check "$P/hotplug-one-registration-one-run" "runs: $(runs) (1 before insmod)" [ "$(runs)" = 2 ]
check "$P/hotplug-restarts-exactly-auto" "running: '$(which_run)'" [ "$(which_run)" = "A1 A2" ]
sleep 1
started=$(grep -c "mdevctl: Started mdev" "$RES/udev-only.syslog")
check "$P/syslog-started-lines" "$started Started lines in syslog (4 expected)" [ "$started" = 4 ]

# The opt-in record rule, its RUN fallback: an mdev created through sysfs
# becomes an auto definition.
R=e2e00000-0000-4000-8000-00000000d002
record_rule_defines "$P/record-rule-defines-auto" "$R" mtty-2 120
kill "$UDEVD" "$SYSLOGD" 2>/dev/null
exit 0

#!/bin/bash
# tests/e2e/package.sh - the Debian package in the systemd guest (runs as
# kt.service; the guest's root is the host's under a tmpfs overlay, so
# dpkg and apt change nothing on the host). Nothing of ours is installed at
# boot (package_setup.sh installs nothing); mtty was loaded before udev.
#
#   1. Debian's mdevctl installed (its .deb put back, checked with dpkg -V),
#      two devices defined with it (one auto), libvirtd running;
#   2. apt-get install ./mdevctl-deno_*.deb: Debian's package goes in the
#      same step, the definitions, version, rule and units are ours, nothing
#      broken;
#   3. rmmod/insmod mtty: our rule and unit start the auto device once,
#      libvirt lists it;
#   4. upgrade to the rebuilt package with a higher revision: state kept,
#      cache warmed again, no prompt;
#   5. apt-get remove keeps definitions, ledger and cache; purge leaves
#      nothing of ours but the definitions (a listing of the file system
#      against the one taken before step 2); Debian's package reinstalled
#      lists the same definitions.
#
# Environment (env.sh, from run.sh): PKG_DEB, PKG_DEB_UPGRADE (the two
# builds), PKG_DEBIAN_DEB (Debian's mdevctl .deb), PKG_VERSION.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$HERE/env.sh" # REPO, RES, PKG_*
# shellcheck source=lib.sh
. "$HERE/lib.sh"
P=package
DEBIAN_BIN=/usr/bin/mdevctl
KT=/run/kt
mkdir -p "$KT"
export APT_LISTCHANGES_FRONTEND=none
APT=(apt-get -q -o Dpkg::Use-Pty=0)
AUTOSTART=mdevctl-autostart@sys-devices-virtual-mtty-mtty.service
VIRSH=(virsh -q -c nodedev:///system)
T0=$SECONDS
step() { echo "e2e: package: $1 (at $((SECONDS - T0)) s)"; }
# timed NAME COMMAND...: runs COMMAND (its status is kept), says how long it took.
timed() {
    local name=$1 t=$SECONDS rc
    shift
    "$@"
    rc=$?
    echo "e2e: package:   $name took $((SECONDS - t)) s" >&3
    return $rc
}
exec 3>&1

runs() { journalctl -b -q -o cat _PID=1 "UNIT=$AUTOSTART" | grep -c '^Starting '; }
unit_idle() {
    local s
    s=$(systemctl show -P ActiveState "$AUTOSTART")
    [ "$s" != activating ] && [ "$s" != reloading ]
}
runs_at_least() { [ "$(runs)" -ge "$1" ] && unit_idle; }
status_of() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
definitions() { find /etc/mdevctl.d -path /etc/mdevctl.d/scripts.d -prune -o -type f -print | sort; }
mounted() { findmnt -rn -o TARGET | grep -q "^/usr/lib/mdevctl/"; }
name_of() { echo "mdev_${1//-/_}_mtty"; }

# The file system, compared between two moments without walking the whole
# root (over 9p, under TCG, that takes many minutes): everything the guest
# changed since it booted is in the overlay's upper layer, the rest is the
# host's root as it was (vm.sh binds both under /run/kt-layers). A snapshot
# records which paths of the upper layer exist in the guest's root; paths
# the upper layer gains later existed before if the lower layer has them.
# Left out: the bookkeeping of dpkg and apt and the logs, whose files
# change with every operation, whoever's package it is.
LAYERS=/run/kt-layers
VOLATILE='^/(var/log|var/lib/apt|var/cache/apt|var/cache/debconf|var/lib/dpkg/(updates|triggers|[a-z]*-old|lock|lock-frontend|triggers/.*))(/|$)'
upper_paths() {
    (cd "$LAYERS/upper" && find . -mindepth 1) | sed 's|^\.||' | grep -Ev "$VOLATILE" | LC_ALL=C sort
}
existing() { while read -r p; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done; }
snapshot() { # NAME: $RES/package-fs-NAME.{upper,exists}
    upper_paths > "$RES/package-fs-$1.upper"
    existing < "$RES/package-fs-$1.upper" > "$RES/package-fs-$1.exists"
}
# compare_with BEFORE: writes $RES/package-fs-{added,removed}.list, the
# paths that exist now and did not at BEFORE, and the other way round.
compare_with() {
    local b=$RES/package-fs-$1 n=$RES/package-fs-now
    upper_paths > "$n.upper"
    LC_ALL=C sort -u "$b.upper" "$n.upper" | existing > "$n.exists"
    # Paths new in the upper layer existed before when the host has them.
    LC_ALL=C comm -13 "$b.upper" "$n.upper" | while read -r p; do
        if [ -e "$LAYERS/lower$p" ] || [ -L "$LAYERS/lower$p" ]; then echo "$p"; fi
    done | LC_ALL=C sort -u - "$b.exists" > "$b.existed"
    LC_ALL=C comm -13 "$b.existed" "$n.exists" > "$RES/package-fs-added.list"
    LC_ALL=C comm -23 "$b.existed" "$n.exists" > "$RES/package-fs-removed.list"
}

libvirt_start() { # libvirtd as its unit would run it: the same PATH, no wrapper
    mkdir -p "$KT/drivers"
    ln -sfn /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_nodedev.so "$KT/drivers/"
    cat > "$KT/libvirtd.conf" <<CONF
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
log_filters = "1:util.command"
log_outputs = "1:file:$RES/package-libvirtd.log"
CONF
    env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LIBVIRT_DRIVER_DIR="$KT/drivers" \
        libvirtd --config "$KT/libvirtd.conf" --daemon --pid-file "$KT/libvirtd.pid"
    wait_for 120 eval '"${VIRSH[@]}" nodedev-list --cap mdev_types 2>/dev/null | grep -qx mtty_mtty'
}
libvirt_stop() {
    local pid
    pid=$(cat "$KT/libvirtd.pid" 2>/dev/null) || return 0
    kill "$pid"
    wait_for 30 eval '! kill -0 '"$pid"' 2>/dev/null'
}
libvirt_lists() { "${VIRSH[@]}" nodedev-list --cap mdev "$@" 2>/dev/null; }

for f in "${PKG_DEB:-}" "${PKG_DEB_UPGRADE:-}" "${PKG_DEBIAN_DEB:-}"; do
    [ -f "$f" ] || { fail "$P/inputs" "missing package file '$f'"; exit 0; }
done

# --- 1. Debian's mdevctl, two definitions, libvirt ---------------------------
step "1. Debian's mdevctl"
# man-db's trigger reindexes every manual page after each dpkg run: minutes
# under TCG over 9p, and nothing this test looks at.
rm -f /var/lib/man-db/auto-update
reset_state
timed "dpkg -i Debian's" dpkg -i "$PKG_DEBIAN_DEB" > "$RES/package-1-debian.log" 2>&1
check $P/1-debian-installed "status '$(status_of mdevctl)', dpkg -V: $(dpkg -V mdevctl 2>&1)" \
    eval '[ "$(status_of mdevctl)" = ii ] && [ -z "$(dpkg -V mdevctl 2>&1)" ]'
check $P/1-nothing-of-ours "$(ls -d /usr/sbin/mdevctl /usr/lib/mdevctl /var/cache/mdevctl 2>&1)" \
    eval '[ ! -e /usr/sbin/mdevctl ] && [ ! -e /usr/lib/mdevctl ] && [ ! -e /var/cache/mdevctl ] &&
          [ "$(status_of mdevctl-deno)" != ii ]'
$DEBIAN_BIN define -u "$A1" -p mtty -t mtty-1 --auto
$DEBIAN_BIN define -u "$M1" -p mtty -t mtty-2
DEFINED=$($DEBIAN_BIN list -d 2>&1)
check $P/1-debian-defines "list -d: $DEFINED" \
    [ "$DEFINED" = "$A1 mtty mtty-1 auto"$'\n'"$M1 mtty mtty-2 manual" ]
# A stand-in for libvirt-daemon-system's Recommends: mdevctl, stricter (a
# Depends), unless the real package is installed.
if [ "$(status_of libvirt-daemon-system)" = ii ]; then
    CONSUMER=libvirt-daemon-system
else
    CONSUMER=e2e-needs-mdevctl
    mkdir -p "$KT/consumer/DEBIAN"
    printf 'Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: e2e <e2e@mdevctl.invalid>\nDepends: mdevctl\nRecommends: mdevctl\nDescription: depends on mdevctl, as libvirt-daemon-system recommends it\n' \
        "$CONSUMER" > "$KT/consumer/DEBIAN/control"
    dpkg-deb -b "$KT/consumer" "$KT/consumer.deb" > /dev/null && dpkg -i "$KT/consumer.deb" > /dev/null
fi
check $P/1-consumer-installed "$CONSUMER: '$(status_of "$CONSUMER")'" [ "$(status_of "$CONSUMER")" = ii ]
timed "libvirtd start" libvirt_start
check $P/1-libvirt-running-lists-definitions "nodedev-list --cap mdev --all: $(libvirt_lists --all | tr '\n' ' ')" \
    eval 'wait_for 60 eval "libvirt_lists --all | grep -qx $(name_of "$A1")"'
# Debian's files by the names find sees (/lib/udev/... is /usr/lib/udev/...).
dpkg -L mdevctl | while read -r f; do
    d=$(readlink -f "$(dirname "$f")")
    [ "$d" = / ] && d=
    echo "$d/${f##*/}"
done > "$KT/debian-files"
ls -d /var/lib/dpkg/info/mdevctl.* >> "$KT/debian-files" # dpkg's record of it
# and the stand-in's, which step 5 removes first
[ "$CONSUMER" = libvirt-daemon-system ] || ls -d "/var/lib/dpkg/info/$CONSUMER".* >> "$KT/debian-files"
LC_ALL=C sort -u "$KT/debian-files" > "$RES/package-debian-files.list"
lv_calls() { grep -c "mdevctl list" "$RES/package-libvirtd.log" 2>/dev/null; }
LV_CALLS=$(lv_calls)
check $P/1-layers-visible "$(ls -d $LAYERS/upper/etc $LAYERS/lower/usr 2>&1)" \
    eval '[ -d $LAYERS/upper/etc/mdevctl.d ] && [ -d $LAYERS/lower/usr/bin ]'
timed snapshot snapshot before

# --- 2. apt install ./mdevctl-deno_*.deb ------------------------------------
step "2. apt-get install ${PKG_DEB##*/}"
timed "apt-get install" "${APT[@]}" install -y "$PKG_DEB" > "$RES/package-2-install.log" 2>&1 < /dev/null
rc=$?
check $P/2-install-succeeds "exit $rc: $(tail -n 5 "$RES/package-2-install.log")" [ $rc = 0 ]
check $P/2-debian-removed-same-step "mdevctl '$(status_of mdevctl)', mdevctl-deno '$(status_of mdevctl-deno)'" \
    eval 'grep -q "^Removing mdevctl (" "$RES/package-2-install.log" &&
          [ "$(status_of mdevctl)" != ii ] && [ "$(status_of mdevctl-deno)" = ii ]'
out=$(mdevctl list -d 2>&1)
check $P/2-lists-debian-definitions "$(command -v mdevctl) list -d: $out" [ "$out" = "$DEFINED" ]
v1=$(mdevctl --version 2>&1) v2=$(/usr/bin/mdevctl --version 2>&1)
check $P/2-version-ours "/usr/sbin: '$v1', /usr/bin: '$v2'" \
    eval '[ "$v1" = "mdevctl $PKG_VERSION" ] && [ "$v2" = "$v1" ] && [ "$(command -v mdevctl)" = /usr/sbin/mdevctl ]'
check $P/2-files-intact "dpkg -V: $(dpkg -V mdevctl-deno 2>&1)" eval '[ -z "$(dpkg -V mdevctl-deno 2>&1)" ]'
check $P/2-udev-rule-ours "$(dpkg -S /usr/lib/udev/rules.d/60-mdevctl.rules 2>&1)" \
    eval '[ "$(dpkg -S /usr/lib/udev/rules.d/60-mdevctl.rules 2>&1)" = "mdevctl-deno: /usr/lib/udev/rules.d/60-mdevctl.rules" ] &&
          grep -q "SYSTEMD_WANTS}+=\"mdevctl-autostart@.service\"" /lib/udev/rules.d/60-mdevctl.rules'
u=mdevctl-autostart@x.service # (systemd names it by /lib, the same directory)
check $P/2-units-ours-loaded "$(systemctl show -p FragmentPath -p NeedDaemonReload -p ExecStart "$u" | tr '\n' ' ')" \
    eval '[ "$(systemctl show -P FragmentPath "$u")" -ef /usr/lib/systemd/system/mdevctl-autostart@.service ] &&
          [ "$(systemctl show -P NeedDaemonReload "$u")" = no ] &&
          systemctl show -P ExecStart "$u" | grep -q /usr/sbin/mdevctl'
check $P/2-cache-warm "$(ls -l /var/cache/mdevctl/deno 2>&1 | tr '\n' ' ')" [ -s /var/cache/mdevctl/deno/v8_code_cache_v2 ]
out=$(timed "apt-get check" apt-get check 2>&1)
rc=$?
check $P/2-apt-get-check "exit $rc: $out" [ $rc = 0 ]
check $P/2-consumer-still-installed "$CONSUMER: '$(status_of "$CONSUMER")'" [ "$(status_of "$CONSUMER")" = ii ]
# apt's resolver, asked to install libvirt-daemon-system with its
# Recommends: ours satisfies the mdevctl it recommends.
timed "apt-get -s" apt-get -s -o APT::Install-Recommends=true install libvirt-daemon-system > "$KT/sim-ours" 2>&1
check $P/2-libvirt-recommends-satisfied "$(grep -E '^(Inst|Remv) mdevctl' "$KT/sim-ours")" \
    eval 'grep -q "^Inst libvirt-daemon-system \|^libvirt-daemon-system is already" "$KT/sim-ours" &&
          ! grep -qE "^(Inst mdevctl |Remv mdevctl-deno )" "$KT/sim-ours"'

# --- 3. rmmod/insmod: our rule and unit, libvirt -----------------------------
step "3. rmmod/insmod mtty"
before=$(runs)
rmmod mtty
insmod /run/kt-mtty.ko
udevadm settle --timeout=60
wait_for 180 runs_at_least $((before + 1))
sleep 5 # a second run would be queued by now
udevadm settle --timeout=60
wait_for 60 unit_idle
check $P/3-autostart-once "unit runs: $before before insmod, $(runs) after" [ "$(runs)" = $((before + 1)) ]
check $P/3-starts-exactly-auto "running: '$(which_run)'" [ "$(which_run)" = A1 ]
n=$(journalctl -b -q -o cat -u "$AUTOSTART" | grep -c "Started mdev $A1 ")
check $P/3-started-once "$n 'Started mdev $A1' lines in the unit's journal" [ "$n" = 1 ]
check $P/3-libvirt-lists-it "nodedev-list --cap mdev: $(libvirt_lists | tr '\n' ' ')" \
    eval 'wait_for 60 eval "libvirt_lists | grep -qx $(name_of "$A1")"'
# libvirtd looks mdevctl up in its PATH at each call (and logs the bare
# name): every mdevctl there is ours now, and it did call one since.
lv_path=$(tr '\0' '\n' < "/proc/$(cat "$KT/libvirtd.pid")/environ" | sed -n 's/^PATH=//p')
found=$(IFS=:; for d in $lv_path; do [ -e "$d/mdevctl" ] && echo "$d/mdevctl -> $(readlink -f "$d/mdevctl")"; done)
check $P/3-libvirt-runs-ours "libvirtd's PATH '$lv_path' finds: $found; mdevctl list runs: $LV_CALLS before install, $(lv_calls) now" \
    eval '[ -n "$found" ] && ! grep -v -- "-> /usr/sbin/mdevctl$" <<< "$found" | grep -q . &&
          [ "$(lv_calls)" -gt "$LV_CALLS" ]'

# A host file's ledger, state that upgrade and remove must keep.
printf 'version: 1\nowner: e2e\ndevices:\n  - { id: ledger, parent: mtty, type: mtty-2, start: manual }\n' > "$KT/host.yaml"
mdevctl apply -f "$KT/host.yaml" > "$KT/apply.out" 2>&1
LEDGER=/var/lib/mdevctl/owners/e2e.json
check $P/3-apply-writes-ledger "$(cat "$KT/apply.out")" [ -s "$LEDGER" ]

# --- 4. upgrade -----------------------------------------------------------------
step "4. upgrade to ${PKG_DEB_UPGRADE##*/}"
DEFINED=$(mdevctl list -d 2>&1)
ACTIVE=$(mdevctl list 2>&1)
LEDGER_SUM=$(sha256sum "$LEDGER" 2>&1)
touch /var/cache/mdevctl/deno/stale-entry
touch "$KT/upgrade-start"
check $P/4-views-bound-before "no bind at /usr/lib/mdevctl/sysfs after a run as root" mounted
timed "apt-get install (upgrade)" "${APT[@]}" install "$PKG_DEB_UPGRADE" > "$RES/package-4-upgrade.log" 2>&1 < /dev/null
rc=$?
check $P/4-upgrade-succeeds "exit $rc: $(tail -n 5 "$RES/package-4-upgrade.log")" [ $rc = 0 ]
v=$(dpkg-query -W -f='${Version}' mdevctl-deno)
check $P/4-higher-version "installed: $v" \
    eval '[ "$v" = "$(dpkg-deb -f "$PKG_DEB_UPGRADE" Version)" ] && dpkg --compare-versions "$v" gt "$(dpkg-deb -f "$PKG_DEB" Version)"'
check $P/4-no-prompt "$(grep -i -m3 'configuration file\|\*\*\*' "$RES/package-4-upgrade.log")" \
    eval '! grep -qi "configuration file\|\*\*\*" "$RES/package-4-upgrade.log"'
check $P/4-state-kept "list -d: $(mdevctl list -d 2>&1 | tr '\n' ' '); list: $(mdevctl list 2>&1 | tr '\n' ' ')" \
    eval '[ "$(mdevctl list -d 2>&1)" = "$DEFINED" ] && [ "$(mdevctl list 2>&1)" = "$ACTIVE" ] &&
          [ "$(sha256sum "$LEDGER" 2>&1)" = "$LEDGER_SUM" ]'
check $P/4-cache-rewarmed "$(ls -l --time-style=+%s /var/cache/mdevctl/deno 2>&1 | tr '\n' ' ')" \
    eval '[ ! -e /var/cache/mdevctl/deno/stale-entry ] && [ -s /var/cache/mdevctl/deno/v8_code_cache_v2 ] &&
          [ /var/cache/mdevctl/deno/v8_code_cache_v2 -nt "$KT/upgrade-start" ]'
check $P/4-files-intact "dpkg -V: $(dpkg -V mdevctl-deno 2>&1)" eval '[ -z "$(dpkg -V mdevctl-deno 2>&1)" ]'

# --- 5. remove, purge, Debian's package back ------------------------------------
step "5. remove, purge"
# The stand-in has shown that ours satisfies a Depends through install and
# upgrade; apt would remove it with ours (nothing else provides mdevctl),
# which libvirt-daemon-system, recommending only, does not ask for.
[ "$CONSUMER" = libvirt-daemon-system ] || dpkg -P "$CONSUMER" > /dev/null
mdevctl list > /dev/null 2>&1 # as root: binds the views again
DEFS=$(definitions)
check $P/5-views-bound-before-remove "no bind at /usr/lib/mdevctl/sysfs" mounted
timed "apt-get remove" "${APT[@]}" remove -y mdevctl-deno > "$RES/package-5-remove.log" 2>&1 < /dev/null
rc=$?
check $P/5-remove-succeeds "exit $rc: $(tail -n 5 "$RES/package-5-remove.log")" \
    eval '[ $rc = 0 ] && [ "$(sed -n "/REMOVED:/{n;p}" "$RES/package-5-remove.log")" = "  mdevctl-deno" ]'
check $P/5-remove-unmounts-views "$(findmnt -rn -o TARGET | grep /usr/lib/mdevctl; ls -d /usr/lib/mdevctl 2>&1)" \
    eval '! mounted && [ ! -e /usr/lib/mdevctl ] && ! grep -q "/usr/lib/mdevctl.*not empty" "$RES/package-5-remove.log"'
check $P/5-remove-keeps-state "definitions: $(definitions | tr '\n' ' '); $(ls -d "$LEDGER" /var/cache/mdevctl/deno 2>&1 | tr '\n' ' ')" \
    eval '[ "$(definitions)" = "$DEFS" ] && [ -s "$LEDGER" ] && [ -d /var/cache/mdevctl/deno ] && [ ! -e /usr/sbin/mdevctl ]'
timed "apt-get purge" "${APT[@]}" purge -y mdevctl-deno > "$RES/package-5-purge.log" 2>&1 < /dev/null
rc=$?
check $P/5-purge-succeeds "exit $rc: $(tail -n 5 "$RES/package-5-purge.log")" [ $rc = 0 ]
check $P/5-purge-removes-cache-and-ledger "$(ls -d /var/cache/mdevctl /var/lib/mdevctl 2>&1 | tr '\n' ' ')" \
    eval '[ ! -e /var/cache/mdevctl ] && [ ! -e /var/lib/mdevctl ]'
check $P/5-purge-keeps-definitions "definitions: $(definitions | tr '\n' ' ')" [ "$(definitions)" = "$DEFS" ]
check $P/5-purge-no-diversion "$(dpkg-divert --list '*mdevctl*')" eval '[ -z "$(dpkg-divert --list "*mdevctl*")" ]'
timed comparison compare_with before
LC_ALL=C comm -23 "$RES/package-fs-removed.list" "$RES/package-debian-files.list" \
    > "$RES/package-fs-removed-not-debian.list"
ledger_def=$(definitions | grep -v -e "$A1" -e "$M1")
check $P/5-nothing-left "added: $(tr '\n' ' ' < "$RES/package-fs-added.list")" \
    eval '[ "$(cat "$RES/package-fs-added.list")" = "$ledger_def" ] && [ -n "$ledger_def" ]'
check $P/5-only-debian-files-gone "removed besides Debian's files: $(head -n 20 "$RES/package-fs-removed-not-debian.list" | tr '\n' ' ')" \
    eval '[ ! -s "$RES/package-fs-removed-not-debian.list" ]'
# The resolver check of step 2 can fail: with no mdevctl at all, apt wants Debian's.
timed "apt-get -s" apt-get -s -o APT::Install-Recommends=true install libvirt-daemon-system > "$KT/sim-none" 2>&1
check $P/5-recommends-check-discriminates "$(grep -c '^Inst mdevctl ' "$KT/sim-none") 'Inst mdevctl' lines" \
    grep -q "^Inst mdevctl " "$KT/sim-none"
step "5. Debian's package again"
timed "apt-get install Debian's" "${APT[@]}" install -y "$PKG_DEBIAN_DEB" > "$RES/package-5-debian.log" 2>&1 < /dev/null
rc=$?
out=$($DEBIAN_BIN list -d 2>&1)
check $P/5-debian-lists-same-definitions "exit $rc; list -d: $out" \
    eval '[ $rc = 0 ] && [ "$out" = "$DEFINED" ] && [ -z "$(dpkg -V mdevctl 2>&1)" ]'
libvirt_stop
step "done"
exit 0

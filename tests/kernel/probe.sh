#!/bin/bash
# tests/kernel/probe.sh - runs INSIDE the test guest (`run.sh --probe`): pokes
# the real mdev sysfs ABI directly (no mdevctl) and prints what the kernel
# does.  The findings are written down in tests/kernel/README.md.
set -u
if [ "${KT_GUEST:-}" != 1 ]; then echo "probe.sh: only inside the test guest" >&2; exit 125; fi
P=/sys/class/mdev_bus/mtty
T=$P/mdev_supported_types
D=/sys/bus/mdev/devices
U=22222222-2222-4222-8222-000000000001
V=22222222-2222-4222-8222-000000000002

# w FILE VALUE: write VALUE (no newline) with one write(2); print the outcome.
w() { local r; if r=$( { printf '%s' "$2" > "$1"; } 2>&1 ); then echo "ok"; else echo "${r##*: }"; fi; }
ms() { echo $(( (${EPOCHREALTIME/[.,]/} - $1) / 1000 ))ms; }

echo "kernel: $(uname -r)"
echo "== parent"
echo "/sys/class/mdev_bus/mtty: $(stat -c %F $P) -> $(readlink $P)"
echo "canonical: $(readlink -f $P)"
echo "parent dir: $(ls $P | tr '\n' ' ')"
echo "parent uevent: $(tr '\n' ' ' < $P/uevent)"
echo "== types"
for t in $T/*; do
    echo "$(basename "$t"): $(ls -l "$t" | awk 'NR > 1 { printf "%s %s, ", $1, $NF }')"
    for f in name available_instances device_api description; do
        [ -e "$t/$f" ] && printf '  %s = %q\n' "$f" "$(cat "$t/$f"; echo x)" || echo "  $f: absent"
    done
done
echo "== create"
t0=${EPOCHREALTIME/[.,]/}; r=$(w $T/mtty-2/create $U); el=$(ms $t0)
echo "create $U in mtty-2: $r in $el; device dir right after write: $([ -e $D/$U ] && echo present || echo absent); driver: $(basename "$(readlink $D/$U/driver 2>/dev/null)" 2>/dev/null)"
echo "$D/$U: $(stat -c %F $D/$U) -> $(readlink $D/$U)"
echo "mdev_type: $(stat -c %F $D/$U/mdev_type) -> $(readlink $D/$U/mdev_type); canonical $(readlink -f $D/$U/mdev_type)"
echo "device dir: $(ls $D/$U | tr '\n' ' ')"
echo "device uevent: $(tr '\n' ' ' < $D/$U/uevent)"
echo "vendor/sample_mdev_dev: $(ls -l $D/$U/vendor/sample_mdev_dev | cut -d' ' -f1) = $(cat $D/$U/vendor/sample_mdev_dev)"
echo "write vendor/sample_mdev_dev: $(w $D/$U/vendor/sample_mdev_dev x)"
echo "type devices/: $(ls -l $T/mtty-2/devices | awk 'NR > 1 { print $(NF-2), $NF }' | tr '\n' ' ')"
echo "available after one mtty-2: mtty-1=$(cat $T/mtty-1/available_instances) mtty-2=$(cat $T/mtty-2/available_instances)"
echo "create same uuid again in mtty-2: $(w $T/mtty-2/create $U)"
echo "create same uuid in mtty-1: $(w $T/mtty-1/create $U)"
echo "create 'nonsense': $(w $T/mtty-1/create nonsense)"
echo "create uuid + newline: $(w $T/mtty-1/create "$V"$'\n') -> $(ls $D | tr '\n' ' ')"
[ -e $D/$V ] && w $D/$V/remove 1 > /dev/null
UP=33333333-AAAA-4BBB-8CCC-DDDDDDDDDDDD
echo "create upper-case $UP: $(w $T/mtty-1/create $UP) -> $(ls $D | tr '\n' ' ')"
for x in $(ls $D); do [ "$x" = $U ] || w $D/$x/remove 1 > /dev/null; done
echo "create simple-form 4444...: $(w $T/mtty-1/create 44444444444444444444444444444444) -> $(ls $D | tr '\n' ' ')"
for x in $(ls $D); do [ "$x" = $U ] || w $D/$x/remove 1 > /dev/null; done
echo "== remove"
echo "remove value 0: $(w $D/$U/remove 0); still there: $([ -e $D/$U ] && echo yes || echo no)"
echo "remove value 'x': $(w $D/$U/remove x)"
t0=${EPOCHREALTIME/[.,]/}; r=$(w $D/$U/remove 1); el=$(ms $t0)
echo "remove value 1: $r in $el; device dir right after: $([ -e $D/$U ] && echo present || echo absent)"
echo "available after remove: mtty-1=$(cat $T/mtty-1/available_instances) mtty-2=$(cat $T/mtty-2/available_instances)"
echo "== pool exhaustion"
for i in $(seq 1 12); do w $T/mtty-2/create "$(cat /proc/sys/kernel/random/uuid)" > /dev/null; done
echo "after 12 x mtty-2: $(ls $D | wc -l) devices, available mtty-1=$(cat $T/mtty-1/available_instances) mtty-2=$(cat $T/mtty-2/available_instances)"
echo "13th mtty-2 create written anyway: $(w $T/mtty-2/create $V); device dir: $([ -e $D/$V ] && echo present || echo absent); $(ls $D | wc -l) devices"
echo "mtty-1 create written anyway: $(w $T/mtty-1/create $V); device dir: $([ -e $D/$V ] && echo present || echo absent)"
echo "dmesg tail:"; dmesg | tail -n 5 | sed 's/^/  /'
echo "== uevents (netlink, as udev would see them)"
EV=/tmp/kt-uevents; : > $EV
busybox uevent sh -c 'env | grep -E "^(ACTION|DEVPATH|SUBSYSTEM|DRIVER|MDEV_[A-Z_]*)=" | sort | tr "\n" " "; echo' >> $EV 2>&1 &
UEV=$!; sleep 1
ev() {   # wait until no new event for 3 s, print and clear
    local n=-1 m; while m=$(wc -l < $EV); [ "$m" != "$n" ]; do n=$m; sleep 3; done
    echo "  events for $1:"; sed 's/^/    /' $EV; : > $EV; }
x=$(ls $D | head -n1); w $D/$x/remove 1 > /dev/null; ev "remove of one device"
for x in $(ls $D | tail -n +2); do w $D/$x/remove 1 > /dev/null; done; ev "(removing all but one; not shown)" > /dev/null
w $T/mtty-1/create $U > /dev/null; ev "create of $U (mtty-1)"
t0=${EPOCHREALTIME/[.,]/}; r=$(rmmod mtty 2>&1 && echo ok); el=$(ms $t0)
ev "rmmod mtty"
echo "rmmod mtty with devices present: $r in $el; devices left: $(ls $D | wc -l); /sys/class/mdev_bus: '$(ls /sys/class/mdev_bus | tr '\n' ' ')'"
insmod /run/kt-mtty.ko
ev "insmod mtty.ko"
echo "after reload: parent $([ -d $T ] && echo back || echo missing); devices: $(ls $D | wc -l); available mtty-1=$(cat $T/mtty-1/available_instances)"
kill $UEV 2>/dev/null
echo "/sys/bus/mdev/devices with no devices: $(ls -A $D | wc -l) entries"

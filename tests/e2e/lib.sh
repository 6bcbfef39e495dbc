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

# --- vendor-VFIO vGPUs at boot (mdevctl-apply.service) -----------------------
# The guest has no NVIDIA GPU: a fake sysfs tree of two L40S PFs with two VFs
# each (plain files, relative links as the kernel's), which setup.sh makes the
# unit's view of /sys with a drop-in (the unit and its sandbox as installed,
# only the source of its sysfs view replaced). Plain files cannot refuse a
# write or shrink a list: the black-box suite's fake kernel (FUSE) does that.
VFIO_FAKE=/var/lib/e2e-vfio/sys
VFIO_PFS="0000:41:00.0 0000:42:00.0"
VFIO_OWNER=e2e-vgpu
# vfio_vf PF INDEX: the address of VF INDEX (functions from 4, as an L40S's).
vfio_vf() { echo "${1%.*}.$((4 + $2))"; }
vfio_current() { cat "$VFIO_FAKE/bus/pci/devices/$1/nvidia/current_vgpu_type"; }
vfio_fake_tree() {
    local s=$VFIO_FAKE pf i vf dir v n=0
    mkdir -p "$s/class/mdev_bus" "$s/bus/mdev/devices" "$s/bus/pci/devices" \
        "$s/bus/pci/drivers/nvidia" "$s/kernel/iommu_groups"
    for pf in $VFIO_PFS; do
        dir=$s/devices/pci0000:40/$pf
        mkdir -p "$dir"
        printf '0x10de\n' > "$dir/vendor"
        printf '0x26b9\n' > "$dir/device"
        printf '0x030200\n' > "$dir/class"
        printf '2\n' > "$dir/sriov_totalvfs"
        printf '2\n' > "$dir/sriov_numvfs"
        ln -s ../../../bus/pci/drivers/nvidia "$dir/driver"
        ln -s "../../../devices/pci0000:40/$pf" "$s/bus/pci/devices/$pf"
        for i in 0 1; do
            vf=$(vfio_vf "$pf" "$i")
            v=$s/devices/pci0000:40/$vf
            mkdir -p "$v/nvidia" "$v/vfio-dev/vfio$n" "$s/kernel/iommu_groups/$((120 + n))"
            printf '0x10de\n' > "$v/vendor"
            printf '0x26b9\n' > "$v/device"
            printf '0x030200\n' > "$v/class"
            ln -s "../$pf" "$v/physfn"
            ln -s "../$vf" "$dir/virtfn$i"
            ln -s "../../../kernel/iommu_groups/$((120 + n))" "$v/iommu_group"
            ln -s "../../../devices/pci0000:40/$vf" "$s/bus/pci/devices/$vf"
            printf '0\n' > "$v/nvidia/current_vgpu_type"
            printf 'ID : vGPU Name\n1411 : NVIDIA L40S-12Q\n1412 : NVIDIA L40S-24Q\n' \
                > "$v/nvidia/creatable_vgpu_types"
            n=$((n + 1))
        done
    done
}
# vfio_boot_setup: the fake tree, /etc/mdevctl/host.yaml selecting it, the
# drop-in giving the unit the fake tree as its view of /sys, the unit enabled
# (and wanted by kt.target, which the guest boots instead of multi-user.target).
vfio_boot_setup() {
    local unit=/usr/lib/systemd/system/mdevctl-apply.service view
    vfio_fake_tree
    mkdir -p /etc/mdevctl
    cat > /etc/mdevctl/host.yaml <<YAML
version: 1
owner: $VFIO_OWNER
pools:
  - name: l40s
    type: {nameToken: L40S-12Q}
    parents: {driver: nvidia}
    perParent: 1
YAML
    # The view the installed unit binds /sys on (BindPaths=/sys:<view>:norbind).
    view=$(sed -n 's|^BindPaths=/sys:\([^:]*\).*|\1|p' "$unit")
    [ -n "$view" ] || { echo "e2e setup: no BindPaths=/sys in $unit"; return 1; }
    mkdir -p /etc/systemd/system/mdevctl-apply.service.d /etc/systemd/system/kt.target.d
    {
        echo "[Service]"
        echo "# e2e: the fake GPUs instead of /sys as the unit's view of it."
        echo "BindPaths="
        echo "BindPaths=$VFIO_FAKE:$view"
        grep '^BindPaths=/dev:' "$unit"
    } > /etc/systemd/system/mdevctl-apply.service.d/e2e-fake-gpus.conf
    printf '[Unit]\nWants=mdevctl-apply.service\n' > /etc/systemd/system/kt.target.d/e2e-apply.conf
    systemctl enable mdevctl-apply.service
}

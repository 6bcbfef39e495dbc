#!/bin/bash
# tests/kernel/vm.sh - boot Debian's own kernel in a throw-away QEMU guest with
# the kernel's sample mdev driver `mtty` loaded and run one host command in it.
#
# Adapted from the project's research recipe (shared/reference/run-mtty-vm.sh).
#
# Usage:
#   vm.sh --prepare            install/build everything, boot nothing.
#                              Exit 0 = ready, 77 = cannot boot a guest here
#                              (reason on stderr), 125 = unexpected failure.
#   vm.sh [--rw DIR]... [--systemd SETUP] [--] COMMAND [ARGS...]
#                              run COMMAND as root inside the guest, in a chroot
#                              of the host's root filesystem (9p, read-only,
#                              made writable by a tmpfs overlay), in the current
#                              directory.  --rw DIR shares DIR read-write at the
#                              same path (for results).  Exits with COMMAND's
#                              status; 124 = guest timed out, 125 = the guest
#                              infrastructure failed (console log on stderr).
#   --systemd SETUP            systemd as PID 1 instead (tests/e2e): the bash
#                              script SETUP runs first in a chroot of the new
#                              root, before mtty is loaded and before udev
#                              runs; mtty is then loaded (its uevents are lost
#                              as in an initramfs, udev's coldplug replays
#                              them); the guest switches root to systemd with
#                              the target kt.target (journald, udevd, the
#                              coldplug trigger and kt.service, which runs
#                              COMMAND and powers off).
#
# Environment:
#   MDEVCTL_KT_CACHE    cache dir (default /var/cache/mdevctl-kernel-tests,
#                       or tests/kernel/.cache when /var/cache is not writable)
#   MDEVCTL_KT_ACCEL    kvm | tcg | auto (default: KVM only with vmx/svm + /dev/kvm)
#   MDEVCTL_KT_MEM      guest MiB (default 1024)
#   MDEVCTL_KT_SMP      guest CPUs (default 2)
#   MDEVCTL_KT_CPU      TCG CPU model (default qemu64: Deno starts faster under
#                       TCG than with "max", whose AVX etc. are emulated)
#   MDEVCTL_KT_TIMEOUT  seconds before the guest is killed (default 1800: a TCG
#                       guest on a busy 2-core machine took over 900 s)
#   MDEVCTL_KT_VERBOSE  1 = timings + guest console log on stderr
#   MDEVCTL_KT_NO_APT   1 = never run apt-get (missing packages = cannot boot)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
ACCEL=${MDEVCTL_KT_ACCEL:-auto}
MEM=${MDEVCTL_KT_MEM:-1024}
SMP=${MDEVCTL_KT_SMP:-2}
TIMEOUT=${MDEVCTL_KT_TIMEOUT:-1800}
VERBOSE=${MDEVCTL_KT_VERBOSE:-0}

log() { if [ "$VERBOSE" = 1 ]; then echo "vm.sh: $*" >&2; fi; }
die() { echo "vm.sh: error: $*" >&2; exit 125; }
cannot() { echo "vm.sh: cannot boot a guest: $*" >&2; exit 77; }
now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }
T0=$(now)

PREPARE=0
RW_DIRS=()
SYSTEMD_SETUP=
while [ $# -gt 0 ]; do
    case $1 in
        --prepare) PREPARE=1; shift ;;
        --rw) [ -d "${2:-}" ] || die "--rw needs an existing directory"
              RW_DIRS+=("$(realpath "$2")"); shift 2 ;;
        --systemd) [ -f "${2:-}" ] || die "--systemd needs a setup script"
              SYSTEMD_SETUP=$(realpath "$2"); shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ "$PREPARE" = 1 ] || [ $# -gt 0 ] || die "no command given"

# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || cannot "not root (needed for apt-get and the 9p passthrough model)"
[ "$(uname -m)" = x86_64 ] || cannot "host is $(uname -m), need x86_64"
command -v dpkg-query >/dev/null 2>&1 || cannot "not a Debian host (no dpkg-query)"

if [ -n "${MDEVCTL_KT_CACHE:-}" ]; then
    CACHE_ROOT=$MDEVCTL_KT_CACHE
elif mkdir -p /var/cache/mdevctl-kernel-tests 2>/dev/null && [ -w /var/cache/mdevctl-kernel-tests ]; then
    CACHE_ROOT=/var/cache/mdevctl-kernel-tests
else
    CACHE_ROOT=$HERE/.cache
fi
mkdir -p "$CACHE_ROOT" || cannot "cannot create cache dir $CACHE_ROOT"
CACHE_ROOT=$(realpath "$CACHE_ROOT")
case $CACHE_ROOT in   # the guest reaches run dirs through the 9p root share
    /proc*|/sys*|/dev*|/run*|*' '*) die "cache dir must not be under /proc, /sys, /dev, /run or contain spaces" ;;
esac

# linux-image/headers/source metapackages keep kernel, headers and the source
# tarball (samples/vfio-mdev/mtty.c) at the same version.  mdevctl = Debian's
# 1.2.0, the reference implementation run beside ours.
PKGS=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source
      busybox-static kmod cpio xz-utils gzip make gcc mdevctl)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "${MDEVCTL_KT_NO_APT:-0}" = 1 ] && cannot "missing packages: ${missing[*]} (MDEVCTL_KT_NO_APT=1)"
    command -v apt-get >/dev/null 2>&1 || cannot "missing packages ${missing[*]} and no apt-get"
    T=$(now)
    echo "vm.sh: installing ${missing[*]} (once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        > "$CACHE_ROOT/apt.log" 2>&1 \
        || { tail -n 20 "$CACHE_ROOT/apt.log" >&2; cannot "apt-get install ${missing[*]} failed"; }
    log "apt-get: $(elapsed "$T")s"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || cannot "qemu-system-x86_64 not found"

KVER=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
[ -n "$KVER" ] || cannot "cannot tell the kernel version from linux-image-amd64"
KERNEL=/boot/vmlinuz-$KVER
KHEADERS=/usr/src/linux-headers-$KVER
KSRC_TAR=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1 || true)
for f in "$KERNEL" "$KHEADERS" "$KSRC_TAR" /lib/modules/"$KVER"/modules.dep; do
    [ -n "$f" ] && [ -e "$f" ] || cannot "missing ${f:-linux-source tarball}"
done

CACHE=$CACHE_ROOT/$KVER
mkdir -p "$CACHE" "$CACHE_ROOT/runs"

# Uncompressed vmlinux boots directly through PVH (CONFIG_PVH=y), which saves
# the SeaBIOS + xz decompression time of the bzImage under TCG.
VMLINUX=$CACHE/vmlinux
if [ ! -s "$VMLINUX" ] && grep -q '^CONFIG_PVH=y' /boot/config-"$KVER" 2>/dev/null; then
    T=$(now); tmp=$(mktemp "$CACHE/vmlinux.XXXXXX")
    off=$(LC_ALL=C grep -abo -m1 $'\xfd7zXZ' "$KERNEL" | head -n1 | cut -d: -f1 || true)
    if [ -n "$off" ]; then
        tail -c +$((off + 1)) "$KERNEL" | xz -dc > "$tmp" 2>/dev/null || true
        if [ "$(head -c4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
            chmod 644 "$tmp"; mv -f "$tmp" "$VMLINUX"
        fi
    fi
    rm -f "$tmp"
    log "vmlinux extraction: $(elapsed "$T")s"
fi
[ -s "$VMLINUX" ] && KERNEL=$VMLINUX

# mtty.ko, built out of tree against Debian's headers (unsigned: the kernel
# does not force module signatures, loading only taints it).
MTTY_KO=$CACHE/mtty/mtty.ko
if [ ! -f "$MTTY_KO" ]; then
    T=$(now); B=$(mktemp -d "$CACHE/mtty-build.XXXXXX")
    top=$(basename "$KSRC_TAR" .tar.xz)
    tar -xJf "$KSRC_TAR" -C "$B" --strip-components=3 "$top/samples/vfio-mdev/mtty.c" \
        || cannot "samples/vfio-mdev/mtty.c not found in $KSRC_TAR"
    echo 'obj-m := mtty.o' > "$B/Kbuild"
    make -s -C "$KHEADERS" M="$B" modules > "$B/build.log" 2>&1 \
        || { cat "$B/build.log" >&2; rm -rf "$B"; cannot "building mtty.ko failed"; }
    chmod 755 "$B"
    mv -T "$B" "$CACHE/mtty" 2>/dev/null || rm -rf "$B"
    log "mtty.ko build: $(elapsed "$T")s"
fi

# ---------------------------------------------------------------------------
# Guest init (busybox ash).  ttyS0 = console + status, ttyS1 = stdout,
# ttyS2 = stderr of the command.
# ---------------------------------------------------------------------------
read -r -d '' GUEST_INIT <<'INIT_EOF' || true
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "ktinit: $*" > /dev/ttyS0; }
fail() { say "FAILED: $*"; echo "KT_EXIT_STATUS=125" > /dev/ttyS0; poweroff -f; }
say "init at uptime $(cut -d' ' -f1 /proc/uptime)s"
SYSTEMD=$(sed -n 's/.*ktvm\.systemd=\([01]\).*/\1/p' /proc/cmdline)
for m in virtio_pci 9pnet_virtio 9p overlay vfio vfio_iommu_type1 mdev mtty; do
    [ "$m" = mtty ] && [ "$SYSTEMD" = 1 ] && continue
    modprobe "$m" || fail "modprobe $m"
done
[ "$SYSTEMD" = 1 ] || [ -d /sys/class/mdev_bus/mtty/mdev_supported_types ] || fail "mtty parent missing"

RUNDIR=$(sed -n 's/.*ktvm\.rundir=\([^ ]*\).*/\1/p' /proc/cmdline)
NRW=$(sed -n 's/.*ktvm\.nrw=\([0-9]*\).*/\1/p' /proc/cmdline)
mkdir -p /lower /rw /newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose \
    hostroot /lower || fail "mount 9p hostroot"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
    || fail "mount overlay"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/run/lock
i=0
while [ "$i" -lt "${NRW:-0}" ]; do
    p=$(sed -n "$((i + 1))p" "/newroot$RUNDIR/rw-dirs")
    mkdir -p "/newroot$p"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap \
        "rw$i" "/newroot$p" || fail "mount rw share $p"
    i=$((i + 1))
done
# mtty.ko for tests that unload and reload the driver (modprobe inside the
# chroot cannot find it: it is not under the host's /lib/modules).
cp /lib/modules/*/extra/mtty.ko /newroot/run/kt-mtty.ko
if [ "$SYSTEMD" = 1 ]; then
    # --systemd: setup in a chroot, mtty loaded with nobody listening to
    # uevents (as in an initramfs), then systemd as PID 1.
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root TERM=dumb LANG=C.UTF-8 KT_GUEST=1 \
        chroot /newroot /bin/bash "$RUNDIR/setup.sh" > /dev/ttyS0 2>&1 < /dev/null \
        || fail "setup script"
    modprobe mtty || fail "modprobe mtty"
    [ -d /sys/class/mdev_bus/mtty/mdev_supported_types ] || fail "mtty parent missing"
    cp "/newroot$RUNDIR"/units/* /newroot/etc/systemd/system/ || fail "install kt units"
    # The overlay's layers, read-only under /run/kt-layers: what the guest
    # changed (upper) and the host's root as it was (lower), for a test that
    # compares file system states without walking the whole root over 9p.
    for l in upper lower; do
        mkdir -p "/newroot/run/kt-layers/$l"
        src=/rw/upper; [ "$l" = lower ] && src=/lower
        mount -o bind "$src" "/newroot/run/kt-layers/$l" \
            && mount -o remount,bind,ro "/newroot/run/kt-layers/$l" || fail "bind $src"
    done
    say "systemd starts at uptime $(cut -d' ' -f1 /proc/uptime)s"
    umount /proc /sys /dev
    exec switch_root /newroot /lib/systemd/systemd --unit=kt.target --show-status=0
fi
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
mkfifo /out /err
cat /out > /dev/ttyS1 & P1=$!
cat /err > /dev/ttyS2 & P2=$!
say "command starts at uptime $(cut -d' ' -f1 /proc/uptime)s"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb LANG=C.UTF-8 KT_GUEST=1 \
    chroot /newroot /bin/bash "$RUNDIR/cmd.sh" > /out 2> /err < /dev/null
RC=$?
for d in /proc/[0-9]*; do
    case " 1 $P1 $P2 " in *" ${d#/proc/} "*) continue ;; esac
    [ -e "$d/exe" ] && kill -9 "${d#/proc/}" 2>/dev/null
done
wait $P1 $P2
say "command done at uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "KT_EXIT_STATUS=$RC" > /dev/ttyS0
poweroff -f
INIT_EOF

INITRD=$CACHE/initrd-$(sha256sum "$SELF" | cut -c1-12).img
if [ ! -f "$INITRD" ]; then
    T=$(now); R=$(mktemp -d "$CACHE/root.XXXXXX")
    mkdir -p "$R"/{bin,dev,proc,sys,lib/modules/"$KVER"/extra}
    cp /bin/busybox "$R/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
    done
    for m in virtio_pci 9pnet_virtio 9p overlay vfio vfio_iommu_type1 mdev; do
        modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
    done | sort -u | while read -r ko; do
        mkdir -p "$R$(dirname "$ko")"; cp "$ko" "$R$ko"
    done
    cp "$MTTY_KO" "$R/lib/modules/$KVER/extra/"
    cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
    depmod -b "$R" "$KVER"
    printf '%s\n' "$GUEST_INIT" > "$R/init"; chmod 755 "$R/init"
    (cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$R.img"
    mv -f "$R.img" "$INITRD"; rm -rf "$R"
    find "$CACHE" -maxdepth 1 -name 'initrd-*.img' ! -path "$INITRD" -delete
    log "initramfs build: $(elapsed "$T")s"
fi
log "host-side setup: $(elapsed "$T0")s (kernel $KVER)"
[ "$PREPARE" = 1 ] && exit 0

# ---------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------
RUN=$(mktemp -d "$CACHE_ROOT/runs/run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
{
    echo 'cd '"$(printf '%q' "$PWD")"' 2>/dev/null || cd /'
    printf 'exec'; printf ' %q' "$@"; echo
} > "$RUN/cmd.sh"
printf '%s\n' "${RW_DIRS[@]+"${RW_DIRS[@]}"}" > "$RUN/rw-dirs"
SYSTEMD=0
if [ -n "$SYSTEMD_SETUP" ]; then
    SYSTEMD=1
    {
        echo 'cd '"$(printf '%q' "$PWD")"' 2>/dev/null || cd /'
        printf 'exec bash %q\n' "$SYSTEMD_SETUP"
    } > "$RUN/setup.sh"
    # kt.service: COMMAND with stdout on ttyS1 and stderr on ttyS2, its exit
    # status on the console, then power off.  Masked: units a test guest does
    # not need that cost boot time under TCG (time sync, timers, pstore...).
    mkdir "$RUN/units"
    cat > "$RUN/svc.sh" <<SVC_EOF
stty -F /dev/ttyS1 raw -echo; stty -F /dev/ttyS2 raw -echo
echo "ktinit: command starts at uptime \$(cut -d' ' -f1 /proc/uptime)s" > /dev/ttyS0
bash $RUN/cmd.sh > /dev/ttyS1 2> /dev/ttyS2 < /dev/null
rc=\$?
sync
echo "ktinit: command done at uptime \$(cut -d' ' -f1 /proc/uptime)s" > /dev/ttyS0
echo "KT_EXIT_STATUS=\$rc" > /dev/ttyS0
systemctl poweroff --force --force
SVC_EOF
    cat > "$RUN/units/kt.target" <<'UNIT_EOF'
[Unit]
Description=Kernel test guest
Wants=systemd-journald.service systemd-udevd.service systemd-udev-trigger.service kt.service
UNIT_EOF
    cat > "$RUN/units/kt.service" <<UNIT_EOF
[Unit]
Description=Kernel test command
DefaultDependencies=no
After=systemd-journald.service systemd-udevd.service systemd-udev-trigger.service
[Service]
Type=exec
ExecStart=/bin/bash $RUN/svc.sh
Environment=KT_GUEST=1 LANG=C.UTF-8 HOME=/root
UNIT_EOF
    for u in systemd-timesyncd.service systemd-pstore.service systemd-firstboot.service \
        systemd-repart.service systemd-random-seed.service systemd-update-utmp.service \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-journal-flush.service \
        systemd-machine-id-commit.service systemd-tmpfiles-setup.service timers.target \
        getty.target e2scrub_reap.service \
        postgresql.service remote-fs.target; do
        ln -s /dev/null "$RUN/units/$u"
    done
fi

if [ "$ACCEL" = auto ]; then
    ACCEL=tcg
    # A nested "KVM" without vmx/svm (e.g. PVM) cannot run a stock kernel.
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
        ACCEL=kvm
    fi
fi
case $ACCEL in
    kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
    tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu "${MDEVCTL_KT_CPU:-qemu64}") ;;
    *) die "MDEVCTL_KT_ACCEL must be kvm, tcg or auto" ;;
esac
QEMU_ARGS=(
    -nodefaults -no-user-config -display none -monitor none
    "${ACCEL_ARGS[@]}" -m "$MEM" -smp "$SMP" -no-reboot
    -kernel "$KERNEL" -initrd "$INITRD"
    -append "console=ttyS0 quiet panic=-1 no_timer_check ktvm.rundir=$RUN ktvm.nrw=${#RW_DIRS[@]} ktvm.systemd=$SYSTEMD"
    -serial "file:$RUN/console.log"
    -serial "file:$RUN/stdout.fifo" -serial "file:$RUN/stderr.fifo"
    -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap"
)
for i in "${!RW_DIRS[@]}"; do
    QEMU_ARGS+=(-virtfs "local,path=${RW_DIRS[$i]},mount_tag=rw$i,security_model=passthrough,multidevs=remap")
done

T1=$(now)
mkfifo "$RUN/stdout.fifo" "$RUN/stderr.fifo"
cat "$RUN/stdout.fifo" & CAT_OUT=$!
cat "$RUN/stderr.fifo" >&2 & CAT_ERR=$!
set +e
timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 "${QEMU_ARGS[@]}" </dev/null
QRC=$?
for f in stdout stderr; do exec 3<>"$RUN/$f.fifo"; exec 3>&-; done
wait $CAT_OUT $CAT_ERR
set -e
log "guest wall time: $(elapsed "$T1")s (accel $ACCEL, qemu rc $QRC)"
if [ -n "${MDEVCTL_KT_BOOTLOG:-}" ]; then
    tr -d '\r' < "$RUN/console.log" > "$MDEVCTL_KT_BOOTLOG" || true
fi

STATUS=$(sed -n 's/^KT_EXIT_STATUS=\([0-9]*\).*/\1/p' "$RUN/console.log" | tail -n1)
if [ "$VERBOSE" = 1 ] || [ -z "$STATUS" ] || grep -q 'ktinit: FAILED' "$RUN/console.log"; then
    echo "----- guest console log -----" >&2
    tr -d '\r' < "$RUN/console.log" >&2
    echo "-----------------------------" >&2
fi
if [ -z "$STATUS" ]; then
    echo "vm.sh: no exit status from the guest (qemu rc $QRC)" >&2
    [ "$QRC" = 124 ] && exit 124
    exit 125
fi
exit "$STATUS"

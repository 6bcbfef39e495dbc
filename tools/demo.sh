#!/bin/bash
# Shows mdevctl on a bundled example host: a fake sysfs and config tree with
# an Intel GVT-g GPU, an NVIDIA vGPU card and an s390 crypto matrix, built in
# a temporary directory that MDEVCTL_ENV_ROOT points at.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mdevctl=${MDEVCTL:-$top/dist/mdevctl}
root=$(mktemp -d -t mdevctl-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT

type_dir() { # parent-path type instances api [name] [description]
  local d="$root/sys/devices/$1/mdev_supported_types/$2"
  mkdir -p "$d"
  echo "$3" > "$d/available_instances"
  echo "$4" > "$d/device_api"
  [ -z "${5:-}" ] || echo "$5" > "$d/name"
  [ -z "${6:-}" ] || printf '%b' "$6" > "$d/description"
  : > "$d/create"
}
parent() { # parent-path
  mkdir -p "$root/sys/class/mdev_bus"
  ln -s "$root/sys/devices/$1" "$root/sys/class/mdev_bus/${1##*/}"
}
running() { # parent-path uuid type
  local d="$root/sys/devices/$1/$2"
  mkdir -p "$d" "$root/sys/bus/mdev/devices"
  ln -s "$root/sys/devices/$1/mdev_supported_types/$3" "$d/mdev_type"
  : > "$d/remove"
  ln -s "$d" "$root/sys/bus/mdev/devices/$2"
}

gpu=pci0000:00/0000:00:02.0
nv=pci0000:00/0000:00:03.0/0000:03:00.0
ap=vfio_ap/matrix
type_dir $gpu i915-GVTg_V5_4 2 vfio-pci "" 'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n'
type_dir $gpu i915-GVTg_V5_8 4 vfio-pci "" 'low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\nweight: 2\n'
type_dir $nv nvidia-63 7 vfio-pci "GRID P40-2Q" 'num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=7680x4320, max_instance=12\n'
type_dir $ap vfio_ap-passthrough 63 vfio-ap "" ""
for p in $gpu $nv $ap; do parent $p; done
running $gpu 4b20d080-1b54-4048-85b3-a6a62d165c01 i915-GVTg_V5_4
running $ap 783e6dbb-ea0e-411f-94e2-717eaad438bf vfio_ap-passthrough
mkdir -p "$root/etc/mdevctl.d/0000:00:02.0" "$root/etc/mdevctl.d/matrix"
printf '{\n  "mdev_type": "i915-GVTg_V5_4",\n  "start": "auto",\n  "attrs": []\n}' \
  > "$root/etc/mdevctl.d/0000:00:02.0/4b20d080-1b54-4048-85b3-a6a62d165c01"
printf '{\n  "mdev_type": "vfio_ap-passthrough",\n  "start": "manual",\n  "attrs": [\n    {\n      "assign_adapter": "5"\n    },\n    {\n      "assign_domain": "47"\n    }\n  ]\n}' \
  > "$root/etc/mdevctl.d/matrix/783e6dbb-ea0e-411f-94e2-717eaad438bf"

export MDEVCTL_ENV_ROOT=$root
show() {
  echo "\$ $*"
  "$@"
  echo
}
show "$mdevctl" types
show "$mdevctl" list
show "$mdevctl" list --defined --verbose
show "$mdevctl" define --parent 0000:03:00.0 --type nvidia-63
show "$mdevctl" list --defined --dumpjson

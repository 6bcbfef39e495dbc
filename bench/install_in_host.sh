#!/bin/bash
# Installs a copy of dist/ in a fake host as tools/install.sh lays it out, at
# /usr/lib/mdevctl as the host shows it through tests/helpers/host_ns.sh: the bundle (or
# the compiled binary), the launcher install.sh writes for that directory
# (its view of /sys at /usr/lib/mdevctl/sysfs, bound by the first run and
# kept), and Deno's code cache of it warmed in the host's own
# var/cache/mdevctl/deno (install.sh's CACHEDIR/deno, which the launcher
# points Deno at; its real path, which the namespace does not cover, so each
# host has a cache of its own). The depth of these paths is part
# of what the sandbox costs: Deno resolves every component of each path it
# opens (bench/sandbox.md).
#
# Usage: bench/install_in_host.sh DIST_COPY HOST_ROOT   (as root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
snap=$1 root=$2
lib=/usr/lib/mdevctl
dir=$root$lib
cache=$(realpath -m "$root/var/cache/mdevctl/deno")
rm -rf "$dir/sysfs" "$dir/dev" "$dir/mdevctl" "$dir/mdevctl.js" "$dir/mdevctl-yaml.js" \
  "$dir/mdevctl.bin" "$cache"
mkdir -p "$dir/sysfs" "$dir/dev" "$cache"
deno=$("$top/tools/deno_path.sh")
gen() { "$deno" run --quiet --no-lock --allow-read --allow-env=PATH "$top/tools/gen_sandbox.ts" "$@"; }
if [ -f "$snap/mdevctl.bin" ]; then
  cp -a "$snap/mdevctl.bin" "$dir/"
  gen launcher compiled "$lib/mdevctl.bin" "$lib" >"$dir/mdevctl"
else
  cp -a "$snap/mdevctl.js" "$snap/mdevctl-yaml.js" "$dir/"
  gen launcher --deno-dir "$cache" bundle "$deno" "$lib/mdevctl.js" "$lib" >"$dir/mdevctl"
fi
chmod 755 "$dir/mdevctl"
bash "$top/tests/helpers/host_ns.sh" "$root" "$top/tools/warm_code_cache.sh" "$lib/mdevctl"

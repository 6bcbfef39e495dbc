#!/bin/bash
# tests/e2e/setup.sh - runs in the systemd guest before systemd and udev start
# and before mtty is loaded (vm.sh --systemd): installs the program with
# `make install` into the guest's root (a tmpfs overlay over the host's
# root: nothing reaches the host) and writes the definitions the boot-time
# coldplug must act on.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$HERE/env.sh"   # REPO, RES: written by run.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"
T=$(uptime_s)
make -s -C "$REPO" install PREFIX=/usr > /run/e2e-install.log 2>&1 || {
    cat /run/e2e-install.log
    exit 1
}
echo "e2e setup: make install took $(awk "BEGIN { print $(uptime_s) - $T }") s"
boot_definitions
vfio_boot_setup

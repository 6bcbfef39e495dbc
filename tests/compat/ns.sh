#!/bin/bash
# Runs the generated command list H/cmds.sh of one side of a scenario with the fake host H
# shown at the real paths (tests/helpers/host_ns.sh: /sys, /etc/mdevctl.d, /usr/lib/mdevctl,
# and H/run/lock at /run/lock), in H/cwd with umask 022; cmds.sh names the host "$H". Exit
# status 90: the namespace could not be set up.
set -u
exec bash "$(dirname "$0")/../helpers/host_ns.sh" "$1" bash -c \
  'H=$1; cd "$H/cwd" || { echo "ns.sh: no cwd" >&2; exit 90; }; umask 022; source "$H/cmds.sh"; exit 0' \
  _ "$1"

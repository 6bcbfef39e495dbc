#!/bin/bash
# tests/e2e/package_setup.sh - setup of the package guest (vm.sh --systemd),
# before systemd starts: installs nothing. The package scenario (package.sh)
# needs a root where neither `make install` nor the package ever ran, and
# installs Debian's mdevctl and then ours itself, under systemd.
set -eu
echo "e2e package setup: nothing installed before boot"

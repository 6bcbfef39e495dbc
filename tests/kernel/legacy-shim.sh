#!/bin/bash
# tests/kernel/legacy-shim.sh - the original (2019) mdevctl commands mapped
# onto today's commands exactly as shared/spec/seed-interface.md describes.
# Used only to run the legacy-2019 scenario with Debian's mdevctl 1.2.0 (which
# lacks these commands), so that its kernel-state checks and transcript have a
# reference.  LEGACY_REAL = the modern mdevctl to drive (default /usr/bin/mdevctl).
set -u
M=${LEGACY_REAL:-/usr/bin/mdevctl}
usage() { echo "Usage: mdevctl <command> <args>" >&2; exit 1; }
three_cols() { awk 'NF { print $1, $2, $3 }'; }
cmd=${1:-}; shift || true
case $cmd in
    create-mdev) [ $# = 3 ] || usage
                 "$M" define -u "$1" -p "$2" -t "$3" --auto || exit 1
                 exec "$M" start -u "$1" ;;
    list-mdevs)  [ $# = 0 ] || usage
                 set -o pipefail; "$M" list | three_cols ;;
    list-saved)  [ $# = 0 ] || usage
                 set -o pipefail; "$M" list -d | three_cols ;;
    stop-mdev)   [ $# = 1 ] || usage; exec "$M" stop -u "$1" ;;
    start-mdev)  [ $# = 1 ] || usage; exec "$M" start -u "$1" ;;
    remove-mdev) [ $# = 1 ] || usage
                 if [ -e "/sys/bus/mdev/devices/$1" ]; then "$M" stop -u "$1" || exit 1; fi
                 exec "$M" undefine -u "$1" ;;
    *) usage ;;
esac

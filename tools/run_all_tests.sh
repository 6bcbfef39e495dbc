#!/bin/bash
# `make test-all`: every suite — unit and black-box (make test), the
# compatibility suite against Debian's mdevctl (make test-compat) and the
# real-kernel suite in QEMU (make test-kernel), the end-to-end suite with
# systemd, udev and libvirt in QEMU (make test-e2e) and the Debian package
# (make deb, lintian, its scripts in a chroot and a guest: make test-package) — then one line
# `N passed, N failed` adding them up. Each suite ends with such a line.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passed=0
failed=0
status=0
for suite in "tools/run_tests.sh" "tests/compat/run.sh" "tests/kernel/run.sh" "tests/e2e/run.sh" "tests/package/run.sh"; do
  echo "=== $suite"
  log=$(mktemp)
  bash "$suite" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "$suite: ended without a summary line (exit $rc)"
    failed=$((failed + 1))
    status=1
    continue
  fi
  p=${line%% passed*}
  f=${line#*passed, }
  f=${f%% failed*}
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$rc" -eq 0 ] || status=1
done
echo "$passed passed, $failed failed"
exit $status

#!/bin/bash
# Runs every test suite of `make test` and ends with one line
# `N passed, N failed` summing them up.
#  1. unit tests beside their modules (lib/**/*_test.ts, tools/*_test.ts, bench/*_test.ts), and
#     the @example blocks of the public API (mod.ts and the modules it re-exports);
#  2. black-box tests (tests/**/*_test.ts) against the source entry, with
#     Deno permissions scoped to each test's temporary root;
#  3. the same black-box tests against the built dist/mdevctl.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deno=$(tools/deno_path.sh)
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
passed=0
failed=0
status=0

suite() {
  local name=$1
  shift
  echo "== $name"
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # Deno's summary: "ok | 12 passed (3 steps) | 0 failed (1s)".
  local line
  line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
  local p f
  p=$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$line")
  f=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")
  if [ -z "$p" ]; then
    echo "$name: no test summary (exit $rc)"
    p=0
    f=${f:-1}
  fi
  passed=$((passed + p))
  failed=$((failed + ${f:-0}))
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
}

unit=$(find lib tools bench -name '*_test.ts' 2>/dev/null | sort)
# The public API: mod.ts and every module it re-exports (their JSDoc examples).
public=$(sed -nE 's#^export .* from "\./(lib/[^"]+)";#\1#p' mod.ts | sort -u)
blackbox=$(find tests -name '*_test.ts' -not -path 'tests/compat/*' -not -path 'tests/kernel/*' 2>/dev/null | sort)

# shellcheck disable=SC2086
suite unit "$deno" test --no-prompt --allow-read --allow-write --allow-env --allow-run \
  --doc $unit mod.ts $public
# shellcheck disable=SC2086
MDEVCTL_TEST_TARGET=source suite "black-box (source, scoped permissions)" \
  "$deno" test --no-prompt -A $blackbox
if [ -x dist/mdevctl ]; then
  # shellcheck disable=SC2086
  MDEVCTL_TEST_TARGET=dist suite "black-box (built dist/mdevctl)" "$deno" test --no-prompt -A $blackbox
else
  echo "dist/mdevctl missing: run make first"
  failed=$((failed + 1))
  status=1
fi

echo "$passed passed, $failed failed"
exit $status

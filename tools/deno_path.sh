#!/bin/sh
# Prints the absolute path of the native Deno binary the project uses: the
# pinned npm package's binary, else a system deno. Never a node wrapper, which
# would add Node's start-up to every run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
for candidate in "$top/node_modules/deno/deno" "$top/node_modules/@deno/linux-x64-glibc/deno"; do
  if [ -x "$candidate" ] && ! head -c 2 "$candidate" | grep -q '#!'; then
    echo "$candidate"
    exit 0
  fi
done
if command -v deno >/dev/null 2>&1; then
  command -v deno
  exit 0
fi
echo "deno not found: run 'npm ci' first" >&2
exit 1

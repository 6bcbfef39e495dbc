#!/bin/bash
# CPU of an idle `mdevctl monitor` (issue 15, docs/monitor.md): not a test.
#
#   bash bench/monitor_cpu.sh [SECONDS]      (root: the poll part uses tests/helpers/host_ns.sh)
#
# 1. udevadm source on this machine's real /sys, idle, for SECONDS (default 60);
# 2. poll source at 1 s on the large bench host (BENCH_LARGE, default 64x256x512:
#    16,384 running devices, 32,768 definitions), idle, for SECONDS.
# CPU = utime + stime from /proc of the monitor and its udevadm child, at the end
# minus at the start (after start-up), over the wall time, in % of one core.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-60}
deno=$(tools/deno_path.sh)
prog=${MDEVCTL_OURS:-$top/dist/mdevctl}
shape=${BENCH_LARGE:-64x256x512}
hz=$(getconf CLK_TCK)

ticks() { # PID...: utime+stime of the processes, in clock ticks
  local sum=0 pid f
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    read -ra f < "/proc/$pid/stat"
    # fields after the ")" of comm: utime is field 14, stime 15 (1-based)
    sum=$((sum + f[13] + f[14]))
  done
  echo "$sum"
}

measure() { # LABEL PID: waits SECONDS, prints the CPU share
  local label=$1 pid=$2 kids t0 t1 w0 w1
  sleep 5 # start-up and the first scan are not idle
  kids=$(pgrep -P "$pid" | tr '\n' ' ' || true)
  t0=$(ticks "$pid" $kids); w0=$(date +%s%N)
  sleep "$secs"
  t1=$(ticks "$pid" $kids); w1=$(date +%s%N)
  awk -v l="$label" -v d=$((t1 - t0)) -v hz="$hz" -v w=$(((w1 - w0) / 1000000)) \
    'BEGIN { printf "%s: %.2f %% of one core (%d ticks of 1/%d s in %.1f s)\n", l, 100 * d / hz / (w / 1000), d, hz, w / 1000 }'
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

"$prog" monitor --source udevadm > /dev/null &
pid=$!
measure "udevadm source, idle, real /sys" "$pid"
kill -TERM "$pid"; wait "$pid" || true

host=$top/bench/hosts/large-$shape
"$deno" run -A bench/gen_host.ts --out "$host" --shape "$shape" > /dev/null
bash tests/helpers/host_ns.sh "$host" "$prog" monitor --source poll --poll-interval 1000 > /dev/null &
nspid=$!
sleep 2
# The monitor is the deno process in the namespace: find it below unshare.
mpid=$(pgrep -f -n "monitor --source poll --poll-interval 1000" || true)
while [ -n "$mpid" ] && [ "$(ps -o comm= -p "$mpid")" != deno ]; do
  mpid=$(pgrep -P "$mpid" | head -n1 || true)
done
[ -n "$mpid" ] || { echo "poll monitor not found" >&2; kill "$nspid"; exit 1; }
measure "poll source at 1 s, idle, large host $shape" "$mpid"
kill -TERM "$mpid"; wait "$nspid" || true

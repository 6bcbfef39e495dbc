#!/bin/bash
# Benchmarks of our mdevctl against Debian's mdevctl 1.2.0 (issue #8); see bench/README.md.
#   bash bench/run.sh            (or: make bench)
# Needs root (a private mount namespace shows the fake hosts at /sys, /etc/mdevctl.d and
# /usr/lib/mdevctl). Writes bench/results.md; raw samples stay in bench/hosts/*.json.
#
# Knobs (environment):
#   MDEVCTL_OURS       our command line (default: dist/mdevctl if newer than the sources, else
#                      "<deno> run -A --no-config cli.ts")
#   MDEVCTL_PEER       the reference (default /usr/bin/mdevctl, installed with apt if missing)
#   MDEVCTL_FLOOR      the bare Deno floor (default: derived from the launcher of ours, the
#                      same deno binary and flags running bench/empty.ts)
#   BENCH_HOSTS        which hosts, default "small large scale" ("scale" is the scaling series)
#   BENCH_SCALE        parents per host of the scaling series (default "1 4 16 64")
#   BENCH_SCALE_SHAPE  per-parent shape ACTIVExDEFINED of the series (default 256x512)
#   BENCH_RUNS_SCALE   timed runs per tool, command and size of the series (default 5)
#   BENCH_SCALE_COMMANDS  ";"-separated commands of the series (default "list;list -d;types")
#   BENCH_SMALL, BENCH_LARGE   shapes PARENTSxACTIVExDEFINED, default 2x4x4 and 64x256x512
#   BENCH_RUNS_SMALL, BENCH_RUNS_LARGE   timed runs per tool and command (default 51 and 7)
#   BENCH_WARMUP_SMALL, BENCH_WARMUP_LARGE   warm-up runs (default 3 and 1)
#   BENCH_MEM_RUNS     runs under /usr/bin/time for peak RSS and CPU time (default 3)
#   BENCH_BUDGET       seconds one command may take per host; a tool that is too slow
#                      (a timeout, a wait) gets fewer runs (default 90)
#   BENCH_COMMANDS     ";"-separated mdevctl command lines ("PARENT" = first parent)
#   BENCH_OUT          report file (default bench/results.md)
#   BENCH_NICE         niceness of the harness and the tools it runs (default 0); on a
#                      machine busy with other jobs, -10 gives the measured runs the CPU
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

DENO=${DENO:-$top/node_modules/.bin/deno}
hosts=${BENCH_HOSTS:-small large scale}
shape_small=${BENCH_SMALL:-2x4x4}
shape_large=${BENCH_LARGE:-64x256x512}
mem_runs=${BENCH_MEM_RUNS:-3}
out=${BENCH_OUT:-$here/results.md}

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (unshare -m and mount are needed)"
[ -x "$DENO" ] || die "no Deno at $DENO (run npm ci, or set DENO)"
command -v unshare >/dev/null || die "unshare (util-linux) is missing"

apt_install() {
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null; }
}
peer=${MDEVCTL_PEER:-/usr/bin/mdevctl}
if [ -z "${MDEVCTL_PEER:-}" ] && [ ! -x /usr/bin/mdevctl ]; then apt_install mdevctl; fi
[ -x "${peer%% *}" ] || die "reference mdevctl '$peer' not found"
[ -x /usr/bin/time ] || apt_install time || say "no /usr/bin/time: peak memory will be n/a"

# --- our command line -----------------------------------------------------------------
if [ -n "${MDEVCTL_OURS:-}" ]; then
  ours=$MDEVCTL_OURS
elif [ -x "$top/dist/mdevctl" ] &&
  [ -z "$(find "$top/cli.ts" "$top/lib" -name '*.ts' ! -name '*_test.ts' -newer "$top/dist/mdevctl" 2>/dev/null | head -1)" ]; then
  ours=$top/dist/mdevctl
else
  [ -x "$top/dist/mdevctl" ] && say "dist/mdevctl is older than the sources: measuring cli.ts"
  ours="$DENO run -A --no-config $top/cli.ts"
fi

# dist/ is rebuilt whenever someone runs make: measure a snapshot of it, not a moving target,
# installed in each fake host as an install lays it out (bench/install_in_host.sh): the
# program at /usr/lib/mdevctl, the view of /sys bound once and kept (not per run, as dist/'s
# --view-per-run launcher does), Deno's code cache warmed.
if [ "$ours" = "$top/dist/mdevctl" ]; then
  snap=$here/hosts/ours-dist
  dist_built=$(date -u -r "$top/dist/mdevctl" '+%Y-%m-%d %H:%M UTC')
  for try in 1 2 3 4 5; do
    rm -rf "$snap" && mkdir -p "$snap" && cp -a "$top/dist/." "$snap/" 2>/dev/null || true
    if [ -f "$snap/mdevctl.bin" ] || [ -s "$snap/mdevctl.js" ]; then break; fi
    say "dist/ looks incomplete (a build running?), retrying"
    sleep 3
  done
  ours=/usr/lib/mdevctl/mdevctl
  say "measuring a snapshot of dist/ in $snap, installed in each host at ${ours%/*}"
fi

# --- the bare Deno floor: `deno run` of an empty script with the launcher's flags -------
# Replaces the script (first *.ts/*.js/*.mjs word) of a "deno run FLAGS SCRIPT" line by
# bench/empty.ts and drops what follows it.
floor_from_line() {
  local w res=() found=
  for w in $1; do
    case $w in
      *.ts | *.js | *.mjs) res+=("$here/empty.ts"); found=1; break ;;
      *) res+=("$w") ;;
    esac
  done
  [ -n "$found" ] && echo "${res[*]}"
}
floor_note=""
derive_floor() {
  local first=${ours%% *} line
  [ -n "${snap:-}" ] && first=$snap/mdevctl # dist/'s launcher: the same Deno and flags
  if line=$(floor_from_line "$ours"); then
    # "deno run FLAGS SCRIPT": the same with the empty script
    floor_note="ours with bench/empty.ts as the script"
    echo "$line"
    return 0
  elif [ -f "$first" ] && [ "$(head -c 2 "$first")" = "#!" ] && [ -f "${first%/*}/mdevctl.js" ]; then
    # our shell launcher of a bundle: the pinned Deno (the bench installs the bundle with it)
    # and the flags tools/sandbox_paths.ts declares, no permissions (an empty script needs none)
    line="$("$top/tools/deno_path.sh") run $("$DENO" run --quiet --no-lock --allow-read \
      "$top/tools/gen_sandbox.ts" deno-flags)"
    floor_note="the Deno and the flags of $first (tools/sandbox_paths.ts)"
    echo "$line $here/empty.ts"
    return 0
  elif [ "$first" = "$ours" ] && [ -f "$first" ] &&
    [ "$(head -c 4 "$first" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    # a deno compile'd binary: compile the empty script the same way
    local bin=$here/hosts/floor-compiled
    if DENO_NO_UPDATE_CHECK=1 "$DENO" compile --quiet -A --no-prompt --no-config --no-lock \
      --deny-net -o "$bin" "$here/empty.ts" >/dev/null 2>&1; then
      floor_note="deno compile of bench/empty.ts (ours is a compiled binary)"
      echo "$bin"
      return 0
    fi
  fi
  floor_note="default (could not derive from '$ours')"
  echo "$DENO run -A --no-config $here/empty.ts"
}
if [ -n "${MDEVCTL_FLOOR:-}" ]; then
  floor=$MDEVCTL_FLOOR
  floor_note="MDEVCTL_FLOOR"
else
  mkdir -p "$here/hosts"
  derive_floor >"$here/hosts/.floor" # not in $( ): it sets floor_note
  floor=$(cat "$here/hosts/.floor")
  rm -f "$here/hosts/.floor"
fi

say "ours:  $ours"
say "peer:  $peer"
say "floor: $floor ($floor_note)"
mkdir -p "$here/hosts"

# --- hosts and measurements ---------------------------------------------------------------
results=()
# "scale" stands for the scaling series: one host per size of BENCH_SCALE, each with the
# same per-parent shape, so the fitted slope is the cost of one more device.
expanded=()
for h in $hosts; do
  if [ "$h" = scale ]; then
    for n in ${BENCH_SCALE:-1 4 16 64}; do expanded+=("scale-$n"); done
  else
    expanded+=("$h")
  fi
done
for h in "${expanded[@]}"; do
  commands=${BENCH_COMMANDS:-}
  mem=$mem_runs
  case $h in
    small) shape=$shape_small runs=${BENCH_RUNS_SMALL:-51} warm=${BENCH_WARMUP_SMALL:-3} ;;
    large) shape=$shape_large runs=${BENCH_RUNS_LARGE:-7} warm=${BENCH_WARMUP_LARGE:-1} ;;
    scale-*)
      shape=${h#scale-}x${BENCH_SCALE_SHAPE:-256x512} runs=${BENCH_RUNS_SCALE:-5} warm=1 mem=0
      commands=${BENCH_SCALE_COMMANDS:-list;list -d;types}
      ;;
    *) die "unknown host '$h' (small, large or scale)" ;;
  esac
  root=$here/hosts/$h
  "$DENO" run -A --no-config "$here/gen_host.ts" --out "$root" --shape "$shape"
  if [ -n "${snap:-}" ]; then bash "$here/install_in_host.sh" "$snap" "$root"; fi
  args=(--label "$h" --host "$root" --out "$here/hosts/results-$h.json"
    --ours "$ours" --peer "$peer" --floor "$floor"
    --runs "$runs" --warmup "$warm" --mem-runs "$mem" --budget "${BENCH_BUDGET:-90}")
  if [ -n "$commands" ]; then
    parent=$(sed -n 's/.*"firstParent": "\(.*\)".*/\1/p' "$root/.bench-host.json")
    args+=(--commands "${commands//PARENT/$parent}")
  fi
  say "host $h ($shape): $runs runs per tool and command"
  nice -n "${BENCH_NICE:-0}" bash "$here/ns.sh" "$root" "$DENO" run -A --no-config "$here/measure.ts" "${args[@]}"
  results+=("$here/hosts/results-$h.json")
done

ours_rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')
if [ -n "$(git -C "$top" status --porcelain -- cli.ts lib dist 2>/dev/null)" ]; then
  ours_rev="$ours_rev (with uncommitted changes)"
fi
if [ -n "${snap:-}" ]; then
  ours_rev="$ours_rev; dist/ built $dist_built"
fi
"$DENO" run -A --no-config "$here/report.ts" --out "$out" \
  --peer-version "$("${peer%% *}" --version 2>/dev/null | head -1)" \
  --deno-version "$("$DENO" --version | head -1)" \
  --ours-rev "$ours_rev" --floor-note "$floor_note" --nice "${BENCH_NICE:-0}" "${results[@]}"
# keep `make check` (deno fmt --check) happy with the generated tables and chart
svg=$(dirname "$out")/scaling.svg
"$DENO" fmt --quiet "$out" $([ -f "$svg" ] && echo "$svg") 2>/dev/null || true
say "wrote $out"

#!/bin/bash
# What the permission sandbox costs (issue 13, docs/sandbox.md): the sandboxing
# launcher (namespace, bind mount, scoped flags) against the same bundle run by a
# plain `-A` launcher and against the bare floor (`deno run -A` of an empty
# script), interleaved in one run by bench/measure.ts (ours = sandboxed, peer =
# -A launcher, floor), on the small and the large fake host mounted at the real
# paths by tests/helpers/host_ns.sh. On the small host also as a systemd unit runs it
# (ProtectHome=yes): the installed launcher against the one before it pointed
# Deno at the install's cache directory. Prints medians and ratios; raw samples
# stay in bench/hosts/sandbox-*.json. Needs root and a built dist/ (bundled form).
#
#   bash bench/sandbox.sh
#   BENCH_HOSTS, BENCH_SMALL, BENCH_LARGE, BENCH_RUNS_SMALL, BENCH_RUNS_LARGE,
#   BENCH_COMMANDS: as in bench/README.md (defaults here: 31 and 5 runs; list,
#   list -d, types).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
DENO=${DENO:-$top/node_modules/.bin/deno}
say() { echo "bench/sandbox: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "must run as root"; exit 1; }
[ -f "$top/dist/mdevctl.js" ] || { say "needs the bundled dist/ (make)"; exit 1; }

# The bundle installed in each host as tools/install.sh lays it out
# (bench/install_in_host.sh), with a second launcher beside it: the one before
# issue 13, every permission and no namespace. A copy of the bundle, because
# make may rebuild dist/ meanwhile.
lib=/usr/lib/mdevctl
deno_bin=$("$top/tools/deno_path.sh")
gen() { "$deno_bin" run --quiet --no-lock --allow-read --allow-env=PATH "$top/tools/gen_sandbox.ts" "$@"; }
flags=$(gen deno-flags)
floor="$deno_bin run $flags $here/empty.ts"
snap=$(mktemp -d)
cp "$top/dist/mdevctl.js" "$top/dist/mdevctl-yaml.js" "$snap/"
trap 'rm -rf "$snap"' EXIT
# install_in ROOT: both launchers and the bundle in the fake host ROOT, code cache
# warmed (in the host's Deno directory, where bench/install_in_host.sh points the
# installed launcher, and which both use). And a third
# launcher, the installed one as it was before it pointed Deno at that cache.
install_in() {
  bash "$here/install_in_host.sh" "$snap" "$1"
  cat >"$1$lib/mdevctl-allow-all" <<EOF
#!/bin/sh
export MDEVCTL_ARGV0="\$0" DENO_NO_UPDATE_CHECK=1 DENO_DIR='$(realpath -m "$1/var/cache/mdevctl/deno")'
exec '$deno_bin' run -A $flags '$lib/mdevctl.js' "\$@"
EOF
  chmod 755 "$1$lib/mdevctl-allow-all"
  gen launcher bundle "$deno_bin" "$lib/mdevctl.js" "$lib" >"$1$lib/mdevctl-default-deno-dir"
  chmod 755 "$1$lib/mdevctl-default-deno-dir"
}

summary=()
for h in ${BENCH_HOSTS:-small large}; do
  case $h in
    small) shape=${BENCH_SMALL:-2x4x4} runs=${BENCH_RUNS_SMALL:-31} warm=3 ;;
    large) shape=${BENCH_LARGE:-64x256x512} runs=${BENCH_RUNS_LARGE:-5} warm=1 ;;
    *) say "unknown host '$h'"; exit 1 ;;
  esac
  root=$here/hosts/$h
  "$DENO" run -A --no-config "$here/gen_host.ts" --out "$root" --shape "$shape" >/dev/null
  install_in "$root"
  say "host $h ($shape): $runs rounds"
  bash "$top/tests/helpers/host_ns.sh" "$root" "$DENO" run -A --no-config "$here/measure.ts" --label "$h" \
    --host "$root" --out "$here/hosts/sandbox-$h.json" --ours "$lib/mdevctl" \
    --peer "$lib/mdevctl-allow-all" --floor "$floor" --runs "$runs" --warmup "$warm" \
    --mem-runs 1 --commands "${BENCH_COMMANDS:-list;list -d;types}" >/dev/null
  summary+=("$here/hosts/sandbox-$h.json")
  # As a systemd unit runs it: ProtectHome=yes leaves Deno no writable cache
  # directory of its own (an empty read-only HOME here). The installed
  # launcher (ours) points Deno at the install's cache; the one before (peer)
  # left Deno its default.
  if [ "$h" = small ]; then
    home=$root/.unit-home
    mkdir -p "$home"
    parent=$(sed -n 's/.*"firstParent": "\(.*\)".*/\1/p' "$root/.bench-host.json")
    say "host $h as a unit sees it: $runs rounds"
    bash "$top/tests/helpers/host_ns.sh" "$root" sh -c 'mount -t tmpfs -o ro,size=1m unit-home "$0" && exec "$@"' \
      "$home" "$DENO" run -A --no-config "$here/measure.ts" --label "$h, as a unit" \
      --host "$root" --out "$here/hosts/sandbox-$h-unit.json" --ours "env HOME=$home $lib/mdevctl" \
      --peer "env HOME=$home $lib/mdevctl-default-deno-dir" --floor "$floor" --runs "$runs" \
      --warmup "$warm" --mem-runs 1 --commands "list;start-parent-mdevs $parent" >/dev/null
    summary+=("$here/hosts/sandbox-$h-unit.json")
  fi
done

# Medians, and the sandbox's cost relative to the -A launcher.
# From the top, so that the script's relative import finds bench/stats.ts.
(cd "$top" && "$DENO" run --allow-read="$here/hosts" --no-config - "${summary[@]}") <<'EOF'
import { median } from "./bench/stats.ts";
console.log("Against: the -A launcher; on the rows \"as a unit\", the installed launcher before it");
console.log("pointed Deno at the install's cache directory.\n");
console.log("| host | command | sandboxed ms | against ms | floor ms | sandboxed / against |");
console.log("| --- | --- | ---: | ---: | ---: | ---: |");
for (const file of Deno.args) {
  const data = JSON.parse(Deno.readTextFileSync(file));
  for (const c of data.results) {
    const m = (tool: string) => {
      const s = c.samples.find((x: { tool: string }) => x.tool === tool);
      return s && s.status === "ok" && s.times_ms.length ? median(s.times_ms) : NaN;
    };
    const [ours, peer, floor] = [m("ours"), m("peer"), m("floor")];
    const f = (x: number) => Number.isNaN(x) ? "" : x.toFixed(1);
    console.log(
      `| ${data.label} | ${c.command} | ${f(ours)} | ${f(peer)} | ${f(floor)} | ${
        (ours / peer).toFixed(3)
      } |`,
    );
  }
}
EOF

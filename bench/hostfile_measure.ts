// Host-file timings on one fake host, as ratios to `list -d` measured in the
// same run (issue 14); run inside tests/helpers/host_ns.sh's namespace by bench/hostfile.sh.
//
//   deno run -A bench/hostfile_measure.ts --ours "CMDLINE" --type TYPE
//        [--per-parent 8] [--runs 7]
//
// Each round: (untimed) remove what the previous apply defined and the ledger;
// then time `apply -f F` defining PARENTS x per-parent new devices; then, in
// alternating order, `list -d` and `diff -f F` (the host in sync, the common
// readiness-probe case). Medians and ratios are printed as Markdown.

import { median } from "./stats.ts";

const opts: Record<string, string> = {};
for (let i = 0; i < Deno.args.length; i += 2) opts[Deno.args[i]!.slice(2)] = Deno.args[i + 1]!;
const ours = opts["ours"]!.trim().split(/\s+/);
const type = opts["type"]!;
const perParent = Number(opts["per-parent"] ?? "8");
const runs = Number(opts["runs"] ?? "7");

const dir = Deno.makeTempDirSync({ prefix: "hostfile-bench-" });
const file = `${dir}/host.yaml`;
Deno.writeTextFileSync(
  file,
  `version: 1\nowner: bench\npools: [{name: b, type: ${type}, perParent: ${perParent}}]\n`,
);
const ledger = "/var/lib/mdevctl/owners/bench.json";

function time(args: string[], expect: number[] = [0]): number {
  const t0 = performance.now();
  const out = new Deno.Command(ours[0]!, {
    args: [...ours.slice(1), ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const ms = performance.now() - t0;
  if (!expect.includes(out.code)) {
    throw new Error(
      `${args.join(" ")}: exit ${out.code}\n${new TextDecoder().decode(out.stderr).slice(0, 2000)}`,
    );
  }
  return ms;
}

function reset(): number {
  let removed = 0;
  try {
    const l = JSON.parse(Deno.readTextFileSync(ledger));
    for (const [uuid, e] of Object.entries(l.devices as Record<string, { parent: string }>)) {
      Deno.removeSync(`/etc/mdevctl.d/${e.parent}/${uuid}`);
      removed++;
    }
    Deno.removeSync(ledger);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

const apply: number[] = [], list: number[] = [], diff: number[] = [];
time(["list", "-d"]); // warm-up
for (let r = 0; r < runs; r++) {
  reset();
  apply.push(time(["apply", "-f", file]));
  const defined = JSON.parse(Deno.readTextFileSync(ledger)).devices;
  if (r === 0) console.error(`apply defined ${Object.keys(defined).length} devices`);
  if (r % 2 === 0) {
    list.push(time(["list", "-d"]));
    diff.push(time(["diff", "-f", file]));
  } else {
    diff.push(time(["diff", "-f", file]));
    list.push(time(["list", "-d"]));
  }
}
const defs = reset();
const [a, l, d] = [median(apply), median(list), median(diff)];
console.log(`| measure (median of ${runs}) | ms | ratio to list -d | target |`);
console.log(`| --- | ---: | ---: | --- |`);
console.log(`| list -d | ${l.toFixed(0)} | 1.00 | |`);
console.log(`| diff -f F (in sync) | ${d.toFixed(0)} | ${(d / l).toFixed(2)} | <= 1.5 |`);
console.log(
  `| apply -f F (${defs} new definitions) | ${a.toFixed(0)} | ${(a / l).toFixed(2)} | < 3 |`,
);
Deno.removeSync(dir, { recursive: true });

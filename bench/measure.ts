// Timing loop for one fake host; run inside the namespace made by tests/helpers/host_ns.sh.
//
//   deno run -A bench/measure.ts --label NAME --host ROOT --out FILE.json
//        --ours "CMDLINE" --peer "CMDLINE" --floor "CMDLINE"
//        [--runs N] [--warmup W] [--mem-runs M] [--budget SECONDS] [--parent P]
//        [--commands "list;list -d;..."]
//
// Command lines are split on blanks (no shell, no quoting) and run directly, so no shell
// start-up is measured. For every benchmarked mdevctl command line:
//   1. probe: each tool runs it once with stdout/stderr captured; a tool that cannot be
//      spawned or exits non-zero is "n/a" for that command (with the reason);
//   2. the outputs of ours and the peer are compared (trailing whitespace ignored, since
//      1.2.0 ends text listings with an extra blank line and we do not);
//   3. W warm-up runs per tool, then N rounds of ours, peer (, floor) in turn, i.e.
//      A B, B A, A B, ... (the order flips every round; the floor, `deno run` of an empty script with the launcher's flags,
//      joins the rotation for `list` only); stdout/stderr go to /dev/null; wall time is
//      spawn-to-exit seen from here, so the ~0.7 ms spawn cost is in every number
//      (measured separately as "spawn overhead" with /bin/true);
//   4. M runs per tool under /usr/bin/time for peak RSS (%M, max over the runs) and CPU
//      time (%U + %S, user + system of the process and its threads, 10 ms resolution),
//      which suffers less than wall time when other jobs share the machine.
// Raw samples go to FILE.json; bench/report.ts turns them into bench/results.md.

import type { CommandResult, Sample } from "./results_schema.ts";
import { median } from "./stats.ts";
import { runQuiet, runReported } from "./spawn.ts";

interface Tool {
  name: "ours" | "peer" | "floor";
  argv: string[];
}

function die(msg: string): never {
  console.error(`measure: ${msg}`);
  Deno.exit(2);
}

const opts: Record<string, string> = {};
for (let i = 0; i < Deno.args.length; i += 2) {
  const k = Deno.args[i]!;
  const v = Deno.args[i + 1];
  if (!k.startsWith("--") || v === undefined) die(`bad argument '${k}'`);
  opts[k.slice(2)] = v;
}
const need = (k: string) => opts[k] ?? die(`--${k} is required`);
const int = (k: string, dflt: number) => {
  const v = opts[k];
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) die(`--${k} wants an integer`);
  return Number(v);
};
const split = (s: string) => s.trim().split(/\s+/).filter((x) => x !== "");

const label = need("label");
const hostRoot = need("host");
const outFile = need("out");
const runs = int("runs", 11);
const warmup = int("warmup", 2);
const memRuns = int("mem-runs", 3);
const budgetMs = int("budget", 90) * 1000;
const hostInfo = JSON.parse(Deno.readTextFileSync(`${hostRoot}/.bench-host.json`));
const parent: string = opts["parent"] ?? hostInfo.firstParent;
const commandLines = (opts["commands"] ??
  `list;list -d;list -d --dumpjson;list --dumpjson;types;start-parent-mdevs ${parent}`)
  .split(";").map(split).filter((c) => c.length > 0);

const tools: Tool[] = [
  { name: "ours", argv: split(need("ours")) },
  { name: "peer", argv: split(need("peer")) },
];
const floor: Tool = { name: "floor", argv: split(need("floor")) };

const env = Deno.env.toObject();
delete env["MDEVCTL_ENV_ROOT"];
delete env["RUST_LOG"];
env["DENO_NO_UPDATE_CHECK"] = "1";

let failedRuns = 0;
function timeOnce(argv: string[]): number {
  const r = runQuiet(argv, env);
  if (r.code !== 0) failedRuns++;
  return r.ms;
}

function probe(
  argv: string[],
): { ok: boolean; reason?: string; stdout?: string; ms?: number } {
  try {
    const t0 = performance.now();
    const r = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env,
      clearEnv: true,
    }).outputSync();
    if (!r.success) {
      const err = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3).join(" | ");
      return { ok: false, reason: `exit ${r.code}: ${err.slice(0, 300)}` };
    }
    return { ok: true, stdout: new TextDecoder().decode(r.stdout), ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, reason: `cannot run ${argv[0]}: ${(e as Error).message}` };
  }
}

const timeBin = "/usr/bin/time";
const haveTime = (() => {
  try {
    return Deno.statSync(timeBin).isFile;
  } catch {
    return false;
  }
})();

/** Max RSS (KiB) and CPU time (user+sys, ms; 10 ms resolution) of one run. */
function rusageOnce(argv: string[]): { rss: number; cpu: number } | null {
  if (!haveTime) return null;
  const report = runReported((out) => [timeBin, "-f", "%M %U %S", "-o", out], argv, env);
  if (report === null) return null;
  const f = (report.trim().split("\n").pop() ?? "").split(" ").map(Number);
  if (f.length !== 3 || !f.every(Number.isFinite)) return null;
  return { rss: f[0]!, cpu: (f[1]! + f[2]!) * 1000 };
}

const loadavg = () => {
  try {
    return Deno.readTextFileSync("/proc/loadavg").trim();
  } catch {
    return "?";
  }
};
const loadBefore = loadavg();

// Spawn overhead of this harness.
const trueTimes: number[] = [];
for (let i = 0; i < 30; i++) trueTimes.push(timeOnce(["/bin/true"]));

const floorProbe = probe(floor.argv);
const results: CommandResult[] = [];

for (const args of commandLines) {
  const cmdName = args.join(" ");
  const withFloor = args.length === 1 && args[0] === "list";
  const lineup = withFloor ? [...tools, floor] : tools;
  const active: { tool: Tool; argv: string[]; sample: Sample }[] = [];
  const samples: Sample[] = [];
  const outputs = new Map<string, string>();
  const probes: { ms?: number }[] = [];
  for (const tool of lineup) {
    const argv = tool.name === "floor" ? tool.argv : [...tool.argv, ...args];
    const p = tool.name === "floor" ? floorProbe : probe(argv);
    probes.push(p);
    const sample: Sample = {
      tool: tool.name,
      status: p.ok ? "ok" : "n/a",
      times_ms: [],
      maxrss_kib: [],
      cpu_ms: [],
    };
    if (!p.ok) sample.reason = p.reason ?? "failed";
    else active.push({ tool, argv, sample });
    if (p.stdout !== undefined) outputs.set(tool.name, p.stdout);
    samples.push(sample);
  }
  let same: boolean | null = null;
  let note: string | undefined;
  const a = outputs.get("ours"), b = outputs.get("peer");
  if (a !== undefined && b !== undefined) {
    same = a.trimEnd() === b.trimEnd();
    if (!same) {
      const la = a.split("\n"), lb = b.split("\n");
      let i = 0;
      while (i < la.length && la[i] === lb[i]) i++;
      note =
        `first difference at line ${i + 1}: ours ${JSON.stringify((la[i] ?? "").slice(0, 120))}` +
        ` vs peer ${JSON.stringify((lb[i] ?? "").slice(0, 120))}`;
    }
  }
  // A command that is very slow for some tool (a timeout, a wait) gets fewer runs, so the
  // whole benchmark still ends: N rounds must fit in --budget seconds (default 90).
  const slowest = Math.max(0, ...probes.map((p) => p.ms ?? 0));
  let nRuns = runs, nWarm = warmup, nMem = memRuns;
  if (slowest * active.length * (runs + warmup + memRuns) > budgetMs) {
    nRuns = Math.max(3, Math.floor(budgetMs / (slowest * active.length)) - 1);
    nWarm = 0;
    nMem = 1;
  }
  const t0 = performance.now();
  for (let w = 0; w < nWarm; w++) for (const x of active) timeOnce(x.argv);
  for (let r = 0; r < nRuns; r++) {
    // A B, then B A, ...: whoever runs second never has a systematic edge.
    for (const x of r % 2 === 0 ? active : [...active].reverse()) {
      const before = failedRuns;
      x.sample.times_ms.push(timeOnce(x.argv));
      if (failedRuns !== before) x.sample.failed_runs = (x.sample.failed_runs ?? 0) + 1;
    }
  }
  for (let m = 0; m < nMem; m++) {
    for (const x of active) {
      const v = rusageOnce(x.argv);
      if (v !== null) {
        x.sample.maxrss_kib.push(v.rss);
        x.sample.cpu_ms?.push(v.cpu);
      }
    }
  }
  const summary = samples.map((s) =>
    s.status === "ok" ? `${s.tool} ${median(s.times_ms).toFixed(1)} ms` : `${s.tool} n/a`
  ).join(", ");
  console.error(
    `[${label}] ${cmdName}: ${summary}` +
      `${same === false ? " (outputs differ)" : ""} [${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s]`,
  );
  const res: CommandResult = { command: cmdName, args, same_output: same, samples };
  if (nRuns !== runs) res.runs = nRuns;
  if (note !== undefined) res.output_note = note;
  results.push(res);
}

Deno.writeTextFileSync(
  outFile,
  JSON.stringify(
    {
      label,
      host: hostInfo,
      parent,
      runs,
      warmup,
      mem_runs: memRuns,
      tools: Object.fromEntries([...tools, floor].map((t) => [t.name, t.argv.join(" ")])),
      spawn_overhead_ms: trueTimes,
      date: new Date().toISOString(),
      loadavg_before: loadBefore,
      loadavg_after: loadavg(),
      results,
    },
    null,
    2,
  ) + "\n",
);

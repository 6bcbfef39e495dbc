// Start-up cost of the installed launcher against the bare Deno floor, in one
// interleaved run (bench/startup.sh runs it inside tests/helpers/host_ns.sh's namespace).
//
//   deno run -A bench/startup_measure.ts --rounds N --warmup W \
//     --tool "NAME=CMDLINE" --tool "NAME=CMDLINE" ... [--base NAME] [--json FILE]
//
// Every round runs each tool once, in an order rotated every round, so no tool
// keeps a place next to another; command lines are split on blanks and
// spawned directly (no shell). Wall time spawn to exit. Printed per tool: the
// median and the interquartile range (IQR) of its times, and against the base
// tool (default: the first) the ratio of the medians and the median and IQR of
// the per-round ratios (each tool against the base run of the same round,
// which cancels much of the load that other jobs put on a shared machine).
// With --cpu 1, each round also runs every tool under `perf stat -e
// task-clock` and the same figures follow for CPU time (every thread and
// program of the command, the launcher's shell included), which wanders far
// less than wall time on a machine busy with other jobs.

import { runQuiet, runReported } from "./spawn.ts";
import { quantile } from "./stats.ts";
function die(msg: string): never {
  console.error(`startup_measure: ${msg}`);
  Deno.exit(2);
}

const tools: { name: string; argv: string[] }[] = [];
let rounds = 101, warmup = 5, base = "", json = "", cpu = false;
for (let i = 0; i < Deno.args.length; i += 2) {
  const [k, v] = [Deno.args[i], Deno.args[i + 1]];
  if (v === undefined) die(`${k} wants a value`);
  if (k === "--rounds") rounds = Number(v);
  else if (k === "--warmup") warmup = Number(v);
  else if (k === "--base") base = v;
  else if (k === "--json") json = v;
  else if (k === "--cpu") cpu = v === "1";
  else if (k === "--tool") {
    const eq = v.indexOf("=");
    if (eq <= 0) die(`--tool wants NAME=CMDLINE: '${v}'`);
    tools.push({ name: v.slice(0, eq), argv: v.slice(eq + 1).trim().split(/\s+/) });
  } else die(`unknown argument '${k}'`);
}
if (tools.length === 0) die("no --tool");
base ||= tools[0]!.name;
if (!tools.some((t) => t.name === base)) die(`no tool named '${base}'`);

const env = Deno.env.toObject();
env["DENO_NO_UPDATE_CHECK"] = "1";

function once(argv: string[]): number {
  const r = runQuiet(argv, env);
  if (r.code !== 0) die(`${argv.join(" ")} exited with ${r.code}`);
  return r.ms;
}

/** CPU time (ms) of one run, from `perf stat`. */
function cpuOnce(argv: string[]): number {
  const report = runReported(
    (out) => ["perf", "stat", "-x,", "-e", "task-clock", "-o", out, "--"],
    argv,
    env,
  );
  if (report === null) die(`perf stat ${argv.join(" ")} failed`);
  const line = report.split("\n").find((l) => l.includes("task-clock"));
  const ms = Number(line?.split(",")[0]);
  if (!Number.isFinite(ms)) die(`no task-clock from perf stat: ${line}`);
  return ms;
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const loadBefore = load();
for (let w = 0; w < warmup; w++) for (const t of tools) once(t.argv);
const wallTimes = new Map(tools.map((t) => [t.name, [] as number[]]));
const cpuTimes = new Map(tools.map((t) => [t.name, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  const k = r % tools.length;
  for (const t of [...tools.slice(k), ...tools.slice(0, k)]) {
    wallTimes.get(t.name)!.push(once(t.argv));
    if (cpu) cpuTimes.get(t.name)!.push(cpuOnce(t.argv));
  }
}

/** Per tool: median, IQR, and against the base tool. */
function summary(times: Map<string, number[]>) {
  const baseTimes = times.get(base)!;
  return tools.map((t) => {
    const xs = times.get(t.name)!;
    const perRound = xs.map((x, i) => x / baseTimes[i]!);
    return {
      name: t.name,
      command: t.argv.join(" "),
      median_ms: quantile(xs, 0.5),
      iqr_ms: [quantile(xs, 0.25), quantile(xs, 0.75)],
      ratio_of_medians: quantile(xs, 0.5) / quantile(baseTimes, 0.5),
      round_ratio_median: quantile(perRound, 0.5),
      round_ratio_iqr: [quantile(perRound, 0.25), quantile(perRound, 0.75)],
      times_ms: xs,
    };
  });
}

const f = (x: number, d = 1) => x.toFixed(d);
function print(title: string, rows: ReturnType<typeof summary>): void {
  console.log(`\n${title}:\n`);
  console.log(
    `| tool | median ms | IQR ms | / ${base} (medians) | / ${base} per round, median [IQR] |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${f(r.median_ms)} | ${f(r.iqr_ms[0]!)}–${f(r.iqr_ms[1]!)} | ` +
        `${f(r.ratio_of_medians, 3)} | ${f(r.round_ratio_median, 3)} [${
          f(r.round_ratio_iqr[0]!, 3)
        }–${f(r.round_ratio_iqr[1]!, 3)}] |`,
    );
  }
}

console.log(`${rounds} rounds (+${warmup} warm-up), load average ${loadBefore} -> ${load()}`);
const wall = summary(wallTimes);
print("Wall time, spawn to exit", wall);
const cpuRows = cpu ? summary(cpuTimes) : [];
if (cpu) print("CPU time (perf stat task-clock)", cpuRows);
if (json) {
  Deno.writeTextFileSync(json, JSON.stringify({ rounds, loadBefore, wall, cpu: cpuRows }, null, 1));
}

/**
 * Benchmarks of our mdevctl against Debian's mdevctl 1.2.0 (bench/README.md):
 * builds the fake hosts, measures each one in a private mount namespace
 * (tests/helpers/host_ns.sh runs bench/measure.ts there) and writes the report
 * (bench/report.ts). Needs root; installs nothing.
 *
 *   deno run -A bench/run.ts            (or: make bench)
 *   deno run -A bench/run.ts --quick    the small host, 3 runs, report in bench/hosts/quick.md
 *   deno run -A bench/run.ts --knobs    the table of knobs bench/README.md holds
 *
 * The knobs are environment variables; KNOBS is their one description.
 */
import { DEFAULT_PARAMS, ensureHost, type HostParams, parseShape } from "./gen_host.ts";

/** One environment variable the run reads. */
export interface Knob {
  name: string;
  /** The default as the README shows it. */
  shown: string;
  meaning: string;
  /** The default as the code uses it (absent: derived, see `shown`). */
  value?: string;
}

/** Every knob, documented here once (bench/README.md shows this table; bench/run_test.ts checks). */
export const KNOBS: readonly Knob[] = [
  {
    name: "MDEVCTL_OURS",
    shown: "`dist/mdevctl` installed in each host, if newer than `cli.ts` and `lib/`, " +
      "else `<deno> run -A --no-config cli.ts`",
    meaning: "our command line (split on blanks, no shell)",
  },
  {
    name: "MDEVCTL_PEER",
    shown: "`/usr/bin/mdevctl`",
    value: "/usr/bin/mdevctl",
    meaning: "the reference: Debian's mdevctl (`apt-get install mdevctl`)",
  },
  {
    name: "MDEVCTL_FLOOR",
    shown: "derived from our launcher",
    meaning: "the bare Deno floor command line",
  },
  {
    name: "BENCH_HOSTS",
    shown: "`small large scale`",
    value: "small large scale",
    meaning: "which hosts to measure; `scale` is the scaling series",
  },
  {
    name: "BENCH_SMALL",
    shown: "`2x4x4`",
    value: "2x4x4",
    meaning: "shape of the small host: parents × active × defined per parent",
  },
  {
    name: "BENCH_LARGE",
    shown: "`64x256x512`",
    value: "64x256x512",
    meaning: "shape of the large host",
  },
  {
    name: "BENCH_SCALE",
    shown: "`1 4 16 64`",
    value: "1 4 16 64",
    meaning: "parents of each host of the scaling series",
  },
  {
    name: "BENCH_SCALE_SHAPE",
    shown: "`256x512`",
    value: "256x512",
    meaning: "active × defined per parent in the scaling series",
  },
  {
    name: "BENCH_SCALE_COMMANDS",
    shown: "`list;list -d;types`",
    value: "list;list -d;types",
    meaning: "`;`-separated commands of the scaling series",
  },
  {
    name: "BENCH_RUNS_SMALL",
    shown: "`51`",
    value: "51",
    meaning: "timed runs per tool and command on the small host",
  },
  {
    name: "BENCH_RUNS_LARGE",
    shown: "`7`",
    value: "7",
    meaning: "timed runs per tool and command on the large host",
  },
  {
    name: "BENCH_RUNS_SCALE",
    shown: "`5`",
    value: "5",
    meaning: "timed runs per tool, command and host of the scaling series",
  },
  {
    name: "BENCH_WARMUP_SMALL",
    shown: "`3`",
    value: "3",
    meaning: "warm-up runs per tool and command on the small host",
  },
  {
    name: "BENCH_WARMUP_LARGE",
    shown: "`1`",
    value: "1",
    meaning: "warm-up runs on the large host (and the scaling series)",
  },
  {
    name: "BENCH_MEM_RUNS",
    shown: "`3`",
    value: "3",
    meaning: "runs under `/usr/bin/time` for peak RSS and CPU time (`apt-get install time`; " +
      "without it, n/a)",
  },
  {
    name: "BENCH_BUDGET",
    shown: "`90`",
    value: "90",
    meaning: "seconds one command may take on one host; a tool too slow for it (a timeout, a " +
      "wait) gets fewer runs, noted in the report",
  },
  {
    name: "BENCH_COMMANDS",
    shown: "see below",
    meaning: "`;`-separated command lines of the small and large hosts, `PARENT` = the first " +
      "parent",
  },
  {
    name: "BENCH_NICE",
    shown: "`0`",
    value: "0",
    meaning: "niceness of the harness and the tools it runs; `-10` on a machine busy with " +
      "other jobs",
  },
  {
    name: "BENCH_OUT",
    shown: "`bench/results.md` (`--quick`: `bench/hosts/quick.md`)",
    meaning: "where the report goes",
  },
  {
    name: "DENO",
    shown: "`tools/deno_path.sh`",
    meaning: "the Deno that runs the harness",
  },
];

/** The knobs as the Markdown table of bench/README.md. */
export function knobTable(): string {
  const rows = KNOBS.map((k) => `| \`${k.name}\` | ${k.shown} | ${k.meaning} |`);
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows].join("\n") + "\n";
}

/** A knob's value: the environment's, else its declared default. */
function knob(name: string): string {
  const k = KNOBS.find((x) => x.name === name);
  if (k === undefined) throw new Error(`no knob ${name}`);
  const given = Deno.env.get(name);
  if (given !== undefined && given !== "") return given;
  if (k.value === undefined) throw new Error(`knob ${name} has no plain default`);
  return k.value;
}

function given(name: string): string | undefined {
  if (!KNOBS.some((k) => k.name === name)) throw new Error(`no knob ${name}`);
  const v = Deno.env.get(name);
  return v === "" ? undefined : v;
}

function count(name: string): number {
  const v = knob(name);
  if (!/^-?\d+$/.test(v)) die(`${name} wants an integer, not '${v}'`);
  return Number(v);
}

function say(message: string): void {
  console.error(`bench: ${message}`);
}

function die(message: string): never {
  say(message);
  Deno.exit(1);
}

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const TOP = HERE.slice(0, HERE.lastIndexOf("/"));

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Runs a command with inherited output; exits the run when it fails. */
async function run(cmd: string, args: string[], what = cmd): Promise<void> {
  const status = await new Deno.Command(cmd, { args, stdin: "null" }).spawn().status;
  if (!status.success) die(`${what} failed (exit ${status.code})`);
}

function capture(cmd: string, args: string[]): string | null {
  try {
    const out = new Deno.Command(cmd, { args, stdin: "null", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** The newest modification time of the program's sources (ms). */
function newestSource(): number {
  let newest = Deno.statSync(`${TOP}/cli.ts`).mtime?.getTime() ?? 0;
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        newest = Math.max(newest, Deno.statSync(path).mtime?.getTime() ?? 0);
      }
    }
  };
  walk(`${TOP}/lib`);
  return newest;
}

/**
 * Our command line, and the snapshot of dist/ to install in each host when
 * ours is dist/: `make` elsewhere may rebuild dist/ during a run, so a copy
 * taken now is measured, installed as tools/install.sh lays it out.
 */
async function chooseOurs(deno: string): Promise<{ ours: string; snap?: string; built?: string }> {
  const explicit = given("MDEVCTL_OURS");
  if (explicit !== undefined) return { ours: explicit };
  const dist = `${TOP}/dist/mdevctl`;
  if (!isFile(dist) || (Deno.statSync(dist).mtime?.getTime() ?? 0) < newestSource()) {
    if (isFile(dist)) say("dist/mdevctl is older than the sources: measuring cli.ts");
    return { ours: `${deno} run -A --no-config ${TOP}/cli.ts` };
  }
  const snap = `${HERE}/hosts/ours-dist`;
  for (let attempt = 1;; attempt++) {
    await Deno.remove(snap, { recursive: true }).catch(() => {});
    Deno.mkdirSync(snap, { recursive: true });
    await new Deno.Command("cp", { args: ["-a", `${TOP}/dist/.`, `${snap}/`] }).output();
    if (isFile(`${snap}/mdevctl.bin`) || isFile(`${snap}/mdevctl.js`)) break;
    if (attempt === 5) die("dist/ stays incomplete: run make");
    say("dist/ looks incomplete (a build running?), retrying");
    await new Promise((r) => setTimeout(r, 3000));
  }
  const built = new Date(Deno.statSync(dist).mtime!).toISOString().slice(0, 16).replace("T", " ");
  say(`measuring a snapshot of dist/ in ${snap}, installed in each host at /usr/lib/mdevctl`);
  return { ours: "/usr/lib/mdevctl/mdevctl", snap, built: `${built} UTC` };
}

/**
 * The bare Deno floor: `deno run` of an empty script with the flags ours
 * uses; for our shell launcher the pinned Deno and the flags of the sandbox
 * declaration; for a compiled binary, the empty script compiled alike.
 */
async function chooseFloor(
  deno: string,
  ours: string,
  launcher: string,
): Promise<{ floor: string; note: string }> {
  const explicit = given("MDEVCTL_FLOOR");
  if (explicit !== undefined) return { floor: explicit, note: "MDEVCTL_FLOOR" };
  const empty = `${HERE}/empty.ts`;
  const words = ours.split(/\s+/);
  const script = words.findIndex((w) => /\.(ts|js|mjs)$/.test(w));
  if (script >= 0) {
    return {
      floor: [...words.slice(0, script), empty].join(" "),
      note: "ours with bench/empty.ts as the script",
    };
  }
  if (isFile(launcher)) {
    const text = Deno.readTextFileSync(launcher);
    const dir = launcher.slice(0, launcher.lastIndexOf("/"));
    if (
      text.startsWith("#!") &&
      (isFile(`${dir}/mdevctl.js`) || isFile(`${dir}/../lib/mdevctl/mdevctl.js`))
    ) {
      // Our shell launcher of a bundle: the pinned Deno and the flags the
      // sandbox declaration gives it (tools/sandbox_paths.ts), no permissions.
      const flags = capture(deno, [
        "run",
        "--quiet",
        "--no-lock",
        "--allow-read",
        `${TOP}/tools/gen_sandbox.ts`,
        "deno-flags",
      ]);
      const pinned = capture(`${TOP}/tools/deno_path.sh`, []);
      if (flags !== null && pinned !== null) {
        return {
          floor: `${pinned} run ${flags} ${empty}`,
          note: `the Deno and the flags of ${launcher} (tools/sandbox_paths.ts)`,
        };
      }
    }
    const head = new Uint8Array(4);
    const f = Deno.openSync(launcher);
    f.readSync(head);
    f.close();
    if (head[0] === 0x7f && new TextDecoder().decode(head.slice(1)) === "ELF") {
      const bin = `${HERE}/hosts/floor-compiled`;
      const out = await new Deno.Command(deno, {
        args: [
          "compile",
          "--quiet",
          "-A",
          "--no-prompt",
          "--no-config",
          "--no-lock",
          "--deny-net",
          "-o",
          bin,
          empty,
        ],
        env: { DENO_NO_UPDATE_CHECK: "1" },
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) {
        return { floor: bin, note: "deno compile of bench/empty.ts (ours is a compiled binary)" };
      }
    }
  }
  return {
    floor: `${deno} run -A --no-config ${empty}`,
    note: `default (could not derive from '${ours}')`,
  };
}

/** One host to measure: its name, parameters, runs and commands. */
interface HostPlan {
  name: string;
  params: HostParams;
  runs: number;
  warmup: number;
  memRuns: number;
  commands: string | undefined;
}

function shape(name: string, text: string): Pick<HostParams, "parents" | "active" | "defined"> {
  return parseShape(text) ?? die(`${name} wants PARENTSxACTIVExDEFINED, not '${text}'`);
}

/** The hosts of this run, from the knobs (or the quick mode's fixed small host). */
function plan(quick: boolean): HostPlan[] {
  const memRuns = count("BENCH_MEM_RUNS");
  if (quick) {
    return [{
      name: "small",
      params: { ...DEFAULT_PARAMS, ...shape("BENCH_SMALL", knob("BENCH_SMALL")) },
      runs: 3,
      warmup: 0,
      memRuns: 1,
      commands: given("BENCH_COMMANDS"),
    }];
  }
  const hosts: HostPlan[] = [];
  for (const h of knob("BENCH_HOSTS").split(/\s+/).filter((x) => x !== "")) {
    if (h === "small" || h === "large") {
      const up = h.toUpperCase();
      hosts.push({
        name: h,
        params: { ...DEFAULT_PARAMS, ...shape(`BENCH_${up}`, knob(`BENCH_${up}`)) },
        runs: count(`BENCH_RUNS_${up}`),
        warmup: count(`BENCH_WARMUP_${up}`),
        memRuns,
        commands: given("BENCH_COMMANDS"),
      });
    } else if (h === "scale") {
      const perParent = knob("BENCH_SCALE_SHAPE");
      for (const n of knob("BENCH_SCALE").split(/\s+/).filter((x) => x !== "")) {
        hosts.push({
          name: `scale-${n}`,
          params: { ...DEFAULT_PARAMS, ...shape("BENCH_SCALE_SHAPE", `${n}x${perParent}`) },
          runs: count("BENCH_RUNS_SCALE"),
          warmup: count("BENCH_WARMUP_LARGE"),
          memRuns: 0,
          commands: knob("BENCH_SCALE_COMMANDS"),
        });
      }
    } else die(`unknown host '${h}' (small, large or scale)`);
  }
  return hosts;
}

async function main(): Promise<void> {
  if (Deno.args.includes("--knobs")) {
    console.log(knobTable().trimEnd());
    return;
  }
  const unknown = Deno.args.find((a) => a !== "--quick");
  if (unknown !== undefined) die(`unknown argument '${unknown}' (--quick, --knobs)`);
  const quick = Deno.args.includes("--quick");
  const deno = given("DENO") ?? capture(`${TOP}/tools/deno_path.sh`, []) ?? die("no Deno (npm ci)");
  if (Deno.uid() !== 0) die("must run as root (unshare -m and mount are needed)");
  if (capture("sh", ["-c", "command -v unshare"]) === null) die("unshare (util-linux) is missing");
  const peer = knob("MDEVCTL_PEER");
  if (!isFile(peer.split(/\s+/)[0]!)) {
    die(`no reference mdevctl at '${peer}': apt-get install mdevctl, or set MDEVCTL_PEER`);
  }
  if (!isFile("/usr/bin/time")) {
    say("no /usr/bin/time (apt-get install time): peak memory will be n/a");
  }
  const out = given("BENCH_OUT") ?? (quick ? `${HERE}/hosts/quick.md` : `${HERE}/results.md`);
  Deno.mkdirSync(`${HERE}/hosts`, { recursive: true });

  const { ours, snap, built } = await chooseOurs(deno);
  const { floor, note } = await chooseFloor(
    deno,
    ours,
    snap ? `${snap}/mdevctl` : ours.split(/\s+/)[0]!,
  );
  say(`ours:  ${ours}`);
  say(`peer:  ${peer}`);
  say(`floor: ${floor} (${note})`);

  const nice = knob("BENCH_NICE");
  const results: string[] = [];
  for (const h of plan(quick)) {
    const root = `${HERE}/hosts/${h.name}`;
    const stamp = await ensureHost(root, h.params);
    if (snap) await run("bash", [`${HERE}/install_in_host.sh`, snap, root], "install_in_host.sh");
    const file = `${HERE}/hosts/results-${h.name}.json`;
    const args = [
      "--label",
      h.name,
      "--host",
      root,
      "--out",
      file,
      "--ours",
      ours,
      "--peer",
      peer,
      "--floor",
      floor,
      "--runs",
      String(h.runs),
      "--warmup",
      String(h.warmup),
      "--mem-runs",
      String(h.memRuns),
      "--budget",
      knob("BENCH_BUDGET"),
    ];
    if (h.commands !== undefined) {
      args.push("--commands", h.commands.replaceAll("PARENT", stamp.firstParent));
    }
    const { parents, active, defined } = h.params;
    say(`host ${h.name} (${parents}x${active}x${defined}): ${h.runs} runs per tool and command`);
    await run("nice", [
      "-n",
      nice,
      "bash",
      `${TOP}/tests/helpers/host_ns.sh`,
      root,
      deno,
      "run",
      "-A",
      "--no-config",
      `${HERE}/measure.ts`,
      ...args,
    ], `measuring host ${h.name}`);
    results.push(file);
  }

  let rev = capture("git", ["-C", TOP, "rev-parse", "--short", "HEAD"]) ?? "?";
  if (capture("git", ["-C", TOP, "status", "--porcelain", "--", "cli.ts", "lib", "dist"])) {
    rev += " (with uncommitted changes)";
  }
  if (built) rev += `; dist/ built ${built}`;
  await run(deno, [
    "run",
    "-A",
    "--no-config",
    `${HERE}/report.ts`,
    "--out",
    out,
    "--peer-version",
    capture(peer.split(/\s+/)[0]!, ["--version"])?.split("\n")[0] ?? "",
    "--deno-version",
    capture(deno, ["--version"])?.split("\n")[0] ?? "",
    "--ours-rev",
    rev,
    "--floor-note",
    note,
    "--nice",
    nice,
    ...results,
  ], "report.ts");
  // The generated tables and chart as `make check` (deno fmt --check) wants them.
  const svg = `${out.slice(0, out.lastIndexOf("/") + 1) || "./"}scaling.svg`;
  await new Deno.Command(deno, { args: ["fmt", "--quiet", out, ...(isFile(svg) ? [svg] : [])] })
    .output();
  say(`wrote ${out}`);
}

if (import.meta.main) await main();

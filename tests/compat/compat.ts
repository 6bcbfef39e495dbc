// Compatibility suite: runs every scenario of scenarios.ts with Debian's
// mdevctl 1.2.0 and with ours, each in a private mount namespace over a fresh
// copy of the same fake host, and compares exit status, stdout and the final
// state of sysfs and the config tree, applying only the differences of
// differences.ts that a scenario names.  Entry point: tests/compat/run.sh.
//
// Environment:
//   MDEVCTL_OURS     command line of our tool (default: <repo>/dist/mdevctl if
//                    it exists and is newer than every source file, else
//                    `<repo>/node_modules/.bin/deno run -A --no-config <repo>/cli.ts`)
//   LSMDEV_OURS      command line for ours as lsmdev (default <repo>/dist/lsmdev
//                    if it exists, else MDEVCTL_OURS run with argv[0]=lsmdev)
//   MDEVCTL_DEBIAN   Debian's binary (default /usr/bin/mdevctl)
//   COMPAT_SELFTEST  1: "ours" is Debian's binary; declared differences accept
//                    either form (set automatically when MDEVCTL_OURS is it)
//   COMPAT_ONLY      regular expression selecting scenarios by name
//   COMPAT_KEEP      1: keep the temporary hosts (path is printed)
//   COMPAT_JOBS      scenarios run in parallel (default 3)
//   COMPAT_SHOW      1: print both sides' transcripts (status, stdout, stderr)

import { DIFF_BY_ID, DIFFERENCES } from "./differences.ts";
import { buildHost, CALL_LOG } from "../helpers/fake_host.ts";
import { readTree } from "../helpers/tree.ts";
import { type Command, type Scenario, SCENARIOS } from "./scenarios.ts";

const here = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const repo = here.replace(/\/tests\/compat$/, "");

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

const DEBIAN = Deno.env.get("MDEVCTL_DEBIAN") ?? "/usr/bin/mdevctl";
const DEBIAN_LSMDEV = exists("/usr/bin/lsmdev") && DEBIAN === "/usr/bin/mdevctl"
  ? "/usr/bin/lsmdev"
  : `exec -a lsmdev ${DEBIAN}`;
/** dist/ is used only when it is at least as new as every source file, so
 * that running this script directly never tests a stale build. */
function distIsFresh(): boolean {
  const mtime = (p: string) => Deno.statSync(p).mtime?.getTime() ?? 0;
  if (!exists(`${repo}/dist/mdevctl`)) return false;
  const built = Math.max(
    mtime(`${repo}/dist/mdevctl`),
    exists(`${repo}/dist/mdevctl.js`) ? mtime(`${repo}/dist/mdevctl.js`) : 0,
  );
  const sources: string[] = [`${repo}/cli.ts`];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        sources.push(`${dir}/${e.name}`);
      }
    }
  };
  if (exists(`${repo}/lib`)) walk(`${repo}/lib`);
  return sources.every((p) => !exists(p) || mtime(p) <= built);
}
const USE_DIST = Deno.env.get("MDEVCTL_OURS") === undefined && distIsFresh();
const OURS = Deno.env.get("MDEVCTL_OURS") ??
  (USE_DIST
    ? `${repo}/dist/mdevctl`
    : `${repo}/node_modules/.bin/deno run -A --no-config ${repo}/cli.ts`);
const OURS_LSMDEV = Deno.env.get("LSMDEV_OURS") ??
  (USE_DIST && exists(`${repo}/dist/lsmdev`) ? `${repo}/dist/lsmdev` : `exec -a lsmdev ${OURS}`);
const SELFTEST = Deno.env.get("COMPAT_SELFTEST") === "1" ||
  OURS.trim() === DEBIAN || OURS.trim() === "mdevctl";
const KEEP = Deno.env.get("COMPAT_KEEP") === "1";
const JOBS = Number(Deno.env.get("COMPAT_JOBS") ?? "3") || 3;
const ONLY = Deno.env.get("COMPAT_ONLY");
const SHOW = Deno.env.get("COMPAT_SHOW") === "1";

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

interface SideRun {
  results: Result[];
  state: string[];
  log: string;
  setupError?: string;
}

const UUID_RE = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

function shq(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** the argv lists one side runs for one scenario command */
function sideArgs(cmd: Command, debianSide: boolean): string[][] {
  if (cmd.debianAlt !== undefined && (debianSide || SELFTEST)) return cmd.debianAlt;
  return [cmd.args];
}

function hasMapping(s: Scenario): boolean {
  return (s.diffs ?? []).includes("callout-dirs");
}

async function runSide(s: Scenario, h: string, debianSide: boolean): Promise<SideRun> {
  // The host as ns.sh mounts it: relative links as the kernel's, kernel-like modes,
  // 1.2.0's script directories; runner directories for lock, inputs, results.
  await buildHost(h, { deprecatedScriptDirs: true, ...s.host }, {
    relativeLinks: true,
    sysfsModes: true,
    usrLibScriptsToEtc: (debianSide || SELFTEST) && hasMapping(s),
  });
  for (const dir of ["run/lock", "in", "out", "cwd"]) {
    await Deno.mkdir(`${h}/${dir}`, { recursive: true });
  }
  await Deno.writeTextFile(`${h}/${CALL_LOG}`, "");
  await Deno.chmod(`${h}/${CALL_LOG}`, 0o666);
  const m = debianSide ? DEBIAN : OURS;
  const l = debianSide ? DEBIAN_LSMDEV : OURS_LSMDEV;
  const lines = [
    `m() { ${m} "$@"; }`,
    `l() { (${l} "$@"); }`,
  ];
  // index of the result compared for each scenario command (-1: none run)
  const resultIndex: number[] = [];
  let n = 0;
  for (const [ci, cmd] of s.cmds.entries()) {
    const argvs = sideArgs(cmd, debianSide);
    if (cmd.stdin !== undefined) await Deno.writeTextFile(`${h}/out/${ci}.stdin`, cmd.stdin);
    for (const argv of argvs) {
      const args = argv.map((a) => shq(a.replaceAll("@IN/", `${h}/in/`))).join(" ");
      const inp = cmd.stdin !== undefined ? `"$H/out/${ci}.stdin"` : "/dev/null";
      lines.push(
        `${
          cmd.lsmdev ? "l" : "m"
        } ${args} <${inp} >"$H/out/r${n}.stdout" 2>"$H/out/r${n}.stderr"; echo $? >"$H/out/r${n}.rc"`,
      );
      n++;
    }
    resultIndex.push(argvs.length === 0 ? -1 : n - 1);
  }
  await Deno.writeTextFile(`${h}/cmds.sh`, lines.join("\n") + "\n");

  // a variable that is set (even empty) changes behaviour: remove them
  const envObj = Deno.env.toObject();
  for (
    const k of [
      "MDEVCTL_ENV_ROOT",
      "MDEVCTL_LOG",
      "MDEVCTL_LOG_STYLE",
      "RUST_BACKTRACE",
      "RUST_LIB_BACKTRACE",
    ]
  ) delete envObj[k];
  const out = await new Deno.Command("timeout", {
    args: [
      "-k",
      "5",
      "90",
      "unshare",
      "-m",
      "--propagation",
      "private",
      "bash",
      `${here}/ns.sh`,
      h,
    ],
    env: envObj,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const td = new TextDecoder();
  if (out.code !== 0) {
    return {
      results: [],
      state: [],
      log: "",
      setupError: `namespace run exited ${out.code}: ${td.decode(out.stderr).trim()}`,
    };
  }
  const results: Result[] = [];
  for (const idx of resultIndex) {
    if (idx < 0) {
      results.push({ status: -1, stdout: "", stderr: "" });
      continue;
    }
    const rd = (ext: string) => Deno.readTextFile(`${h}/out/r${idx}.${ext}`).catch(() => "");
    results.push({
      status: Number((await rd("rc")).trim()),
      stdout: await rd("stdout"),
      stderr: await rd("stderr"),
    });
  }
  return {
    results,
    state: await captureState(h),
    log: await Deno.readTextFile(`${h}/${CALL_LOG}`),
  };
}

/** Final state of the parts of the host the tools may write: every entry
 * under sys/ and etc/mdevctl.d/ (scripts.d excluded: it only holds inputs),
 * as sorted "relative-path\tkind mode content" lines.  Symlinks are not
 * followed (their absolute targets only resolve inside the namespace). */
async function captureState(h: string): Promise<string[]> {
  const out: string[] = [];
  for (const top of ["sys", "etc/mdevctl.d"]) {
    const st = await Deno.lstat(`${h}/${top}`);
    out.push(`${top}\td ${((st.mode ?? 0) & 0o7777).toString(8)}`);
    const entries = await readTree(`${h}/${top}`, {
      contents: true,
      prune: (path) => top === "etc/mdevctl.d" && path === "scripts.d/",
    });
    for (const e of entries) {
      const rel = `${top}/${e.path.replace(/\/$/, "")}`;
      const mode = e.mode.toString(8);
      out.push(
        e.kind === "link"
          ? `${rel}\tl -> ${e.target}`
          : e.kind === "dir"
          ? `${rel}\td ${mode}`
          : `${rel}\tf ${mode} ${
            JSON.stringify(new TextDecoder().decode(e.bytes ?? new Uint8Array()))
          }`,
      );
    }
  }
  return out.sort();
}

/** Replaces the host path and every uuid that the scenario does not mention
 * (i.e. generated ones) by placeholders, consistently within one side. */
function normaliser(s: Scenario, h: string): (text: string) => string {
  const known = new Set(
    (JSON.stringify(s).match(UUID_RE) ?? []).map((u) => u.toLowerCase()),
  );
  const gen = new Map<string, string>();
  return (text: string) =>
    text.replaceAll(h, "<HOST>").replace(UUID_RE, (u) => {
      if (known.has(u.toLowerCase())) return u;
      let g = gen.get(u);
      if (g === undefined) {
        g = `<generated-uuid-${gen.size + 1}>`;
        gen.set(u, g);
      }
      return g;
    });
}

function errorLine(stderr: string): string {
  return stderr.split("\n").find((l) => l.startsWith("Error:")) ?? "(no Error: line)";
}

function show(s: string): string {
  return JSON.stringify(s);
}

function lineDiff(a: string[], b: string[], la: string, lb: string): string[] {
  const sa = new Set(a), sb = new Set(b);
  const out: string[] = [];
  for (const x of a) if (!sb.has(x)) out.push(`      - ${la}: ${x}`);
  for (const x of b) if (!sa.has(x)) out.push(`      + ${lb}: ${x}`);
  return out;
}

function textDiff(exp: string, got: string): string[] {
  const a = exp.split("\n"), b = got.split("\n");
  const out: string[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) out.push(`      - expected[${i}]: ${show(a[i] ?? "")}`);
    if (b[i] !== undefined) out.push(`      + ours    [${i}]: ${show(b[i] ?? "")}`);
  }
  if (out.length === 0) out.push(`      expected ${show(exp)}, ours ${show(got)}`);
  return out;
}

function cmdLabel(cmd: Command): string {
  return `${cmd.lsmdev ? "lsmdev" : "mdevctl"} ${cmd.args.join(" ")}`;
}

function compare(s: Scenario, deb: SideRun, ours: SideRun, hd: string, ho: string): string[] {
  const problems: string[] = [];
  if (deb.setupError) return [`    debian side could not run: ${deb.setupError}`];
  if (ours.setupError) return [`    ours side could not run: ${ours.setupError}`];
  const nd = normaliser(s, hd), no = normaliser(s, ho);
  for (const [i, cmd] of s.cmds.entries()) {
    const diffs = [...(s.diffs ?? []), ...(cmd.diffs ?? [])].map((id) => DIFF_BY_ID.get(id)!);
    const d0 = deb.results[i]!, o0 = ours.results[i]!;
    const d: Result = { ...d0, stdout: nd(d0.stdout), stderr: nd(d0.stderr) };
    const o: Result = { ...o0, stdout: no(o0.stdout), stderr: no(o0.stderr) };
    let sameError = cmd.sameError === true;
    for (const df of diffs) {
      if (df.mechanism.includes("stdout") && df.normStdout) {
        d.stdout = df.normStdout(d.stdout);
        if (SELFTEST) o.stdout = df.normStdout(o.stdout);
      }
      if (df.mechanism.includes("both-stdout") && df.normStdout) {
        d.stdout = df.normStdout(d.stdout);
        o.stdout = df.normStdout(o.stdout);
      }
      if (df.mechanism.includes("status") && df.mapStatus) {
        d.status = df.mapStatus(d.status);
        if (SELFTEST && df.mapStatus(o.status) !== o.status) {
          o.status = df.mapStatus(o.status);
          o.stderr ||= "(status mapped in self-test mode)";
        }
      }
      if (df.mechanism.includes("no-error-line")) sameError = false;
      if (df.mechanism.includes("nonempty-stdout")) {
        d.stdout = o.stdout.length > 0 ? o.stdout : "(some output)";
      }
    }
    let exp: { status: number; stdout?: string } = d;
    if (cmd.expectOurs && !SELFTEST) {
      exp = cmd.expectOurs;
      sameError = false;
    }
    const label = `    [${i}] ${cmdLabel(cmd)}`;
    const p: string[] = [];
    if (exp.status !== o.status) {
      p.push(`      exit status: expected ${exp.status}, ours ${o.status}`);
    }
    if (exp.stdout !== undefined && exp.stdout !== o.stdout) {
      p.push("      stdout differs:", ...textDiff(exp.stdout, o.stdout));
    }
    if (o.status > 0 && o.stderr.trim() === "") p.push("      ours failed with an empty stderr");
    // spec §0.7: never a crash, no stack traces
    if (!SELFTEST && /Uncaught|^\s+at .+:\d+:\d+\)?$/m.test(o.stderr)) {
      p.push("      ours printed an uncaught exception / stack trace (spec §0.7)");
    }
    if (sameError && o.status !== 0 && errorLine(d.stderr) !== errorLine(o.stderr)) {
      p.push(
        `      error line: expected ${show(errorLine(d.stderr))}, ours ${
          show(errorLine(o.stderr))
        }`,
      );
    }
    if (p.length) {
      problems.push(label, ...p);
      if (o.stderr.trim()) problems.push(`      ours stderr: ${show(o.stderr.slice(0, 400))}`);
    }
  }
  let sd = deb.state.map(nd), so = ours.state.map(no);
  for (const df of DIFFERENCES) {
    if (df.normState && (df.global || (s.diffs ?? []).includes(df.id))) {
      sd = df.normState(sd);
      so = df.normState(so);
    }
  }
  const sdiff = lineDiff(sd, so, "debian", "ours  ");
  if (sdiff.length) problems.push("    final state differs (sysfs / config tree):", ...sdiff);
  const ld = s.expectOursLog && !SELFTEST
    ? s.expectOursLog
    : nd(deb.log).split("\n").filter(Boolean);
  const lo = no(ours.log).split("\n").filter(Boolean);
  if (ld.join("\n") !== lo.join("\n")) {
    problems.push("    callout/notifier log differs:");
    const n = Math.max(ld.length, lo.length);
    for (let k = 0; k < n; k++) {
      if (ld[k] === lo[k]) continue;
      if (ld[k] !== undefined) problems.push(`      - expected[${k}]: ${ld[k]}`);
      if (lo[k] !== undefined) problems.push(`      + ours  [${k}]: ${lo[k]}`);
    }
  }
  return problems;
}

function transcript(s: Scenario, deb: SideRun, ours: SideRun): string[] {
  const out: string[] = [];
  for (const [i, cmd] of s.cmds.entries()) {
    out.push(`    [${i}] ${cmdLabel(cmd)}`);
    for (const [side, r] of [["debian", deb.results[i]], ["ours  ", ours.results[i]]] as const) {
      if (!r) continue;
      out.push(`      ${side} ${r.status} out=${show(r.stdout)} err=${show(r.stderr)}`);
    }
  }
  out.push(`    debian log: ${show(deb.log)}`, `    ours log:   ${show(ours.log)}`);
  return out;
}

function validate(scenarios: Scenario[]): string[] {
  const errs: string[] = [];
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) errs.push(`duplicate scenario name ${s.name}`);
    names.add(s.name);
    const all = [...(s.diffs ?? []), ...s.cmds.flatMap((c) => c.diffs ?? [])];
    for (const id of all) if (!DIFF_BY_ID.has(id)) errs.push(`${s.name}: unknown difference ${id}`);
    const scenarioMech = new Set(
      (s.diffs ?? []).flatMap((id) => DIFF_BY_ID.get(id)?.mechanism ?? []),
    );
    if (s.expectOursLog && !scenarioMech.has("expect-log")) {
      errs.push(`${s.name}: expectOursLog without an expect-log difference`);
    }
    for (const c of s.cmds) {
      const ids = [...(s.diffs ?? []), ...(c.diffs ?? [])];
      const mech = new Set(ids.flatMap((id) => DIFF_BY_ID.get(id)?.mechanism ?? []));
      if (c.expectOurs && !mech.has("expect-ours")) {
        errs.push(`${s.name}: expectOurs without an expect-ours difference`);
      }
      if (c.debianAlt && !mech.has("debian-alt")) {
        errs.push(`${s.name}: debianAlt without a debian-alt difference`);
      }
    }
  }
  return errs;
}

/** `compat.ts --list-differences`: the table, with the scenarios using each */
function listDifferences(): void {
  for (const d of DIFFERENCES) {
    const users = SCENARIOS.filter((s) =>
      (s.diffs ?? []).includes(d.id) || s.cmds.some((c) => (c.diffs ?? []).includes(d.id))
    ).map((s) => s.name);
    console.log(
      `${d.id}  [${d.source}]  mechanism: ${d.mechanism.join(", ")}${d.global ? " (global)" : ""}`,
    );
    console.log(`  Debian 1.2.0: ${d.debian}`);
    console.log(`  ours:         ${d.ours}`);
    console.log(
      `  scenarios:    ${d.global ? "all" : users.join(", ") || "(none: documentation only)"}`,
    );
  }
}

async function main(): Promise<number> {
  if (Deno.args.includes("--list-differences")) {
    listDifferences();
    return 0;
  }
  const errs = validate(SCENARIOS);
  if (errs.length) {
    for (const e of errs) console.log(`scenario table error: ${e}`);
    console.log(`0 passed, ${errs.length} failed`);
    return 1;
  }
  const re = ONLY ? new RegExp(ONLY) : undefined;
  const scenarios = SCENARIOS.filter((s) => !re || re.test(s.name));
  console.log(
    `compat: debian=${DEBIAN} ours=${OURS}${
      SELFTEST ? " (self-test mode)" : ""
    }; ${scenarios.length} scenarios`,
  );
  const tmp = await Deno.makeTempDir({ prefix: "mdevctl-compat-" });
  if (KEEP) console.log(`compat: hosts kept in ${tmp}`);
  const t0 = performance.now();
  const reports: (string[] | undefined)[] = new Array(scenarios.length);
  const transcripts: string[][] = [];
  let printed = 0, passed = 0, failed = 0;
  const flush = () => {
    while (printed < scenarios.length && reports[printed] !== undefined) {
      const r = reports[printed]!;
      const name = scenarios[printed]!.name;
      for (const l of transcripts[printed] ?? []) console.log(l);
      if (r.length === 0) {
        console.log(`PASS ${name}`);
        passed++;
      } else {
        console.log(`FAIL ${name}`);
        for (const l of r) console.log(l);
        failed++;
      }
      printed++;
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const i = next++;
      const s = scenarios[i]!;
      const base = `${tmp}/${String(i).padStart(3, "0")}-${
        s.name.replace(/[^A-Za-z0-9_.-]/g, "_")
      }`;
      try {
        const hd = `${base}/debian`, ho = `${base}/ours`;
        const deb = await runSide(s, hd, true);
        const ours = await runSide(s, ho, false);
        reports[i] = compare(s, deb, ours, hd, ho);
        if (SHOW) transcripts[i] = transcript(s, deb, ours);
      } catch (e) {
        reports[i] = [
          `    harness error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`,
        ];
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  flush();
  if (!KEEP) await Deno.remove(tmp, { recursive: true }).catch(() => {});
  console.log(`compat: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

Deno.exit(await main());

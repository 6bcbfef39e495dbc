/**
 * Makes everything the permission sandbox needs from its one declaration,
 * tools/sandbox_paths.ts (docs/sandbox.md):
 *
 *   gen_sandbox.ts launcher [--view-per-run] [--deno-dir DIR] bundle DENO BUNDLE VIEWS_DIR
 *   gen_sandbox.ts launcher [--view-per-run] compiled BINARY VIEWS_DIR
 *       prints the launcher (tools/launcher.sh with its configuration);
 *       VIEWS_DIR holds the empty view directories (LIBDIR, or dist/)
 *   gen_sandbox.ts compile-flags OUTDIR LIBDIR
 *       prints the permission and V8 flags of `deno compile`, one a line
 *   gen_sandbox.ts deno-flags
 *       prints Deno's flags besides the permissions (bench/'s floor uses them)
 *   gen_sandbox.ts check | update
 *       compares (or rewrites) the generated blocks of systemd/*.in and the
 *       table of docs/sandbox.md
 *
 * The pure parts are exported for tools/gen_sandbox_test.ts and the tests
 * under tests/install/.
 */
import {
  DENO_RUN_FLAGS,
  ENV_VARS,
  PROGRAMS,
  SANDBOX_PATHS,
  SCRIPT_DIRS,
  V8_FLAGS,
  VIEWS,
} from "./sandbox_paths.ts";

const TOP = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** The units whose sandbox block is generated. */
export const UNITS = [
  "systemd/mdev@.service.in",
  "systemd/mdevctl-autostart@.service.in",
  "systemd/mdevctl-wait-online.service.in",
  "systemd/mdevctl-apply.service.in",
] as const;
/** The documentation holding the generated table and unit lines. */
export const DOC = "docs/sandbox.md";

const UNIT_BEGIN =
  "# BEGIN sandbox (generated from tools/sandbox_paths.ts by tools/gen_sandbox.ts)";
const UNIT_END = "# END sandbox";
const DOC_BEGIN = "<!-- BEGIN sandbox table (generated from tools/sandbox_paths.ts) -->";
const DOC_END = "<!-- END sandbox table -->";
const DOC_UNIT_BEGIN = "<!-- BEGIN sandbox unit lines (generated from tools/sandbox_paths.ts) -->";
const DOC_UNIT_END = "<!-- END sandbox unit lines -->";

/** A path with every comma doubled, as Deno's permission lists want. */
export function escapeComma(path: string): string {
  return path.replaceAll(",", ",,");
}

/** The declaration's own rules: root-relative, no blank, no comma, no dot segment. */
export function declarationProblems(): string[] {
  const problems: string[] = [];
  const all = [...SANDBOX_PATHS.map((p) => p.path), ...SCRIPT_DIRS];
  for (const path of all) {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) {
      problems.push(`${path}: not a plain root-relative path`);
    }
  }
  for (const p of SANDBOX_PATHS) {
    if ((p.access === "write") !== (p.unit !== undefined)) {
      problems.push(`${p.path}: a unit grant goes with write access, and only with it`);
    }
  }
  for (const name of [...PROGRAMS, ...ENV_VARS.map((v) => v.name)]) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) problems.push(`${name}: not a plain name`);
  }
  return problems;
}

/** The view a root-relative path is reached through, if any. */
function viewOf(path: string) {
  return VIEWS.find((v) => path === v.tree || path.startsWith(`${v.tree}/`));
}

/**
 * The grants of `access` where an installed program reaches them: below
 * "/", and through the views in `viewsDir` (each entry comma-escaped).
 */
export function grants(access: "write" | "read", viewsDir: string): string[] {
  return SANDBOX_PATHS.filter((p) => p.access === access).map((p) => {
    const view = viewOf(p.path);
    return view
      ? escapeComma(`${viewsDir}/${view.dir}`) + p.path.slice(view.tree.length)
      : `/${p.path}`;
  });
}

/** `--allow-env`'s list. */
export function envList(): string {
  return ENV_VARS.map((v) => v.name).join(",");
}

/** Shell single quoting. */
function q(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Where `name` is on PATH, else `/usr/bin/<name>`. */
function which(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && (info.mode ?? 0) & 0o111) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return `/usr/bin/${name}`;
}

/** What one launcher runs, and where its views are. */
export type LauncherOptions =
  & { viewsDir: string; keep: boolean; unshare?: string; mount?: string }
  & (
    | { form: "bundle"; deno: string; bundle: string; denoDir?: string }
    | { form: "compiled"; binary: string }
  );

/** The configuration block of tools/launcher.sh. */
export function launcherConfig(o: LauncherOptions): string {
  const view = (tree: string) => `${o.viewsDir}/${VIEWS.find((v) => v.tree === tree)!.dir}`;
  const lines = [
    `form=${o.form}`,
    ...(o.form === "bundle"
      ? [
        `deno=${q(o.deno)}`,
        `bundle=${q(o.bundle)}`,
        `flags=${q(DENO_RUN_FLAGS.join(" "))}`,
        `denodir=${q(o.denoDir ?? "")}`,
      ]
      : [`binary=${q(o.binary)}`]),
    `view=${q(view("sys"))}`,
    `devview=${q(view("dev"))}`,
    `keep=${o.keep ? 1 : 0}`,
    `unshare=${q(o.unshare ?? which("unshare"))}`,
    `mount=${q(o.mount ?? which("mount"))}`,
    `write=${q(SANDBOX_PATHS.filter((p) => p.access === "write").map((p) => p.path).join(" "))}`,
    `read=${q(SANDBOX_PATHS.filter((p) => p.access === "read").map((p) => p.path).join(" "))}`,
    `scripts=${q(SCRIPT_DIRS.join(" "))}`,
    `programs=${q(PROGRAMS.join(","))}`,
    `env=${q(envList())}`,
  ];
  return lines.join("\n");
}

/** The launcher: tools/launcher.sh with its configuration block. */
export function launcherText(o: LauncherOptions, template: string): string {
  const marker = "# @CONFIGURATION@\n";
  if (!template.includes(marker)) throw new Error(`tools/launcher.sh has no '${marker.trim()}'`);
  const problems = declarationProblems();
  if (problems.length > 0) throw new Error(`tools/sandbox_paths.ts: ${problems.join("; ")}`);
  return template.replace(marker, `${launcherConfig(o)}\n`);
}

/**
 * `deno compile`'s flags: the permissions are baked in, so the same set for
 * every start. Writes as the launcher grants them, through the views of the
 * build (OUTDIR) and of the install (LIBDIR); reads and runs unscoped, since
 * the files named on the command line and the scripts present are only known
 * at run time (docs/sandbox.md).
 */
export function compileFlags(outDir: string, libDir: string): string[] {
  const write = SANDBOX_PATHS.filter((p) => p.access === "write").flatMap((p) => {
    const view = viewOf(p.path);
    if (!view) return [`/${p.path}`];
    const rest = p.path.slice(view.tree.length);
    return [outDir, libDir].map((dir) => escapeComma(`${dir}/${view.dir}`) + rest);
  });
  return [
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--no-config",
    "--no-lock",
    "--allow-read",
    `--allow-write=${write.join(",")}`,
    "--allow-run",
    `--allow-env=${envList()}`,
  ];
}

/** The units' lines (with @LIBDIR@ and @DENODIR@ for tools/install.sh to fill in). */
export function unitLines(): string[] {
  const rw = SANDBOX_PATHS.filter((p) => p.unit === "always" || p.unit === "if-present")
    .map((p) => `${p.unit === "if-present" ? "-" : ""}/${p.path}`);
  return [
    `ReadWritePaths=${rw.join(" ")}`,
    // Deno's own cache of the bundle (the launcher's denodir), not the program's.
    "ReadWritePaths=-@DENODIR@",
    ...VIEWS.map((v) => `BindPaths=/${v.tree}:@LIBDIR@/${v.dir}:norbind`),
  ];
}

/** The generated block of a unit. */
export function unitBlock(): string {
  return [UNIT_BEGIN, ...unitLines(), UNIT_END].join("\n");
}

const code = (s: string) => `\`${s}\``;

/** The rows of docs/sandbox.md's table: path, permission, units, why. */
export function docRows(): string[][] {
  const rows: string[][] = [];
  for (const p of SANDBOX_PATHS) {
    const view = viewOf(p.path);
    const where = view
      ? `${code(`/${p.path}`)}, at ${code(`$LIBDIR/${view.dir}${p.path.slice(view.tree.length)}`)}`
      : code(`/${p.path}`);
    const unit = p.unit === "always"
      ? code(`ReadWritePaths=/${p.path}`)
      : p.unit === "if-present"
      ? code(`ReadWritePaths=-/${p.path}`)
      : p.unit === "none"
      ? "(`/dev` stays writable)"
      : "";
    rows.push([where, p.access === "write" ? "read, write" : "read", unit, p.purpose]);
  }
  for (const dir of SCRIPT_DIRS) {
    rows.push([`each entry of ${code(`/${dir}`)}`, "run", "", "present when the command starts"]);
  }
  for (const name of PROGRAMS) rows.push([code(name), "run", "", "by name, from `PATH`"]);
  rows.push([
    "each word of the command line that is not an option",
    "read",
    "",
    "the files a command names",
  ]);
  for (const v of ENV_VARS) rows.push([code(v.name), "env", "", v.purpose]);
  return rows;
}

/** docs/sandbox.md's table, unaligned (deno fmt aligns it). */
export function docTable(): string {
  const head = ["path, program or variable", "Deno permission", "units", "why"];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...docRows().map(line)].join("\n");
}

/** The cells of a markdown table's body (alignment and padding ignored). */
export function tableRows(table: string): string[][] {
  return table.trim().split("\n").slice(2).map((l) =>
    l.trim().replace(/^\|/, "").replace(/\|$/, "").split(" | ").map((c) => c.trim())
  );
}

/** The text between two marker lines, or undefined. */
export function between(text: string, begin: string, end: string): string | undefined {
  const i = text.indexOf(`${begin}\n`);
  const j = text.indexOf(end, i);
  return i < 0 || j < 0 ? undefined : text.slice(i + begin.length + 1, j);
}

function replaceBetween(text: string, begin: string, end: string, body: string): string {
  const i = text.indexOf(`${begin}\n`);
  const j = text.indexOf(end, i);
  if (i < 0 || j < 0) throw new Error(`no '${begin}' ... '${end}'`);
  return text.slice(0, i + begin.length + 1) + body + text.slice(j);
}

/** The docs' copy of the unit lines: an indented block. */
function docUnitLines(): string {
  return `\n${unitLines().map((l) => `    ${l}`).join("\n")}\n\n`;
}

/** What differs between the checked-in files and the declaration (empty: nothing). */
export function drift(read: (path: string) => string): string[] {
  const found: string[] = [];
  for (const unit of UNITS) {
    const text = read(unit);
    const block = between(text, UNIT_BEGIN, UNIT_END);
    if (block !== `${unitLines().join("\n")}\n`) found.push(`${unit}: the sandbox block`);
  }
  const doc = read(DOC);
  const table = between(doc, DOC_BEGIN, DOC_END);
  if (table === undefined || JSON.stringify(tableRows(table)) !== JSON.stringify(docRows())) {
    found.push(`${DOC}: the table`);
  }
  if (between(doc, DOC_UNIT_BEGIN, DOC_UNIT_END) !== docUnitLines()) {
    found.push(`${DOC}: the unit lines`);
  }
  return found;
}

function update(): void {
  for (const unit of UNITS) {
    const path = `${TOP}/${unit}`;
    const text = Deno.readTextFileSync(path);
    Deno.writeTextFileSync(
      path,
      replaceBetween(text, UNIT_BEGIN, UNIT_END, `${unitLines().join("\n")}\n`),
    );
  }
  const path = `${TOP}/${DOC}`;
  let doc = Deno.readTextFileSync(path);
  doc = replaceBetween(doc, DOC_BEGIN, DOC_END, `\n${docTable()}\n\n`);
  doc = replaceBetween(doc, DOC_UNIT_BEGIN, DOC_UNIT_END, docUnitLines());
  Deno.writeTextFileSync(path, doc);
}

function usage(): never {
  console.error(
    "usage: gen_sandbox.ts launcher [--view-per-run] [--deno-dir DIR] bundle DENO BUNDLE VIEWS_DIR\n" +
      "       gen_sandbox.ts launcher [--view-per-run] compiled BINARY VIEWS_DIR\n" +
      "       gen_sandbox.ts compile-flags OUTDIR LIBDIR | deno-flags | check | update",
  );
  Deno.exit(2);
}

function launcherCommand(args: string[]): void {
  let keep = true;
  let denoDir: string | undefined;
  while (args[0]?.startsWith("--")) {
    const flag = args.shift();
    if (flag === "--view-per-run") keep = false;
    else if (flag === "--deno-dir" && args.length > 0) denoDir = args.shift();
    else usage();
  }
  let options: LauncherOptions;
  if (args[0] === "bundle" && args.length === 4) {
    options = { form: "bundle", deno: args[1]!, bundle: args[2]!, viewsDir: args[3]!, keep };
    if (denoDir !== undefined) options.denoDir = denoDir;
  } else if (args[0] === "compiled" && args.length === 3 && denoDir === undefined) {
    options = { form: "compiled", binary: args[1]!, viewsDir: args[2]!, keep };
  } else usage();
  const template = Deno.readTextFileSync(`${TOP}/tools/launcher.sh`);
  Deno.stdout.writeSync(new TextEncoder().encode(launcherText(options, template)));
}

if (import.meta.main) {
  const [command, ...args] = Deno.args;
  if (command === "launcher") launcherCommand(args);
  else if (command === "compile-flags" && args.length === 2) {
    console.log(compileFlags(args[0]!, args[1]!).join("\n"));
  } else if (command === "deno-flags" && args.length === 0) console.log(DENO_RUN_FLAGS.join(" "));
  else if (command === "check" && args.length === 0) {
    const found = drift((path) => Deno.readTextFileSync(`${TOP}/${path}`));
    for (const f of found) console.error(`gen_sandbox: ${f} differs from tools/sandbox_paths.ts`);
    if (found.length > 0) {
      console.error("gen_sandbox: run `deno run -A tools/gen_sandbox.ts update`, then deno fmt");
      Deno.exit(1);
    }
  } else if (command === "update" && args.length === 0) update();
  else usage();
}

/**
 * The sandbox's one declaration (tools/sandbox_paths.ts) against everything
 * made or checked from it: the units' blocks, the docs' table, the launcher's
 * configuration, the compiled form's flags, and the variables the program
 * really reads.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  compileFlags,
  declarationProblems,
  drift,
  grants,
  launcherConfig,
  type LauncherOptions,
  launcherText,
  unitLines,
} from "./gen_sandbox.ts";
import { ENV_VARS, SANDBOX_PATHS } from "./sandbox_paths.ts";
import {
  CONFIG_BASE,
  CONFIG_STAGING,
  Environment,
  LOCK_FILE,
  OWNERS_DIR,
} from "../lib/environment.ts";

const TOP = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const read = (path: string) => Deno.readTextFileSync(`${TOP}/${path}`);

Deno.test("sandbox: the declaration keeps its own rules", () => {
  deepEqual(declarationProblems(), []);
});

Deno.test("sandbox: units and docs/sandbox.md say what the declaration says", () => {
  deepEqual(drift(read), [], "run `deno run -A tools/gen_sandbox.ts update`, then deno fmt");
});

Deno.test("sandbox: a drifted unit or docs table is found", () => {
  const edited = (path: string) => {
    const text = read(path);
    if (path.endsWith("mdev@.service.in")) return text.replace(" -/var/lib/mdevctl", "");
    if (path === "docs/sandbox.md") return text.replace("`MDEVCTL_LOG`", "`MDEVCTL_LOGS`");
    return text;
  };
  deepEqual(drift(edited), [
    "systemd/mdev@.service.in: the sandbox block",
    "docs/sandbox.md: the table",
  ]);
});

Deno.test("sandbox: every path the program writes is granted, staging included", () => {
  const env = new Environment("/");
  const writable = grants("write", "/usr/lib/mdevctl");
  const covered = (path: string) => writable.some((w) => path === w || path.startsWith(`${w}/`));
  for (const path of [env.configBase, env.configStaging, env.lockFile, env.path(OWNERS_DIR)]) {
    ok(covered(path), `${path} is not writable in the sandbox`);
  }
  for (const relative of [CONFIG_BASE, CONFIG_STAGING, LOCK_FILE]) ok(covered(`/${relative}`));
  // The units let the program write the same (but /dev, writable there anyway).
  const unitWritable = unitLines()[0]!.replace("ReadWritePaths=", "").split(" ").map((p) =>
    p.replace(/^-/, "")
  );
  deepEqual(
    unitWritable,
    SANDBOX_PATHS.filter((p) => p.access === "write" && !p.path.startsWith("dev/")).map((p) =>
      `/${p.path}`
    ),
  );
});

Deno.test("sandbox: the compiled form's writes are the launcher's, staging included", () => {
  const flags = compileFlags("/src/a,b/dist", "/usr/lib/mdevctl");
  const write = flags.find((f) => f.startsWith("--allow-write="))!;
  equal(
    write,
    "--allow-write=/src/a,,b/dist/sysfs,/usr/lib/mdevctl/sysfs,/src/a,,b/dist/dev/vfio," +
      "/usr/lib/mdevctl/dev/vfio,/etc/mdevctl.d,/etc/.mdevctl.d.staging,/run/lock,/var/lib/mdevctl",
  );
  ok(flags.includes(`--allow-env=${ENV_VARS.map((v) => v.name).join(",")}`), flags.join(" "));
  ok(!flags.some((f) => /^--allow-(all|net|ffi|sys|import)|^-A$/.test(f)), flags.join(" "));
});

/** The names of the environment variables cli.ts and lib/ read. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const files = ["cli.ts"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${TOP}/${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) files.push(path);
    }
  };
  walk("lib");
  for (const file of files) {
    const text = read(file);
    for (const m of text.matchAll(/(?:Deno\.env\.get|optionalVar)\("([A-Z0-9_]+)"\)/g)) {
      names.add(m[1]!);
    }
    // (optionalVar(name) of lib/environment.ts is called with literal names, matched above.)
    ok(
      !/Deno\.env\.(toObject|get\((?!"|name\)))/.test(text),
      `${file} reads variables by computed name`,
    );
  }
  return names;
}

Deno.test("sandbox: --allow-env names exactly the variables the program reads", () => {
  deepEqual(
    [...variablesRead()].sort(),
    ENV_VARS.map((v) => v.name).sort(),
  );
  ok(!ENV_VARS.some((v) => v.name.includes("*") || v.name.includes("TEST")));
});

Deno.test("sandbox: the launcher is tools/launcher.sh with its configuration, valid sh", async () => {
  const template = read("tools/launcher.sh");
  const options: LauncherOptions = {
    form: "bundle",
    deno: "/usr/lib/mdevctl/deno",
    bundle: "/usr/lib/mdevctl/mdevctl.js",
    viewsDir: "/usr/lib/mdevctl",
    keep: true,
    denoDir: "/var/cache/mdevctl/deno",
    unshare: "/usr/bin/unshare",
    mount: "/usr/bin/mount",
  };
  const text = launcherText(options, template);
  ok(text.includes("\nview='/usr/lib/mdevctl/sysfs'\ndevview='/usr/lib/mdevctl/dev'\n"), text);
  ok(
    text.includes(
      "\nwrite='sys dev/vfio etc/mdevctl.d etc/.mdevctl.d.staging run/lock var/lib/mdevctl'\n",
    ),
    text,
  );
  // Only the configuration differs from the file a maintainer reads.
  equal(
    text.replace(`${launcherConfig(options)}\n`, ""),
    template.replace("# @CONFIGURATION@\n", ""),
  );
  const check = await new Deno.Command("sh", { args: ["-n", "-c", text] }).output();
  equal(check.code, 0, new TextDecoder().decode(check.stderr));
});

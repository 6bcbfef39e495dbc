/**
 * The generated man page and shell completions: the page renders with groff
 * without warnings and documents every command and option of the command
 * table; the bash completion loads and completes options and values.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { COMMANDS, type OptionSpec } from "../../lib/cli/command_table.ts";
import { DEFAULT_NAMESPACE, uuid5 } from "../../lib/hostfile/uuid5.ts";
import { missing, requiring } from "../helpers/requires.ts";
import { hostfileExitStatus } from "../../tools/gen_man.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const RUN_HERE = Deno.env.get("MDEVCTL_TEST_TARGET") !== "source";
const DENO = new TextDecoder().decode(
  new Deno.Command(`${TOP}/tools/deno_path.sh`).outputSync().stdout,
).trim();

async function run(cmd: string[], env: Record<string, string> = {}, stdin?: string) {
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    cwd: TOP,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

let generated: Promise<string> | undefined;
/** Man page and completions, generated once into a temporary directory. */
function outDir(): Promise<string> {
  generated ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "mdevctl-gen-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const r = await run(["bash", "tools/install.sh", "generate", dir]);
    equal(r.code, 0, r.stderr);
    return dir;
  })();
  return generated;
}

/**
 * These tests do not depend on the target, so `make test` registers them in
 * one of its two passes only (the dist one, or when no target is set).
 */
const test = (name: string, fn: () => Promise<void>, reason?: string) => {
  if (RUN_HERE) Deno.test(requiring(`docs: ${name}`, reason, fn));
};

const NO_GROFF = missing({ groff: "groff-base" });
const NO_MAN = missing({ man: "man-db" });
const NO_ZSH = missing({ zsh: "zsh" });

/** Every option word of every command, short and long. */
function optionWords(): string[] {
  return COMMANDS.flatMap((c) =>
    c.options.filter((o) => !o.hidden).flatMap((o) => [
      ...(o.short ? [`-${o.short}`] : []),
      `--${o.long}`,
    ])
  );
}

test("the man page renders with groff without warnings", async () => {
  const page = `${await outDir()}/mdevctl.8`;
  const r = await run(["groff", "-man", "-Tutf8", "-ww", "-z", page]);
  equal(r.stderr, "");
  equal(r.code, 0);
}, NO_GROFF);

test("the man page documents every command, option and variable", async () => {
  const page = `${await outDir()}/mdevctl.8`;
  // Wide lines and no hyphenation, so words stay whole; typographic dashes as ASCII.
  const r = await run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=2000n", "-rHY=0", page]);
  equal(r.code, 0, r.stderr);
  const text = r.stdout.replace(/[\u2010\u2212\u2011]/g, "-");
  const sections = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ORIGINAL COMMANDS", "OPTIONS"];
  sections.push("CONFIGURATION FILE FORMAT", "CALLOUT SCRIPTS", "ENVIRONMENT", "FILES");
  sections.push("EXIT STATUS", "SEE ALSO");
  for (const section of sections) ok(new RegExp(`^${section}$`, "m").test(text), section);
  for (const c of COMMANDS) {
    ok(new RegExp(`^ {3}${c.name}$`, "m").test(text), `command ${c.name} has a subsection`);
    for (const p of c.positionals ?? []) ok(text.includes(`mdevctl ${c.name} `), p.name);
  }
  for (const word of optionWords()) ok(new RegExp(`(^|[\\s,\\[])${word}\\b`).test(text), word);
  for (const word of ["-t TYPE", "-e EVENT", "-a ACTION", "-s STATE", "-u UUID", "-p PARENT"]) {
    ok(text.includes(word), `callout argument ${word}`);
  }
  for (
    const v of [
      "MDEVCTL_ENV_ROOT",
      "MDEVCTL_LOG",
      "MDEVCTL_CALLOUT_TIMEOUT",
      "MDEVCTL_AUTOSTART_WAIT",
    ]
  ) ok(new RegExp(`^ {7}${v}$`, "m").test(text), v);
  ok(text.includes("default 30"), "callout timeout default");
  ok(text.includes("(default 10)"), "autostart wait default");
}, NO_GROFF);

test("man -l shows the page", async () => {
  const r = await run(["man", "-l", `${await outDir()}/mdevctl.8`], {
    MANPAGER: "cat",
    PAGER: "cat",
  });
  equal(r.code, 0, r.stderr);
  ok(r.stdout.includes("start-parent-mdevs"));
}, NO_MAN);

/** Completes the line up to its end with the installed function, as bash would. */
async function complete(line: string, env: Record<string, string> = {}): Promise<string[]> {
  const file = `${await outDir()}/mdevctl.bash`;
  const fn = line.startsWith("lsmdev") ? "_lsmdev" : "_mdevctl";
  const script = `source '${file}'
COMP_LINE=$1 COMP_POINT=\${#1}
read -ra COMP_WORDS <<<"$1"; [[ $1 == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
${fn}
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run(["bash", "-c", script, "bash", line], env);
  equal(r.code, 0, r.stderr);
  equal(r.stderr, "");
  return r.stdout.split("\n").filter((w) => w);
}

test("the bash completion loads and registers both programs", async () => {
  const file = `${await outDir()}/mdevctl.bash`;
  const r = await run(["bash", "-c", `source '${file}' && complete -p mdevctl lsmdev`]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "complete -F _mdevctl mdevctl\ncomplete -F _lsmdev lsmdev\n");
});

test("bash completion offers commands and every option of a command", async () => {
  const commands = await complete("mdevctl ");
  for (const c of COMMANDS.filter((c) => !c.hidden)) ok(commands.includes(c.name), c.name);
  ok(!commands.includes("start-parent-mdevs"));
  const modify = COMMANDS.find((c) => c.name === "modify")!;
  const longs = modify.options.map((o) => `--${o.long}`);
  deepEqual(await complete("mdevctl modify --"), [...longs, "--help"]);
  const all = await complete("mdevctl modify -");
  for (const o of modify.options) {
    ok(all.includes(`--${o.long}`));
    if (o.short) ok(all.includes(`-${o.short}`));
  }
  deepEqual(await complete("lsmdev --d"), ["--defined", "--dumpjson"]);
});

test("bash completion offers uuids, parents, types and files", async () => {
  const root = await Deno.makeTempDir({ prefix: "mdevctl-comp-" });
  try {
    const u1 = "11111111-1111-0000-0000-000000000000";
    const u2 = "22222222-2222-0000-0000-000000000000";
    await Deno.mkdir(`${root}/sys/bus/mdev/devices/${u1}`, { recursive: true });
    await Deno.mkdir(`${root}/etc/mdevctl.d/0000:00:02.0`, { recursive: true });
    await Deno.writeTextFile(`${root}/etc/mdevctl.d/0000:00:02.0/${u2}`, "{}");
    await Deno.mkdir(
      `${root}/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4`,
      {
        recursive: true,
      },
    );
    await Deno.mkdir(`${root}/sys/class/mdev_bus/matrix/mdev_supported_types/vfio_ap-passthrough`, {
      recursive: true,
    });
    const env = { MDEVCTL_ENV_ROOT: root };
    deepEqual(await complete("mdevctl stop --uuid ", env), [u1, u2]);
    deepEqual(await complete("mdevctl start --uuid=2", env), [u2]);
    deepEqual(await complete("mdevctl start -p ", env), ["0000:00:02.0", "matrix"]);
    // bash breaks words at ':', so only the part after the last one is replied.
    deepEqual(await complete("mdevctl start -p 0000:0", env), ["00:02.0"]);
    deepEqual(await complete("mdevctl start -p matrix -t ", env), ["vfio_ap-passthrough"]);
    deepEqual(await complete("mdevctl start -t ", env), ["i915-GVTg_V5_4", "vfio_ap-passthrough"]);
    deepEqual(await complete(`mdevctl create-mdev ${u1} m`, env), ["matrix"]);
    deepEqual(await complete(`lsmdev -u 1`, env), [u1]);
    deepEqual(
      await complete(`mdevctl define --jsonfile ${root}/etc/mdevctl.d/0000:00:02.0/2`, env),
      [
        `02.0/${u2}`,
      ],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

test("the zsh completion parses", async () => {
  const r = await run(["zsh", "-n", `${await outDir()}/_mdevctl`]);
  equal(r.code, 0, r.stderr);
}, NO_ZSH);

test("gen_man.ts prints the same page to stdout", async () => {
  const r = await run([
    DENO,
    "run",
    "--quiet",
    "--no-lock",
    "--no-prompt",
    "--allow-read",
    "--allow-env=SOURCE_DATE_EPOCH",
    "tools/gen_man.ts",
  ]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout, await Deno.readTextFile(`${await outDir()}/mdevctl.8`));
});

/** README's `## Commands` block, one entry per command (continuation lines joined). */
async function readmeSynopses(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(`${TOP}/README.md`);
  const block = readme.split("\n## Commands\n\n")[1]!.split("\n\n")[0]!;
  const entries: string[] = [];
  for (const line of block.split("\n")) {
    // A comment after two spaces, such as "(run by udev)", is not synopsis.
    const text = line.replace(/\s{2,}\([^)]*\)$/, "").trim();
    if (text.startsWith("mdevctl ")) entries.push(text.slice("mdevctl ".length));
    else entries[entries.length - 1] += ` ${text}`;
  }
  const byName = new Map<string, string>();
  for (const entry of entries) {
    const first = entry.split(" ")[0]!;
    // The original commands share lines: "list-all | list-available | ...".
    const parts = COMMANDS.find((c) => c.name === first)?.legacy ? entry.split(" | ") : [entry];
    for (const part of parts) byName.set(part.split(" ")[0]!, part);
  }
  return byName;
}

test("README's synopsis of each command has the table's options and arguments", async () => {
  const synopses = await readmeSynopses();
  deepEqual([...synopses.keys()].sort(), COMMANDS.map((c) => c.name).sort());
  for (const command of COMMANDS) {
    const text = synopses.get(command.name)!;
    const options = command.options.filter((o) => !o.hidden);
    const byWord = new Map<string, OptionSpec>(options.flatMap((o) => [
      [`--${o.long}`, o] as const,
      ...(o.short ? [[`-${o.short}`, o] as const] : []),
    ]));
    const seen = new Set<string>();
    let depth = 0;
    // Option words, with their bracket depth and what follows them.
    for (
      const m of text.matchAll(/\[|\]|(?<=^|[\s[(|])(--?[A-Za-z][\w-]*)(?=(\[=|=| [^-[\]()|\s])?)/g)
    ) {
      if (m[0] === "[") depth++;
      else if (m[0] === "]") depth--;
      else {
        const option = byWord.get(m[1]!);
        ok(option, `${command.name}: README names ${m[1]}, which the table does not have`);
        seen.add(option.long);
        const next = m[2] ?? "";
        const placeholder = next.startsWith(" ");
        if (option.optionalValue) equal(next, "[=", `${command.name} ${m[1]}: [=VALUE]`);
        else if (option.value) ok(placeholder, `${command.name} ${m[1]} takes a value`);
        else ok(!placeholder && next !== "=", `${command.name} ${m[1]} is a flag`);
        if (option.required) equal(depth, 0, `${command.name} ${m[1]} is required`);
      }
    }
    deepEqual([...seen].sort(), options.map((o) => o.long).sort(), `${command.name}'s options`);
    const words = text.split(/\s+/);
    for (const p of command.positionals ?? []) {
      ok(words.includes(p.name), `${command.name} ${p.name}`);
    }
  }
});

/** A generated page as man shows it on a wide terminal, dashes as ASCII. */
async function rendered(page: string): Promise<string> {
  const r = await run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=2000n", "-rHY=0", page]);
  equal(r.code, 0, r.stderr);
  return r.stdout.replace(/[\u2010\u2212\u2011]/g, "-");
}

test("mdevctl-hostfile(5) renders with groff without warnings", async () => {
  const page = `${await outDir()}/mdevctl-hostfile.5`;
  const r = await run(["groff", "-man", "-Tutf8", "-ww", "-z", page]);
  equal(r.stderr, "");
  equal(r.code, 0);
}, NO_GROFF);

test("mdevctl-hostfile(5) has every heading and example of docs/hostfile.md", async () => {
  const text = await rendered(`${await outDir()}/mdevctl-hostfile.5`);
  const markdown = await Deno.readTextFile(`${TOP}/docs/hostfile.md`);
  const plain = (s: string) => s.replace(/`/g, "");
  for (const line of ["NAME", "DESCRIPTION"]) ok(new RegExp(`^${line}$`, "m").test(text), line);
  ok(text.includes("mdevctl-hostfile - host files: mdevctl apply, diff and export"), "NAME line");
  const headings = [...markdown.matchAll(/^(##|###) (.*)$/gm)];
  ok(headings.length > 20, "docs/hostfile.md has its sections");
  for (const [, level, title] of headings) {
    const want = level === "##" ? plain(title!).toUpperCase() : `   ${plain(title!)}`;
    ok(text.split("\n").includes(want), `heading ${JSON.stringify(want)}`);
  }
  // Every line of every code block, as typed (the drift example's exact output included).
  const blocks = [...markdown.matchAll(/^```\w*\n([^]*?)^```$/gm)].map((m) => m[1]!);
  ok(blocks.length > 10);
  for (const block of blocks) {
    for (const line of block.split("\n").filter((l) => l.trim() !== "")) {
      ok(text.includes(line), `code line ${JSON.stringify(line)}`);
    }
  }
}, NO_GROFF);

test("man -l shows mdevctl-hostfile(5)", async () => {
  const r = await run(["man", "-l", `${await outDir()}/mdevctl-hostfile.5`], {
    MANPAGER: "cat",
    PAGER: "cat",
  });
  equal(r.code, 0, r.stderr);
  ok(r.stdout.includes("MDEVCTL-HOSTFILE(5)"));
  ok(r.stdout.includes("not-ready"));
}, NO_MAN);

test("docs/hostfile.md's UUID test vectors are what apply derives", async () => {
  const markdown = await Deno.readTextFile(`${TOP}/docs/hostfile.md`);
  const rows = [...markdown.matchAll(/^\| `(v1\/[^`]+)` +\| `([0-9a-f-]{36})` +\|$/gm)];
  equal(rows.length, 7);
  for (const [, name, uuid] of rows) equal(uuid5(DEFAULT_NAMESPACE, name!), uuid, name!);
  ok(markdown.includes(`default \`${DEFAULT_NAMESPACE}\``), "the default namespace is stated");
});

test("user documentation does not send readers to the unshipped spec", async () => {
  const files = ["README.md", "contrib/ansible/README.md"];
  for await (const entry of Deno.readDir(`${TOP}/docs`)) {
    if (entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  for (const file of files) {
    const text = await Deno.readTextFile(`${TOP}/${file}`);
    ok(!/shared\/spec|\.\.\/shared|shared\/reference/.test(text), `${file} names ../shared`);
  }
});

test("mdevctl(8) lists every exit status of every command, and the files", async () => {
  const text = await rendered(`${await outDir()}/mdevctl.8`);
  const section = (name: string) => text.split(`\n${name}\n`)[1]!.split(/\n[A-Z][A-Z ]+\n/)[0]!;
  const exit = section("EXIT STATUS");
  /** The statuses listed under a subsection of EXIT STATUS (tagged paragraphs). */
  const statuses = (sub: string) => {
    const body = exit.split(`\n   ${sub}\n`)[1]!.split(/\n {3}\S/)[0]!;
    return [...body.matchAll(/^ {7}(\d+) /gm)].map((m) => Number(m[1]));
  };
  deepEqual(statuses("apply"), [0, 1, 2, 4, 130, 143]);
  deepEqual(statuses("diff"), [0, 1, 2, 3, 4]);
  deepEqual(statuses("export"), [0, 1, 2]);
  deepEqual(statuses("wait"), [0, 1, 2]);
  deepEqual(statuses("monitor"), [0, 1, 2]);
  ok(/^ {7}1 +Not ready within the timeout \(default 90 seconds\)/m.test(exit), "wait's timeout");
  ok(exit.includes("timed out after S s waiting for PATH"));
  // Every command has its say, the original ones together.
  const named = exit.match(/^ {3}\S.*$/gm)!.join(", ");
  for (const c of COMMANDS.filter((c) => !c.legacy)) {
    ok(new RegExp(`(^|[ ,])${c.name}(,|$)`).test(named), `EXIT STATUS names ${c.name}`);
  }
  ok(named.includes("Original commands"));
  const files = section("FILES");
  for (const path of ["/var/lib/mdevctl/owners/OWNER.json", "/etc/.mdevctl.d.staging"]) {
    ok(files.includes(path), path);
  }
  ok(section("SEE ALSO").includes("mdevctl-hostfile(5)"));
}, NO_GROFF);

test("the host-file exit statuses come from docs/hostfile.md's table", async () => {
  const doc = await Deno.readTextFile(`${TOP}/docs/hostfile.md`);
  const table = hostfileExitStatus(doc);
  deepEqual([...table.keys()], ["apply", "diff", "export"]);
  deepEqual(table.get("diff")!.map(([s]) => s), ["0", "1", "2", "3", "4"]);
  throws(() => hostfileExitStatus("# no table\n"), /no exit status table/);
});

/**
 * Host files as users pass them (issue 22): through symbolic links, as
 * `-fPATH`, `-f=PATH`, `--file=PATH`, on standard input from a pipe or a
 * redirect, as `/dev/stdin` or `<(...)`; and the ways reading one fails
 * (a directory, a missing or unreadable file, too large a stream), each one
 * line `Error: Unable to read host file "<path>": <reason>`, exit 1,
 * nothing written.
 *
 * With MDEVCTL_TEST_TARGET=dist the program runs through its launcher,
 * whose sandbox grants only the words of the command line (and, for a word
 * reached through a link, its real path); tests/hostfile/file_input_sandbox_test.ts
 * does the same with the installed program on a real-looking host.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type FakeHost, type RunResult, TARGET, withHost } from "../helpers/fake_host.ts";
import { isRoot, missing, requiring } from "../helpers/requires.ts";
import { addT4, T4_FILE, T4A, writeHostFile } from "./host_setup.ts";

/** What `diff -f <file>` prints for T4_FILE on a fresh T4 host: two defines, exit 3. */
async function reference(host: FakeHost, file: string): Promise<RunResult> {
  const r = await host.run(["diff", "-f", file]);
  equal(r.code, 3, r.stderr);
  equal(r.stderr, "");
  equal(r.stdout.split("\n").filter((l) => l.startsWith("+ ")).length, 2, r.stdout);
  return r;
}

/** A T4 host with the §11 host file at etc/mdevctl/host.yaml. */
function withT4(body: (host: FakeHost, file: string) => Promise<void>): Promise<void> {
  return withHost(async (host) => {
    await addT4(host, T4A);
    await body(host, await writeHostFile(host, T4_FILE));
  });
}

/** bash running the program with its arguments and `script` after them (redirects, `<(...)`). */
const shell = (script: string, env: Record<string, string> = {}) => ({
  prefix: ["bash", "-c", `exec "$@" ${script}`, "bash"],
  env,
});

Deno.test("-fPATH, -f=PATH, --file=PATH and --file PATH read the same file as -f PATH", () =>
  withT4(async (host, file) => {
    const want = await reference(host, file);
    for (const args of [[`-f${file}`], [`-f=${file}`], [`--file=${file}`], ["--file", file]]) {
      const r = await host.run(["diff", ...args]);
      deepEqual([args, r.code, r.stdout, r.stderr], [args, 3, want.stdout, ""]);
    }
  }));

Deno.test("-f - reads a pipe or a redirected file; so do /dev/stdin and <(...)", () =>
  withT4(async (host, file) => {
    const want = await reference(host, file);
    const runs: [string, RunResult][] = [
      ["pipe", await host.run(["diff", "-f", "-"], { stdin: T4_FILE })],
      ["redirect", await host.run(["diff", "-f", "-"], shell('< "$F"', { F: file }))],
      ["/dev/stdin", await host.run(["diff", "-f", "/dev/stdin"], { stdin: T4_FILE })],
      ["/dev/stdin redirect", await host.run(["diff"], shell('-f /dev/stdin < "$F"', { F: file }))],
    ];
    // <(...) names a pipe (/dev/fd/N): the launcher grants it as a word of
    // the command line; the source run's permissions are the root only.
    if (TARGET === "dist") {
      runs.push(["<(...)", await host.run(["diff"], shell('-f <(cat "$F")', { F: file }))]);
    }
    for (const [how, r] of runs) {
      deepEqual([how, r.code, r.stdout, r.stderr], [how, 3, want.stdout, ""]);
    }
  }));

Deno.test("a host file reached through symbolic links: to the file, to a directory, out of the root", () =>
  withT4(async (host, file) => {
    const want = await reference(host, file);
    // Outside the fake host, so outside every path the launcher grants by itself.
    const outside = await Deno.makeTempDir({ prefix: "mdevctl-outside-" });
    try {
      await Deno.writeTextFile(`${outside}/real.yaml`, T4_FILE);
      await Deno.symlink(file, host.path("etc/mdevctl/link.yaml"));
      await Deno.symlink("link.yaml", host.path("etc/mdevctl/link2.yaml"));
      await Deno.symlink(host.path("etc/mdevctl"), host.path("confdir"));
      await Deno.symlink(`${outside}/real.yaml`, host.path("etc/mdevctl/out.yaml"));
      await Deno.symlink(outside, host.path("outdir"));
      for (
        const path of [
          host.path("etc/mdevctl/link.yaml"),
          host.path("etc/mdevctl/link2.yaml"),
          host.path("confdir/host.yaml"),
          "confdir/link2.yaml", // relative to the working directory (the root)
        ]
      ) {
        const r = await host.run(["diff", "-f", path]);
        deepEqual([path, r.code, r.stdout, r.stderr], [path, 3, want.stdout, ""]);
      }
      for (const path of [host.path("etc/mdevctl/out.yaml"), host.path("outdir/real.yaml")]) {
        for (const args of [["-f", path], [`-f${path}`]]) {
          const r = await host.run(["diff", ...args]);
          if (TARGET === "dist") {
            deepEqual([args, r.code, r.stdout, r.stderr], [args, 3, want.stdout, ""]);
          } else {
            // The source run may read the root only: Deno's refusal is one line too.
            deepEqual([args, r.code, r.stdout, r.stderr], [
              args,
              1,
              "",
              `Error: Unable to read host file "${path}": ` +
              `the permission sandbox does not allow reading "${outside}/real.yaml"\n`,
            ]);
          }
        }
      }
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  }));

/** Root keeps its uid but loses CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: file modes apply. */
const DROP_DAC = isRoot()
  ? [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
  ]
  : [];

Deno.test(
  requiring(
    "unreadable host files: one line each, exit 1, nothing written",
    isRoot() ? missing({ setpriv: "util-linux" }) : undefined,
    () =>
      withT4(async (host, file) => {
        const unreadable = await writeHostFile(host, T4_FILE, "secret.yaml");
        await Deno.chmod(unreadable, 0o000);
        await Deno.mkdir(host.path("etc/mdevctl/dir.yaml"));
        const missingFile = host.path("etc/mdevctl/none.yaml");
        await Deno.symlink(missingFile, host.path("etc/mdevctl/dangling.yaml"));
        const before = await host.snapshot();
        const cases: [string[], string, string[]?][] = [
          [["-f", host.path("etc/mdevctl/dir.yaml")], "is a directory"],
          [["-f", missingFile], "No such file or directory (os error 2)"],
          [["-f", ""], "the path is empty"],
          [
            ["-f", host.path("etc/mdevctl/dangling.yaml")],
            "No such file or directory (os error 2)",
          ],
          [["-f", unreadable], "Permission denied (os error 13)", DROP_DAC],
        ];
        for (const [args, reason, prefix] of cases) {
          for (const command of ["apply", "diff"]) {
            const r = await host.run([command, ...args], prefix ? { prefix } : {});
            deepEqual([command, args, r.code, r.stdout, r.stderr], [
              command,
              args,
              1,
              "",
              `Error: Unable to read host file "${args[1]}": ${reason}\n`,
            ]);
          }
        }
        // A pipe over the size limit: read only up to the limit, then refused.
        const r = await host.run(
          ["apply", "-f", "-"],
          shell('< <(printf "version: 1\\n"; yes "#" | head -c 6000000)'),
        );
        deepEqual([r.code, r.stdout, r.stderr], [
          1,
          "",
          "Error: <stdin>:1:1: file is larger than 4194304 bytes\n",
        ]);
        const after = await host.snapshot();
        for (const key of Object.keys(after)) if (key.startsWith("run/")) delete after[key];
        deepEqual(after, before);
        ok(!(await host.exists("var/lib/mdevctl/owners")));
        equal(file, host.path("etc/mdevctl/host.yaml"));
      }),
  ),
);

Deno.test("a byte order mark is no content: same plan, and positions count from after it", () =>
  withT4(async (host, file) => {
    const want = await reference(host, file);
    const bom = await writeHostFile(host, "\ufeff" + T4_FILE, "bom.yaml");
    const r = await host.run(["diff", "-f", bom]);
    deepEqual([r.code, r.stdout, r.stderr], [3, want.stdout, ""]);
    const bad = await writeHostFile(host, "\ufeffversion: 2\n", "bad.yaml");
    const e = await host.run(["diff", "-f", bad]);
    deepEqual([e.code, e.stderr], [1, `Error: ${bad}:1:10: unsupported version 2 (expected 1)\n`]);
  }));

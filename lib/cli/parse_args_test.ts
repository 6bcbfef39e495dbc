import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { LegacyUsageError, parseCommandLine } from "./parse_args.ts";

const U = "11111111-2222-3333-4444-555555555555";

function run(argv: string[], program = "mdevctl") {
  const outcome = parseCommandLine(argv, program);
  if (outcome.kind !== "run") throw new Error(`expected run, got ${outcome.kind}`);
  return {
    command: outcome.command.name,
    ...outcome.args,
    options: Object.fromEntries(outcome.args.options),
  };
}

Deno.test("long options with space or =, short with or without space, bundles", () => {
  assertEquals(run(["list", "--uuid", U, "-d"]).options, { uuid: U, defined: true });
  assertEquals(run(["list", `--uuid=${U.toUpperCase()}`]).options, { uuid: U });
  assertEquals(run(["list", `-u${U}`, "-v"]).options, { uuid: U, verbose: true });
  assertEquals(run(["list", `-dvu${U}`]).options, { defined: true, verbose: true, uuid: U });
  assertEquals(run(["list", "-dvu", U]).options, { defined: true, verbose: true, uuid: U });
  assertEquals(run(["modify", "-u", U, "--delattr", "-i", "+7"]).options.index, "7");
});

Deno.test("positionals: start-parent-mdevs and the original commands", () => {
  assertEquals(run(["start-parent-mdevs", "0000:00:02.0"]).positionals, ["0000:00:02.0"]);
  assertEquals(run(["create-mdev", U, "p", "t"]).positionals, [U, "p", "t"]);
  assertThrows(() => parseCommandLine(["create-mdev", U, "p"], "mdevctl"), LegacyUsageError);
  assertThrows(() => parseCommandLine(["list-all", "-x"], "mdevctl"), LegacyUsageError);
});

Deno.test("usage errors: unknown, repeated, missing value, conflicts, groups", () => {
  for (
    const argv of [
      ["list", "--nope"],
      ["list", "-d", "--defined"],
      ["list", "-u"],
      ["list", "-u", "-d"],
      ["list", "-u", "xyz"],
      ["list", "--dumpjson=1"],
      ["modify", "-u", U],
      ["modify", "-u", U, "--auto", "--manual"],
      ["modify", "-u", U, "--addattr", "a"],
      ["modify", "-u", U, "--delattr", "-i", "4294967296"],
      ["define", "-t", "x"],
      ["start", "-p", "p", "-t", "t", "--jsonfile", "f"],
      ["lsmdev"],
    ]
  ) {
    assertThrows(() => parseCommandLine(argv, "mdevctl"), UsageError, argv.join(" "));
  }
  assertThrows(() => parseCommandLine(["list"], "lsmdev"), UsageError);
});

Deno.test("help wins over every error; version is per command", () => {
  assertEquals(
    parseCommandLine(["modify", "--defined", "--live", "--jsonfile", "b", "--help"], "mdevctl")
      .kind,
    "help",
  );
  assertEquals(parseCommandLine(["list", "--nope", "-h"], "mdevctl").kind, "help");
  assertEquals(parseCommandLine([], "mdevctl"), {
    kind: "help",
    command: undefined,
    toStderr: true,
  });
  assertEquals(parseCommandLine(["list", "-V"], "mdevctl"), {
    kind: "version",
    text: "mdevctl-list 1.4.0",
  });
  assertEquals(parseCommandLine(["-V"], "lsmdev"), { kind: "version", text: "lsmdev 1.4.0" });
  assertThrows(() => parseCommandLine(["types", "-V"], "mdevctl"), UsageError);
});

Deno.test("names that become paths are refused after the syntax checks", () => {
  assertThrows(() => parseCommandLine(["define", "-p", "../x", "-t", "t"], "mdevctl"), {
    message: "Invalid parent name '../x'",
  });
  assertThrows(() => parseCommandLine(["start-parent-mdevs", "a/b"], "mdevctl"), {
    message: "Invalid parent name 'a/b'",
  });
  // A filter only compares names: list accepts anything.
  assertEquals(run(["list", "-p", "../x"]).options, { parent: "../x" });
});

Deno.test("wait: --vfio alone or with -p; not with -u, -t", () => {
  const run = (...argv: string[]) => parseCommandLine(["wait", ...argv], "mdevctl");
  assertEquals(run("--vfio").kind, "run");
  assertEquals(run("-p", "0000:41:00.0", "--vfio").kind, "run");
  assertThrows(
    () => run("-p", "0000:41:00.0", "-u", "7a3e3a25-2f5b-4a55-9c9e-0d6b0f0e2a11"),
    UsageError,
  );
  assertThrows(() => run("--vfio", "-u", "7a3e3a25-2f5b-4a55-9c9e-0d6b0f0e2a11"), UsageError);
  assertThrows(() => run("-p", "0000:41:00.0", "--vfio", "-t", "nvidia-1"), UsageError);
});

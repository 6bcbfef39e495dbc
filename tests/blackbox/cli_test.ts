/** Help, version and usage errors (spec §4.1, §4.2, decisions §0.2, §0.3). */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";

const COMMANDS = ["define", "undefine", "modify", "start", "stop", "list", "types"];

Deno.test("--version and -V", () =>
  withHost(async (host) => {
    assertEquals(await host.run(["--version"]), { code: 0, stdout: "mdevctl 1.4.0\n", stderr: "" });
    assertEquals(await host.run(["-V"]), { code: 0, stdout: "mdevctl 1.4.0\n", stderr: "" });
    assertEquals(await host.run(["list", "-V"]), {
      code: 0,
      stdout: "mdevctl-list 1.4.0\n",
      stderr: "",
    });
    assertEquals((await host.run(["types", "-V"])).code, 2);
  }));

Deno.test("help works on a half-installed system (decision §0.3)", () =>
  withHost(async (host) => {
    await Deno.remove(host.root, { recursive: true });
    await Deno.mkdir(host.root);
    for (
      const args of [
        ["--help"],
        ["-h"],
        ["help"],
        ...COMMANDS.map((c) => ["help", c]),
        ...COMMANDS.map((c) => [c, "--help"]),
      ]
    ) {
      const r = await host.run(args);
      assertEquals([r.code, r.stderr], [0, ""], args.join(" "));
      match(r.stdout, /Usage: /);
    }
    const top = await host.run(["--help"]);
    for (const c of [...COMMANDS, "list-all", "create-mdev", "remove-mdev"]) {
      match(top.stdout, new RegExp(`\\b${c}\\b`));
    }
  }));

Deno.test("no command → help on stderr, exit 2; unknown command → exit 2", () =>
  withHost(async (host) => {
    const none = await host.run([]);
    assertEquals([none.code, none.stdout], [2, ""]);
    match(none.stderr, /Usage: mdevctl <COMMAND>/);
    for (const args of [["frobnicate"], ["--frobnicate"], ["help", "frobnicate"]]) {
      const r = await host.run(args);
      assertEquals([r.code, r.stdout], [2, ""]);
      match(r.stderr, /^error: /);
    }
  }));

Deno.test("--help wins over every other check", () =>
  withHost(async (host) => {
    for (
      const args of [
        ["modify", "--defined", "--live", "--jsonfile", "b", "--help"],
        ["modify", "--help", "--bogus"],
        ["define", "-u", "not-a-uuid", "-h"],
        ["start", "--jsonfile", "f", "-t", "x", "--help"],
      ]
    ) {
      assertEquals((await host.run(args)).code, 0, args.join(" "));
    }
  }));

Deno.test("option syntax: = forms, bundles, repeats", () =>
  withHost(async (host) => {
    assertEquals(
      (await host.run(["list", "--uuid=11111111-1111-0000-0000-000000000000", "-dv"])).code,
      0,
    );
    assertEquals((await host.run(["list", "-d", "-d"])).code, 2);
    assertEquals((await host.run(["list", "--dumpjson=yes"])).code, 2);
    assertEquals((await host.run(["list", "-x"])).code, 2);
    assertEquals((await host.run(["list", "-u"])).code, 2);
    assertEquals((await host.run(["list", "-u", " 11111111-1111-0000-0000-000000000000"])).code, 2);
    assertEquals((await host.run(["list", "stray"])).code, 2);
  }));

/**
 * `list` and `lsmdev` output (spec §5.6, §6.1–6.3, decision §0.1): two
 * running devices on two parents, three definitions (one uuid defined under
 * both parents).
 */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { golden } from "../helpers/golden.ts";

async function setup(host: FakeHost) {
  await host.addParent(P1, { typeA: {}, typeB: {} });
  await host.addParent(P2, { typeC: {} });
  await host.addActive(U2, P1, "typeA");
  await host.addActive(U1, P2, "typeC");
  await host.define(P1, U2, {
    mdev_type: "typeA",
    start: "auto",
    attrs: [{ "assign_adapter": "5" }, { "assign_domain": 'x"y\tz' }],
  });
  await host.define(P1, U3, { mdev_type: "typeB", start: "manual", attrs: [] });
  await host.define(P2, U3, { mdev_type: "typeC", start: "auto" });
}

const cases: [string, string[], string][] = [
  ["active", ["list"], "list_active.txt"],
  ["active verbose (callouts give no attrs)", ["list", "-v"], "list_active.txt"],
  ["active parent filter", ["list", "-p", P2], "list_active_parent.txt"],
  ["active uuid filter", ["list", "--uuid", U2], "list_active_uuid.txt"],
  ["active json", ["list", "--dumpjson"], "list_active.json"],
  [
    "active json for one uuid is the config form",
    ["list", "--dumpjson", "-u", U1],
    "list_active_uuid.json",
  ],
  ["defined", ["list", "-d"], "list_defined.txt"],
  ["defined verbose", ["list", "-dv"], "list_defined_verbose.txt"],
  [
    "defined verbose, bundled flags with uuid",
    [`list`, `-dvu${U3}`],
    "list_defined_uuid_verbose.txt",
  ],
  ["defined parent filter", ["list", "--defined", "--parent=" + P1], "list_defined_parent.txt"],
  ["defined json", ["list", "-d", "--dumpjson"], "list_defined.json"],
  [
    "defined json, uuid under two parents is a hierarchy",
    ["list", "-d", "--dumpjson", "-u", U3],
    "list_defined_uuid.json",
  ],
  ["defined json, uuid and parent is the config form", [
    "list",
    "-d",
    "--dumpjson",
    "-u",
    U3,
    "-p",
    P2,
  ], "list_defined_uuid_parent.json"],
];

for (const [name, args, file] of cases) {
  Deno.test(`list: ${name}`, () =>
    withHost(async (host) => {
      await setup(host);
      assertEquals(await host.run(args), { code: 0, stdout: await golden(file), stderr: "" });
    }));
}

Deno.test("list: uppercase and braced uuid filters are normalised", () =>
  withHost(async (host) => {
    await setup(host);
    const r = await host.run(["list", "-d", "-u", `{${U3.toUpperCase()}}`, "-p", P1]);
    assertEquals(r.stdout, `${U3} ${P1} typeB manual\n`);
  }));

Deno.test("list: nothing matches → no bytes, JSON []", () =>
  withHost(async (host) => {
    await setup(host);
    for (
      const args of [["list", "-u", U3], ["list", "-d", "-p", "nope"], ["list", "-p", "nope", "-v"]]
    ) {
      assertEquals(await host.run(args), { code: 0, stdout: "", stderr: "" });
    }
    for (
      const args of [["list", "--dumpjson", "-u", U3], ["list", "-d", "--dumpjson", "-p", "x"]]
    ) {
      assertEquals(await host.run(args), { code: 0, stdout: "[]\n", stderr: "" });
    }
  }));

Deno.test("list: an empty host lists nothing, even without /etc/mdevctl.d", () =>
  withHost(async (host) => {
    await Deno.remove(host.path("etc/mdevctl.d"), { recursive: true });
    await Deno.remove(host.path("sys"), { recursive: true });
    for (const args of [["list"], ["list", "-d"], ["list", "-dv"]]) {
      assertEquals(await host.run(args), { code: 0, stdout: "", stderr: "" });
    }
    assertEquals((await host.run(["list", "-d", "--dumpjson"])).stdout, "[]\n");
  }));

Deno.test("lsmdev is list, and refuses the word list", () =>
  withHost(async (host) => {
    await setup(host);
    assertEquals(await host.run([], { lsmdev: true }), {
      code: 0,
      stdout: await golden("list_active.txt"),
      stderr: "",
    });
    assertEquals(
      (await host.run(["-d", "--dumpjson"], { lsmdev: true })).stdout,
      await golden("list_defined.json"),
    );
    const r = await host.run(["list"], { lsmdev: true });
    assertEquals(r.code, 2);
    match(r.stderr, /^error: /);
    assertEquals((await host.run(["--version"], { lsmdev: true })).stdout, "lsmdev 1.4.0\n");
  }));

Deno.test("list: parents named like integers keep byte order in JSON", () =>
  withHost(async (host) => {
    for (const p of ["zeta", "1234", "0.0.26ab"]) {
      await host.define(p, U1, { mdev_type: "t", start: "manual" });
    }
    const r = await host.run(["list", "-d", "--dumpjson"]);
    const keys = [...r.stdout.matchAll(/^ {4}"([^"]+)": \[/gm)].map((m) => m[1]);
    assertEquals(keys, ["0.0.26ab", "1234", "zeta"]);
    assertEquals(JSON.parse(r.stdout)[0]["1234"][0][U1].mdev_type, "t");
  }));

Deno.test("list: ` (defined)` follows the file even when it is corrupt; start mode then manual", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    await host.define(P1, U1, "{ not json");
    const r = await host.run(["list"]);
    assertEquals(r.stdout, `${U1} ${P1} typeA manual (defined)\n`);
  }));

Deno.test("list -d: ` (active)` needs the same parent and type", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {}, typeB: {} });
    await host.addActive(U1, P1, "typeA");
    await host.addActive(U2, P1, "typeA");
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual" });
    await host.define(P1, U2, { mdev_type: "typeB", start: "manual" });
    await host.define(P2, U1, { mdev_type: "typeA", start: "manual" });
    assertEquals(
      (await host.run(["list", "-d"])).stdout,
      `${U1} ${P1} typeA manual (active)\n${U2} ${P1} typeB manual\n${U1} ${P2} typeA manual\n`,
    );
  }));

Deno.test("list -d: one corrupt config is a warning naming it; the rest is listed", () =>
  withHost(async (host) => {
    await host.define(P1, U1, '{"mdev_type": "t", "start": "auto"');
    await host.define(P1, U2, { mdev_type: "t", start: "auto" });
    await host.define(P1, U3, { mdev_type: 5, start: "auto" });
    const r = await host.run(["list", "-d"]);
    assertEquals(r.code, 0);
    assertEquals(r.stdout, `${U2} ${P1} t auto\n`);
    match(r.stderr, new RegExp(`WARN .*etc/mdevctl.d/${P1}/${U1}.*EOF while parsing an object`));
    match(r.stderr, new RegExp(`WARN .*${U3}.*invalid json`));
  }));

Deno.test("list -d: non-canonical file names are listed under the canonical uuid", () =>
  withHost(async (host) => {
    await host.define(P1, U1.toUpperCase(), { mdev_type: "t", start: "manual" });
    await host.define(P1, U2.replaceAll("-", ""), { mdev_type: "t", start: "manual" });
    assertEquals(
      (await host.run(["list", "-d"])).stdout,
      `${U1} ${P1} t manual\n${U2} ${P1} t manual\n`,
    );
  }));

Deno.test("list: stray entries are warnings; scripts.d is never a parent; symlinks ignored", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual" });
    await Deno.writeTextFile(host.path(`etc/mdevctl.d/${P1}/notes.txt`), "x");
    await Deno.mkdir(host.path("etc/mdevctl.d/scripts.d"), { recursive: true });
    await Deno.writeTextFile(
      host.path(`etc/mdevctl.d/scripts.d/${U2}`),
      '{"mdev_type":"t","start":"auto"}',
    );
    await Deno.symlink(
      host.path(`etc/mdevctl.d/${P1}/${U1}`),
      host.path(`etc/mdevctl.d/${P1}/${U3}`),
    );
    await Deno.mkdir(host.path("sys/bus/mdev/devices/not-a-uuid"));
    const d = await host.run(["list", "-d"]);
    assertEquals(d.stdout, `${U1} ${P1} t manual\n`);
    match(d.stderr, /Can't determine uuid for file 'notes.txt'/);
    const a = await host.run(["list"]);
    assertEquals(a.stdout, "");
    match(a.stderr, /Can't determine uuid for file 'not-a-uuid'/);
  }));

Deno.test("list: a half-created device (no mdev_type yet) is a warning, not a failure", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    await Deno.mkdir(`${host.parentDir(P1)}/${U2}`);
    await Deno.symlink(`${host.parentDir(P1)}/${U2}`, host.path(`sys/bus/mdev/devices/${U2}`));
    await host.define(P1, U2, { mdev_type: "typeA", start: "auto" });
    const a = await host.run(["list"]);
    assertEquals([a.code, a.stdout], [0, `${U1} ${P1} typeA manual\n`]);
    match(a.stderr, new RegExp(`WARN .*sys/bus/mdev/devices/${U2}`));
    const d = await host.run(["list", "-d"]);
    assertEquals([d.code, d.stdout], [0, `${U2} ${P1} typeA auto\n`]);
  }));

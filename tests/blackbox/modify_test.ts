/** `modify` of stored definitions (spec §5.3 A) and its option rules. */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, P2, U1, withHost } from "../helpers/fake_host.ts";

const SIX = [
  { "assign_adapter": "5" },
  { "assign_domain": "4" },
  { "assign_control_domain": "4" },
  { "a": "1" },
  { "b": "2" },
  { "c": "3" },
];

async function setup(host: FakeHost) {
  await host.define(P1, U1, { mdev_type: "vfio_ap-passthrough", start: "manual", attrs: SIX });
}

async function stored(host: FakeHost, parent = P1) {
  return JSON.parse(await host.read(`etc/mdevctl.d/${parent}/${U1}`));
}

const modifications: [string, string[], (attrs: object[]) => object[], string, string][] = [
  ["--auto", ["--auto"], (a) => a, "auto", "vfio_ap-passthrough"],
  ["--manual", ["-m"], (a) => a, "manual", "vfio_ap-passthrough"],
  [
    "--delattr --index 2",
    ["--delattr", "-i", "2"],
    (a) => a.filter((_, i) => i !== 2),
    "manual",
    "vfio_ap-passthrough",
  ],
  [
    "--delattr removes the last",
    ["--delattr"],
    (a) => a.slice(0, -1),
    "manual",
    "vfio_ap-passthrough",
  ],
  [
    "--addattr --index 3",
    ["--addattr", "x", "--value", "9", "--index=3"],
    (a) => [...a.slice(0, 3), { x: "9" }, ...a.slice(3)],
    "manual",
    "vfio_ap-passthrough",
  ],
  [
    "--addattr at the end index",
    ["--addattr=x", "--value=9", "-i6"],
    (a) => [...a, { x: "9" }],
    "manual",
    "vfio_ap-passthrough",
  ],
  [
    "--addattr appends",
    ["--addattr", "nvidia/vgpu_params", "--value", "frl=0"],
    (a) => [...a, { "nvidia/vgpu_params": "frl=0" }],
    "manual",
    "vfio_ap-passthrough",
  ],
  ["-t with --auto", ["-t", "other", "-a"], (a) => a, "auto", "other"],
];

for (const [name, args, attrs, start, type] of modifications) {
  Deno.test(`modify: ${name}`, () =>
    withHost(async (host) => {
      await setup(host);
      assertEquals(await host.run(["modify", "-u", U1, ...args]), {
        code: 0,
        stdout: "",
        stderr: "",
      });
      assertEquals(await stored(host), { mdev_type: type, start, attrs: attrs(SIX) });
    }));
}

Deno.test("modify: the file keeps the exact config-file bytes", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual" });
    await host.run(["modify", "-u", U1, "--addattr", "k", "--value", "v"]);
    assertEquals(
      await host.read(`etc/mdevctl.d/${P1}/${U1}`),
      '{\n  "mdev_type": "t",\n  "start": "manual",\n  "attrs": [\n    {\n      "k": "v"\n    }\n  ]\n}',
    );
  }));

Deno.test("modify: an index past the end names the attributes, nothing written", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual", attrs: [{ a: "1" }, { b: "2" }] });
    const before = await host.read(`etc/mdevctl.d/${P1}/${U1}`);
    for (
      const args of [["--delattr", "--index", "2"], ["--addattr", "x", "--value", "y", "-i", "3"]]
    ) {
      const r = await host.run(["modify", "-u", U1, ...args]);
      const index = args.at(-1);
      assertEquals([r.code, r.stdout], [1, ""]);
      assertEquals(
        r.stderr,
        `Error: Attribute index ${index} is invalid\n  Attrs:\n    @{0}: {"a":"1"}\n    @{1}: {"b":"2"}\n\n`,
      );
    }
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), before);
    await host.define(P2, U1, { mdev_type: "t", start: "manual" });
    const r = await host.run(["modify", "-u", U1, "-p", P2, "--delattr", "-i", "0"]);
    assertEquals(r.stderr, `Error: Attribute index 0 is invalid\nDevice ${U1} has no attributes\n`);
  }));

Deno.test("modify: not defined, or defined under two parents without --parent", () =>
  withHost(async (host) => {
    let r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals([r.code, r.stderr], [1, `Error: Mediated device ${U1} is not defined\n`]);
    r = await host.run(["modify", "-u", U1, "-p", P1, "--auto"]);
    assertEquals(r.stderr, `Error: Mediated device ${P1}/${U1} is not defined\n`);
    await host.define(P1, U1, { mdev_type: "t", start: "manual" });
    await host.define(P2, U1, { mdev_type: "t", start: "manual" });
    r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals(r.stderr, `Error: Multiple definitions found for ${U1}, specify a parent\n`);
    r = await host.run(["modify", "-u", U1, "-p", P2, "--auto"]);
    assertEquals(r.code, 0);
    assertEquals((await stored(host, P2)).start, "auto");
    assertEquals((await stored(host, P1)).start, "manual");
  }));

Deno.test("modify --jsonfile replaces the definition (and creates one)", () =>
  withHost(async (host) => {
    await setup(host);
    await Deno.writeTextFile(
      host.path("new.json"),
      '{"mdev_type":"t2","start":"auto","attrs":[{"z":"1"}]}',
    );
    let r = await host.run(["modify", "-u", U1, "--jsonfile", host.path("new.json")]);
    assertEquals([r.code, r.stderr], [
      1,
      "Error: Parent device required to modify device via json file\n",
    ]);
    r = await host.run(["modify", "-u", U1, "-p", P1, "--jsonfile", host.path("new.json")]);
    assertEquals(r.code, 0);
    assertEquals(await stored(host), { mdev_type: "t2", start: "auto", attrs: [{ z: "1" }] });
    r = await host.run(["modify", "-u", U1, "-p", P2, "--jsonfile=/dev/stdin"], {
      stdin: '{"mdev_type":"t3","start":"manual"}',
    });
    assertEquals(r.code, 0);
    assertEquals(await stored(host, P2), { mdev_type: "t3", start: "manual", attrs: [] });
  }));

Deno.test("modify: a non-canonical file name is modified in place, never duplicated", () =>
  withHost(async (host) => {
    await host.define(P1, U1.toUpperCase(), { mdev_type: "t", start: "manual" });
    assertEquals((await host.run(["modify", "-u", U1, "--auto"])).code, 0);
    assertEquals(Object.keys(await host.snapshot(`etc/mdevctl.d/${P1}`)), [U1.toUpperCase()]);
    assertEquals(
      JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1.toUpperCase()}`)).start,
      "auto",
    );
  }));

Deno.test("modify: a corrupt definition is reported, not overwritten", () =>
  withHost(async (host) => {
    await host.define(P1, U1, "{ bad");
    const r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals(r.code, 1);
    match(
      r.stderr,
      new RegExp(`^Error: Invalid config file ".*/${U1}"\n\nCaused by:\n    key must be a string`),
    );
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), "{ bad");
  }));

Deno.test("modify: option rules (exactly one action; value with addattr; live with jsonfile)", () =>
  withHost(async (host) => {
    await setup(host);
    const bad = [
      [],
      ["-t", "x"],
      ["--auto", "--manual"],
      ["--addattr", "x", "--delattr", "--value", "1"],
      ["--addattr", "x"],
      ["--value", "1", "--auto"],
      ["--delattr", "--value", "1"],
      ["--auto", "-i", "1"],
      ["--jsonfile", "f", "--auto"],
      ["--jsonfile", "f", "-t", "x"],
      ["--jsonfile", "f", "-i", "0"],
      ["--live", "--auto"],
      ["--live", "--jsonfile", "f", "-t", "x"],
      ["--delattr", "-i", "-1"],
      ["--delattr", "-i", "4294967296"],
      ["--delattr", "--delattr"],
    ];
    for (const args of bad) {
      const r = await host.run(["modify", "-u", U1, ...args]);
      assertEquals([r.code, r.stdout], [2, ""], args.join(" "));
      match(r.stderr, /^error: /, args.join(" "));
    }
    assertEquals((await stored(host)).attrs, SIX);
    assertEquals((await host.run(["modify", "-u", U1, "--delattr", "-i", "4294967295"])).code, 1);
  }));

Deno.test("modify: libvirt's probe --defined --live --jsonfile b --help exits 0", () =>
  withHost(async (host) => {
    const r = await host.run(["modify", "--defined", "--live", "--jsonfile", "b", "--help"]);
    assertEquals(r.code, 0);
    match(r.stdout, /--live/);
  }));

Deno.test("modify --live without a versioned callout script refuses", () =>
  withHost(async (host) => {
    await host.addParent(P1, { t: {} });
    await host.addActive(U1, P1, "t");
    await Deno.writeTextFile(host.path("n.json"), '{"mdev_type":"t","start":"manual","attrs":[]}');
    let r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", host.path("n.json")]);
    assertEquals([r.code, r.stderr], [
      1,
      "Error: No callout script with version support found that supports live modify\n",
    ]);
    await Deno.writeTextFile(host.path("n.json"), '{"mdev_type":"other","start":"manual"}');
    r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", host.path("n.json")]);
    assertEquals(r.stderr, "Error: 'type' cannot be changed on active mdev\n");
    r = await host.run([
      "modify",
      "-u",
      "{" + "9".repeat(8) + "-1111-0000-0000-000000000000}",
      "-l",
      "--jsonfile",
      "x",
    ]);
    assertEquals(
      r.stderr,
      `Error: Mediated device 99999999-1111-0000-0000-000000000000 is not active\n`,
    );
  }));

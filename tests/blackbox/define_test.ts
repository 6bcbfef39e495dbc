/** `define` (spec §5.1, §2.3, decisions §0.4, §0.5). */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { P1, P2, U1, U2, withHost } from "../helpers/fake_host.ts";

const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/;
const fresh = (type: string, start = "manual") =>
  `{\n  "mdev_type": "${type}",\n  "start": "${start}",\n  "attrs": []\n}`;

Deno.test("define: parent and type, no uuid → generated uuid printed, file written", () =>
  withHost(async (host) => {
    const r = await host.run(["define", "-p", P1, "-t", "i915-GVTg_V5_4", "--auto"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    match(r.stdout, UUID_LINE);
    assertEquals(
      await host.read(`etc/mdevctl.d/${P1}/${r.stdout.trim()}`),
      fresh("i915-GVTg_V5_4", "auto"),
    );
  }));

Deno.test("define: with uuid → nothing printed; manual by default; uppercase uuid stored canonical", () =>
  withHost(async (host) => {
    assertEquals(await host.run(["define", "-u", U1.toUpperCase(), "-p", P1, "-t", "typeA"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), fresh("typeA"));
  }));

Deno.test("define: parent only, no uuid → No type specified", () =>
  withHost(async (host) => {
    const r = await host.run(["define", "-p", P1]);
    assertEquals([r.code, r.stdout, r.stderr], [1, "", "Error: No type specified\n"]);
  }));

Deno.test("define: uuid of a stopped device without parent → No parent specified", () =>
  withHost(async (host) => {
    const r = await host.run(["define", "-u", U1, "-t", "typeA"]);
    assertEquals([r.code, r.stderr], [1, "Error: No parent specified\n"]);
  }));

Deno.test("define: running device, type given without parent → No parent specified", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    const r = await host.run(["define", "-u", U1, "-t", "typeA"]);
    assertEquals([r.code, r.stderr], [1, "Error: No parent specified\n"]);
  }));

Deno.test("define: running device, uuid only → parent and type from sysfs", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    assertEquals((await host.run(["define", "-u", U1])).code, 0);
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), fresh("typeA"));
    const r = await host.run(["list"]);
    assertEquals(r.stdout, `${U1} ${P1} typeA manual (defined)\n`);
  }));

Deno.test("define: running elsewhere, other parent and type given → defined as asked", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    assertEquals((await host.run(["define", "-u", U1, "-p", P2, "-t", "typeB"])).code, 0);
    assertEquals(await host.read(`etc/mdevctl.d/${P2}/${U1}`), fresh("typeB"));
    assertEquals((await host.run(["define", "-u", U2, "-p", P1, "-t", "typeZ"])).code, 0);
  }));

Deno.test("define: already defined → error, file untouched", () =>
  withHost(async (host) => {
    await host.define(P1, U1, '{"mdev_type":"old","start":"auto"}');
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", "typeA"]);
    assertEquals([r.code, r.stderr], [1, `Error: Device ${U1} on ${P1} already defined\n`]);
    assertEquals(
      await host.read(`etc/mdevctl.d/${P1}/${U1}`),
      '{"mdev_type":"old","start":"auto"}',
    );
  }));

Deno.test("define --jsonfile: file re-serialised, attrs kept in order", () =>
  withHost(async (host) => {
    await Deno.writeTextFile(
      host.path("in.json"),
      '{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[{"assign_adapter":"5"},{"assign_domain":"4"},{"assign_adapter":"6"}],"extra":1}\n',
    );
    assertEquals(
      (await host.run(["define", "-u", U1, "-p", "matrix", "--jsonfile", host.path("in.json")]))
        .code,
      0,
    );
    assertEquals(
      await host.read(`etc/mdevctl.d/matrix/${U1}`),
      '{\n  "mdev_type": "vfio_ap-passthrough",\n  "start": "auto",\n  "attrs": [\n    {\n      "assign_adapter": "5"\n    },\n    {\n      "assign_domain": "4"\n    },\n    {\n      "assign_adapter": "6"\n    }\n  ]\n}',
    );
  }));

Deno.test("define --jsonfile=/dev/stdin from a pipe (libvirt's call)", () =>
  withHost(async (host) => {
    const r = await host.run(["define", `--parent=${P1}`, "--jsonfile=/dev/stdin"], {
      stdin:
        '{"mdev_type":"i915-GVTg_V5_8","start":"manual","attrs":[{"example-attribute":"attribute-value"}]}',
    });
    assertEquals([r.code, r.stderr], [0, ""]);
    match(r.stdout, UUID_LINE);
    const stored = JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${r.stdout.trim()}`));
    assertEquals(stored.attrs, [{ "example-attribute": "attribute-value" }]);
  }));

Deno.test("define --jsonfile: missing file first, then parent, then existing config", () =>
  withHost(async (host) => {
    let r = await host.run(["define", "-u", U1, "--jsonfile", host.path("missing.json")]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr,
      `Error: Unable to read file "${
        host.path("missing.json")
      }"\n\nCaused by:\n    No such file or directory (os error 2)\n`,
    );
    await Deno.writeTextFile(host.path("in.json"), '{"mdev_type":"t","start":"auto"}');
    r = await host.run(["define", "-u", U1, "--jsonfile", host.path("in.json")]);
    assertEquals(
      r.stderr,
      `Error: Parent device required to define device via "${host.path("in.json")}"\n`,
    );
    await host.define(P1, U1, { mdev_type: "t", start: "auto" });
    r = await host.run(["define", "-u", U1, "-p", P1, "--jsonfile", host.path("in.json")]);
    assertEquals(
      r.stderr,
      `Error: Cowardly refusing to overwrite existing config for ${P1}/${U1}\n`,
    );
  }));

Deno.test("define --jsonfile: invalid contents are refused, nothing written", () =>
  withHost(async (host) => {
    const cases: [string, string][] = [
      ["{", "EOF while parsing an object at line 1 column 1"],
      ['{"mdev_type":"t"}', "invalid json"],
      [
        '{"mdev_type":"t","start":"auto","attrs":[{"a":1}]}',
        'invalid JSON format for attribute {"a", 1}: value must be of type str',
      ],
      [
        '{"mdev_type":"t","start":"auto","attrs":[{"../../x":"1"}]}',
        "Invalid attribute name '../../x'",
      ],
    ];
    for (const [text, message] of cases) {
      await Deno.writeTextFile(host.path("in.json"), text);
      const r = await host.run(["define", "-u", U1, "-p", P1, "--jsonfile", host.path("in.json")]);
      assertEquals([r.code, r.stdout, r.stderr], [1, "", `Error: ${message}\n`], text);
    }
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}`), false);
  }));

Deno.test("define: usage errors exit 2", () =>
  withHost(async (host) => {
    await Deno.writeTextFile(host.path("in.json"), '{"mdev_type":"t","start":"auto"}');
    for (
      const args of [
        ["define"],
        ["define", "-t", "typeA"],
        ["define", "-p", P1, "--jsonfile", "in.json", "-t", "x"],
        ["define", "-p", P1, "--jsonfile", "in.json", "--auto"],
        ["define", "-u", "not-a-uuid", "-p", P1, "-t", "x"],
        ["define", "-u", U1, "-u", U2, "-p", P1, "-t", "x"],
        ["define", "-p", P1, "-t", "x", "extra"],
        ["define", "-p"],
      ]
    ) {
      const r = await host.run(args);
      assertEquals([r.code, r.stdout], [2, ""], args.join(" "));
      match(r.stderr, /^error: [^]*\n\nUsage: mdevctl define \[OPTIONS\]\n/, args.join(" "));
    }
  }));

Deno.test("define: names that would escape the config directory are refused (decision §0.4)", () =>
  withHost(async (host) => {
    for (const parent of ["../../tmp/x", "/abs", "", ".", "..", "a/b"]) {
      const r = await host.run(["define", "-u", U1, "-p", parent, "-t", "typeA"]);
      assertEquals([r.code, r.stderr], [1, `Error: Invalid parent name '${parent}'\n`], parent);
    }
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", "../t"]);
    assertEquals(r.stderr, "Error: Invalid type name '../t'\n");
    assertEquals(await host.snapshot("etc"), { "mdevctl.d/": "" });
  }));

Deno.test("define: a config directory that cannot be used is a clear error naming it", () =>
  withHost(async (host) => {
    await Deno.remove(host.path("etc/mdevctl.d"));
    await Deno.writeTextFile(host.path("etc/mdevctl.d"), "not a directory");
    let r = await host.run(["define", "-u", U1, "-p", P1, "-t", "typeA"]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr,
      `Error: Unable to read "${host.path("etc/mdevctl.d")}": Not a directory (os error 20)\n`,
    );
    await Deno.remove(host.path("etc/mdevctl.d"));
    await Deno.mkdir(host.path("etc/mdevctl.d"));
    await Deno.writeTextFile(host.path(`etc/mdevctl.d/${P1}`), "not a directory");
    r = await host.run(["define", "-u", U1, "-p", P1, "-t", "typeA"]);
    assertEquals(
      r.stderr,
      `Error: Failed to write config for device ${U1}\n\nCaused by:\n    File exists (os error 17)\n`,
    );
  }));

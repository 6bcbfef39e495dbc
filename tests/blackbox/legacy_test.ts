/** The original 2019 command set (seed-interface.md). */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, withHost } from "../helpers/fake_host.ts";

async function setup(host: FakeHost) {
  await host.addParent(P1, {
    "i915-GVTg_V4_2": {
      available: 2,
      description:
        "low_gm_size: 256MB high_gm_size: 1024MB fence: 4 resolution: 1920x1200 weight: 8\n",
    },
    "i915-GVTg_V4_1": { available: 0, name: "x" },
  });
  await host.addParent(P2, { "nvidia-11": { available: 1, description: "a\nb" } });
}

Deno.test("list-all: the original layout, no Name line, newlines as spaces", () =>
  withHost(async (host) => {
    await setup(host);
    assertEquals(await host.run(["list-all"]), {
      code: 0,
      stderr: "",
      stdout: `${P1}\n` +
        "  i915-GVTg_V4_1\n    Available instances: 0\n    Device API: vfio-pci\n" +
        "  i915-GVTg_V4_2\n    Available instances: 2\n    Device API: vfio-pci\n" +
        "    Description: low_gm_size: 256MB high_gm_size: 1024MB fence: 4 resolution: 1920x1200 weight: 8 \n" +
        `${P2}\n  nvidia-11\n    Available instances: 1\n    Device API: vfio-pci\n    Description: a b\n`,
    });
  }));

Deno.test("list-available leaves out types without instances", () =>
  withHost(async (host) => {
    await setup(host);
    const r = await host.run(["list-available"]);
    assertEquals(r.code, 0);
    assertEquals(r.stdout.includes("i915-GVTg_V4_1"), false);
    assertEquals(r.stdout.includes("i915-GVTg_V4_2"), true);
  }));

Deno.test("create-mdev defines (auto) and starts; list-saved and list-mdevs show three columns", () =>
  withHost(async (host) => {
    await setup(host);
    assertEquals(await host.run(["create-mdev", U1, P1, "i915-GVTg_V4_2"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assertEquals(await Deno.readTextFile(`${host.typeDir(P1, "i915-GVTg_V4_2")}/create`), U1);
    assertEquals(JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)), {
      mdev_type: "i915-GVTg_V4_2",
      start: "auto",
      attrs: [],
    });
    assertEquals((await host.run(["list-saved"])).stdout, `${U1} ${P1} i915-GVTg_V4_2\n`);
    await host.addActive(U1, P1, "i915-GVTg_V4_2");
    await host.addActive(U2, P2, "nvidia-11");
    assertEquals(
      (await host.run(["list-mdevs"])).stdout,
      `${U1} ${P1} i915-GVTg_V4_2\n${U2} ${P2} nvidia-11\n`,
    );
  }));

Deno.test("create-mdev refuses what start refuses, after recording nothing twice", () =>
  withHost(async (host) => {
    await setup(host);
    const r = await host.run(["create-mdev", U1, P1, "i915-GVTg_V4_1"]);
    assertEquals([r.code, r.stderr], [
      1,
      `Error: No available instances of i915-GVTg_V4_1 on ${P1}\n`,
    ]);
    const again = await host.run(["create-mdev", U1, P1, "i915-GVTg_V4_1"]);
    assertEquals(again.stderr, `Error: Device ${U1} on ${P1} already defined\n`);
  }));

Deno.test("start-mdev, stop-mdev and remove-mdev", () =>
  withHost(async (host) => {
    await setup(host);
    await host.define(P2, U2, "nvidia-11\n");
    assertEquals((await host.run(["list-saved"])).stdout, `${U2} ${P2} nvidia-11\n`);
    assertEquals((await host.run(["start-mdev", U2])).code, 0);
    assertEquals(await Deno.readTextFile(`${host.typeDir(P2, "nvidia-11")}/create`), U2);
    let r = await host.run(["start-mdev", U1]);
    assertEquals([r.code, r.stderr], [1, `Error: Mediated device ${U1} is not defined\n`]);
    await host.addActive(U2, P2, "nvidia-11");
    assertEquals(
      (await host.run(["start-mdev", `{${U2}}`])).stderr,
      "Error: Device already exists\n",
    );
    assertEquals((await host.run(["stop-mdev", U2])).code, 0);
    assertEquals(await Deno.readTextFile(`${host.parentDir(P2)}/${U2}/remove`), "1");
    assertEquals(await host.exists(`etc/mdevctl.d/${P2}/${U2}`), true);
    r = await host.run(["remove-mdev", U2]);
    assertEquals(r.code, 0);
    assertEquals(await host.exists(`etc/mdevctl.d/${P2}/${U2}`), false);
    r = await host.run(["stop-mdev", U1]);
    assertEquals([r.code, r.stderr], [1, `Error: Mediated device ${U1} is not active\n`]);
  }));

Deno.test("the original commands: wrong argument count or bad uuid → message, exit 1", () =>
  withHost(async (host) => {
    const cases: [string[], RegExp][] = [
      [["create-mdev", U1, P1], /^Usage: mdevctl create-mdev <uuid> <parent> <type>\n$/],
      [["start-mdev"], /^Usage: mdevctl start-mdev <uuid>\n$/],
      [["stop-mdev", U1, U2], /^Usage: mdevctl stop-mdev <uuid>\n$/],
      [["list-mdevs", "x"], /^Usage: mdevctl list-mdevs\n$/],
      [["list-all", "-p", P1], /^Usage: mdevctl list-all\n$/],
      [["start-mdev", "1234"], /^Error: Invalid uuid '1234'\n$/],
      [["start-mdev", U1.replaceAll("-", "")], /^Error: Invalid uuid/],
      [["create-mdev", U1, "../x", "t"], /^Error: Invalid parent name '..\/x'\n$/],
    ];
    for (const [args, pattern] of cases) {
      const r = await host.run(args);
      assertEquals([r.code, r.stdout], [1, ""], args.join(" "));
      match(r.stderr, pattern, args.join(" "));
    }
  }));

/** `start` (spec §5.4, §7) and `stop` (§5.5) against a fake sysfs. */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, withHost } from "../helpers/fake_host.ts";

const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/;

function rel(host: FakeHost, path: string): string {
  return path.slice(host.root.length + 1);
}

async function created(host: FakeHost, parent: string, type: string): Promise<string> {
  return await host.read(rel(host, `${host.typeDir(parent, type)}/create`));
}

Deno.test("start: transient device from parent and type writes the uuid to create", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: { available: 2 } });
    assertEquals(await host.run(["start", "-u", U1, "-p", P1, "-t", "typeA"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assertEquals(await created(host, P1, "typeA"), U1);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}`), false);
  }));

Deno.test("start: without uuid a generated one is printed and created", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const r = await host.run(["start", "-p", P1, "-t", "typeA"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    match(r.stdout, UUID_LINE);
    assertEquals(await created(host, P1, "typeA"), r.stdout.trim());
  }));

Deno.test("start --jsonfile=/dev/stdin (libvirt's create) applies attributes in order", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    // Play the kernel: the device directory with its attribute files exists
    // once create is written; a directory without mdev_type is not running.
    const dev = `${host.parentDir(P1)}/${U1}`;
    await Deno.mkdir(`${dev}/nvidia`, { recursive: true });
    await Deno.writeTextFile(`${dev}/a`, "");
    await Deno.writeTextFile(`${dev}/nvidia/vgpu_params`, "");
    await Deno.symlink(dev, host.path(`sys/bus/mdev/devices/${U1}`));
    const r = await host.run(["start", `--parent=${P1}`, "--jsonfile=/dev/stdin", `--uuid=${U1}`], {
      stdin:
        '{"mdev_type":"typeA","start":"manual","attrs":[{"a":"1"},{"nvidia/vgpu_params":"frl=0"},{"a":"2"}]}',
    });
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await created(host, P1, "typeA"), U1);
    assertEquals(await Deno.readTextFile(`${dev}/a`), "2");
    assertEquals(await Deno.readTextFile(`${dev}/nvidia/vgpu_params`), "frl=0");
  }));

Deno.test("start: a failing attribute rolls the device back", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const dev = `${host.parentDir(P1)}/${U1}`;
    await Deno.mkdir(dev, { recursive: true });
    await Deno.writeTextFile(`${dev}/remove`, "");
    await Deno.writeTextFile(`${dev}/good`, "");
    await Deno.symlink(dev, host.path(`sys/bus/mdev/devices/${U1}`));
    await host.define(P1, U1, {
      mdev_type: "typeA",
      start: "manual",
      attrs: [{ good: "1" }, { missing: "2" }],
    });
    const r = await host.run(["start", "-u", U1]);
    // The played device directory has no mdev_type link: a warning, then the error.
    assertEquals([r.code, r.stdout], [1, ""]);
    assertEquals(
      r.stderr.slice(r.stderr.indexOf("Error:")),
      "Error: Invalid attribute 'missing'\n",
    );
    assertEquals(await Deno.readTextFile(`${dev}/good`), "1");
    assertEquals(await Deno.readTextFile(`${dev}/remove`), "1");
  }));

Deno.test("start: a failed rollback reports both errors", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const dev = `${host.parentDir(P1)}/${U1}`;
    await Deno.mkdir(dev, { recursive: true });
    await Deno.symlink(dev, host.path(`sys/bus/mdev/devices/${U1}`));
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual", attrs: [{ missing: "2" }] });
    const r = await host.run(["start", "-u", U1]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr.slice(r.stderr.indexOf("Error:")),
      `Error: Invalid attribute 'missing'\n\nCaused by:\n    0: rollback failed as well: Error removing device ${U1}\n` +
        "    1: No such file or directory (os error 2)\n",
    );
  }));

Deno.test("start: attribute names from a definition cannot escape the device directory", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await Deno.writeTextFile(host.path("victim"), "safe");
    await host.define(P1, U1, {
      mdev_type: "typeA",
      start: "manual",
      attrs: [{ "../../../../../../victim": "x" }],
    });
    const r = await host.run(["start", "-u", U1]);
    assertEquals([r.code, r.stderr], [
      1,
      "Error: Invalid attribute name '../../../../../../victim'\n",
    ]);
    assertEquals(await host.read("victim"), "safe");
    assertEquals(await created(host, P1, "typeA"), "");
  }));

Deno.test("start: defined device by uuid alone, or uuid and parent", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addParent(P2, { typeB: {} });
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual" });
    assertEquals((await host.run(["start", "-u", U1])).code, 0);
    assertEquals(await created(host, P1, "typeA"), U1);
    await host.define(P2, U2, { mdev_type: "typeB", start: "auto" });
    await host.define(P1, U2, { mdev_type: "typeA", start: "auto" });
    let r = await host.run(["start", "-u", U2]);
    assertEquals(
      r.stderr,
      `Error: Multiple definitions found for device ${U2}. Please specify a parent.\n`,
    );
    r = await host.run(["start", "-u", U2, "-p", P2, "-t", "typeB"]);
    assertEquals(r.code, 0);
    assertEquals(await created(host, P2, "typeB"), U2);
    r = await host.run(["start", "-u", U2, "-p", P1, "-t", "typeX"]);
    assertEquals(r.stderr, `Error: Device ${U2} already exists on parent ${P1} with type typeA\n`);
  }));

Deno.test("start: underspecified devices", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const cases: [string[], string][] = [
      [["start", "-u", U1], "Device is insufficiently specified"],
      [["start", "-u", U1, "-p", P1], "Device is insufficiently specified"],
      [["start", "-u", U1, "-t", "typeA"], "can't provide type without parent"],
      [["start", "-p", P1], "Device is insufficiently specified"],
    ];
    for (const [args, message] of cases) {
      assertEquals(
        await host.run(args),
        { code: 1, stdout: "", stderr: `Error: ${message}\n` },
        args.join(" "),
      );
    }
    for (
      const args of [["start"], ["start", "-t", "typeA"], [
        "start",
        "-p",
        P1,
        "-t",
        "x",
        "--jsonfile",
        "f",
      ]]
    ) {
      assertEquals((await host.run(args)).code, 2, args.join(" "));
    }
    await Deno.writeTextFile(host.path("t.json"), '{"mdev_type":"typeA","start":"manual"}');
    assertEquals(
      (await host.run(["start", "-u", U1, "--jsonfile", host.path("t.json")])).stderr,
      "Error: Parent device required to start device via json file\n",
    );
    const r = await host.run(["start", "-p", P1, "--jsonfile", host.path("nope.json")]);
    assertEquals(
      r.stderr,
      `Error: Unable to read jsonfile "${
        host.path("nope.json")
      }"\n\nCaused by:\n    No such file or directory (os error 2)\n`,
    );
  }));

Deno.test("start: refusals in the spec's order, nothing written to create", () =>
  withHost(async (host) => {
    await host.addParent("0000:2b:00.0", {
      typeA: { available: 0 },
      typeN: { available: -3 },
      typeG: { available: "x" },
    });
    await Deno.mkdir(host.path("sys/devices/unregistered"), { recursive: true });
    await Deno.symlink(
      host.path("sys/devices/unregistered"),
      host.path("sys/class/mdev_bus/unregistered"),
    );
    await host.addActive(U2, "0000:2b:00.0", "typeA");
    const cases: [string[], string][] = [
      [["-u", U2, "-p", "0000:2b:00.0", "-t", "typeA"], "Device already exists"],
      [["-u", U2, "-p", "0000:2b:00.0", "-t", "typeB"], "Device exists with different type"],
      [["-u", U2, "-p", P1, "-t", "typeA"], "Device exists under different parent"],
      [
        ["-u", U1, "-p", "0000:00:03.0", "-t", "typeA"],
        "Unable to find parent device '0000:00:03.0'",
      ],
      [
        ["-u", U1, "-p", "0000:2B:00.0", "-t", "typeA"],
        "Unable to find parent device '0000:2B:00.0'. Did you mean '0000:2b:00.0'?",
      ],
      [
        ["-u", U1, "-p", "unregistered", "-t", "typeA"],
        "Parent unregistered is not currently registered for mdev support",
      ],
      [
        ["-u", U1, "-p", "0000:2b:00.0", "-t", "typeZ"],
        "Parent 0000:2b:00.0 does not support mdev type typeZ",
      ],
      [
        ["-u", U1, "-p", "0000:2b:00.0", "-t", "typeA"],
        "No available instances of typeA on 0000:2b:00.0",
      ],
      [
        ["-u", U1, "-p", "0000:2b:00.0", "-t", "typeN"],
        "No available instances of typeN on 0000:2b:00.0",
      ],
      [
        ["-u", U1, "-p", "0000:2b:00.0", "-t", "typeG"],
        // Upstream's top line, and the file it came from (spec §16.28).
        `invalid digit found in string\n\nCaused by:\n    while reading "${
          host.path("sys/class/mdev_bus/0000:2b:00.0/mdev_supported_types/typeG")
        }/available_instances"`,
      ],
    ];
    for (const [args, message] of cases) {
      assertEquals(await host.run(["start", ...args]), {
        code: 1,
        stdout: "",
        stderr: `Error: ${message}\n`,
      }, message);
    }
    for (const t of ["typeA", "typeN", "typeG"]) {
      assertEquals(await created(host, "0000:2b:00.0", t), "");
    }
  }));

Deno.test("start: the kernel refusing create is reported with its reason", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await Deno.remove(`${host.typeDir(P1, "typeA")}/create`);
    await Deno.mkdir(`${host.typeDir(P1, "typeA")}/create`);
    const r = await host.run(["start", "-u", U1, "-p", P1, "-t", "typeA"]);
    assertEquals(r.code, 1);
    match(
      r.stderr,
      new RegExp(
        `^Error: Failed to create mdev ${U1}, type typeA on ${P1}\n\nCaused by:\n    Is a directory \\(os error 21\\)\n$`,
      ),
    );
  }));

Deno.test("stop: writes 1 to remove; the definition stays", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto" });
    assertEquals(await host.run(["stop", "-u", U1]), { code: 0, stdout: "", stderr: "" });
    assertEquals(await Deno.readTextFile(`${host.parentDir(P1)}/${U1}/remove`), "1");
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), true);
  }));

Deno.test("stop: a device that is not running", () =>
  withHost(async (host) => {
    assertEquals(await host.run(["stop", "-u", U1]), {
      code: 1,
      stdout: "",
      stderr:
        `Error: Device must have a defined mdev_type\n\nCaused by:\n    Mediated device ${U1} is not active\n`,
    });
    assertEquals((await host.run(["stop"])).code, 2);
    assertEquals((await host.run(["stop", "-u", U1, "-p", P1])).code, 2);
  }));

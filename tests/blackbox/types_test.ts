/** `types` (spec §5.7, §6.4, decision §0.6). */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, withHost } from "../helpers/fake_host.ts";
import { golden } from "../helpers/golden.ts";

async function setup(host: FakeHost) {
  await host.addParent("0000:00:03.0", {
    "nvidia-36": {
      available: 16,
      name: "GRID M10-0B\n",
      description: "num_heads=2, frl_config=45\n",
    },
    "nvidia-155": { available: 4, name: "GRID M10-2B", description: "a\n\nb\n" },
  });
  await host.addParent("0000:00:02.0", {
    "i915-GVTg_V5_4": { available: 2, description: "low_gm_size: 128MB\nhigh_gm_size: 512MB\n" },
    "i915-GVTg_V5_8": { available: 0, name: "" },
  });
  await host.addParent("0.0.26ab", {
    "vfio_ccw-io": { available: -1, deviceApi: "vfio-ccw", name: "I/O subchannel (Non-QDIO)\n" },
  });
  await host.addParent("matrix", {});
}

for (
  const [name, args, file] of [
    ["text", ["types"], "types.txt"],
    ["json", ["types", "--dumpjson"], "types.json"],
    ["one parent", ["types", "-p", "0000:00:03.0"], "types_parent.txt"],
    ["one parent json", ["types", "--parent=0000:00:03.0", "--dumpjson"], "types_parent.json"],
  ] as const
) {
  Deno.test(`types: ${name}`, () =>
    withHost(async (host) => {
      await setup(host);
      assertEquals(await host.run([...args]), { code: 0, stdout: await golden(file), stderr: "" });
    }));
}

Deno.test("types: no parents or no match → nothing, JSON []", () =>
  withHost(async (host) => {
    assertEquals(await host.run(["types"]), { code: 0, stdout: "", stderr: "" });
    assertEquals(await host.run(["types", "--dumpjson"]), { code: 0, stdout: "[]\n", stderr: "" });
    await setup(host);
    assertEquals(await host.run(["types", "-p", "0000:00:02"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assertEquals(await host.run(["types", "-p", "nope", "--dumpjson"]), {
      code: 0,
      stdout: "[]\n",
      stderr: "",
    });
  }));

Deno.test("types: a broken parent or garbled type is a warning; the rest is listed", () =>
  withHost(async (host) => {
    await host.addParent("good", {
      ok: { available: 3 },
      bad: { available: "three" },
      neg: { available: "" },
    });
    await Deno.remove(host.typeDir("good", "neg") + "/device_api");
    await Deno.mkdir(host.path("sys/devices/pci0000:00/broken"), { recursive: true });
    await Deno.symlink(
      host.path("sys/devices/pci0000:00/broken"),
      host.path("sys/class/mdev_bus/broken"),
    );
    const r = await host.run(["types"]);
    assertEquals(r.code, 0);
    assertEquals(r.stdout, "good\n  ok\n    Available instances: 3\n    Device API: vfio-pci\n");
    match(r.stderr, /WARN .*broken.*mdev_supported_types/);
    match(r.stderr, /WARN .*good\/mdev_supported_types\/bad.*invalid digit found in string/);
    match(r.stderr, /WARN .*good\/mdev_supported_types\/neg.*No such file or directory/);
  }));

/**
 * `types --vfio` and `list --vfio` (text and JSON) on vendor-VFIO GPUs served
 * by the fake NVIDIA kernel; the `creatable_vgpu_types` layouts; hostile and
 * unnamed values; and every 1.x listing byte-identical with and without such
 * GPUs present.
 */
import { deepEqual as assertEquals, ok } from "node:assert/strict";
import { FakeHost, type HostSpec } from "../helpers/fake_host.ts";
import { withKernel } from "../helpers/fake_nvidia.ts";
import { requiring } from "../helpers/requires.ts";
import { fakeKernelMissing } from "../helpers/fake_nvidia.ts";
import { G0, G1, gpus, kernelTest, vf } from "./vfio_setup.ts";

kernelTest(
  "types --vfio: each VF's creatable types now, shrinking as siblings take capacity",
  { vfioGpus: [{ pf: G0, current: { 1: 1412 } }] },
  { format: "header" },
  async (host) => {
    const r = await host.run(["types", "--vfio"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(
      r.stdout,
      `${G0} nvidia 0x10de:0x26b9 vfs=4/4
  ${vf(G0, 0)} vf=0 free
    1412 L40S-24Q (NVIDIA L40S-24Q)
  ${vf(G0, 1)} vf=1 L40S-24Q (id 1412, NVIDIA L40S-24Q)
    (none creatable)
  ${vf(G0, 2)} vf=2 free
    1412 L40S-24Q (NVIDIA L40S-24Q)
  ${vf(G0, 3)} vf=3 free
    1412 L40S-24Q (NVIDIA L40S-24Q)
`,
    );
    const j = await host.run(["types", "--vfio", "--dumpjson"]);
    assertEquals(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assertEquals(doc.length, 1);
    assertEquals(doc[0].pf, G0);
    assertEquals(doc[0].vfs[0].creatable, [
      { id: 1412, name: "NVIDIA L40S-24Q", short: "L40S-24Q" },
    ]);
    assertEquals(doc[0].vfs[1].creatable, []);
    // The kernel frees the capacity: every type is listed again.
    await Deno.writeTextFile(host.path(`${host.vfDir(G0, 1)}/nvidia/current_vgpu_type`), "0");
    const again = JSON.parse((await host.run(["types", "--vfio", "--dumpjson"])).stdout);
    assertEquals(
      again[0].vfs[0].creatable.map((t: { short: string }) => t.short),
      ["L40S-6Q", "L40S-12Q", "L40S-24Q", "L40S-48Q"],
    );
  },
);

kernelTest(
  "list --vfio: assigned, free, hostile and unnamed VFs, with their VFIO devices; -p filters",
  // 48Q takes the whole GPU 1: no VF lists it, so its name cannot be learnt from sysfs.
  { vfioGpus: [{ pf: G0, current: { 0: 1411 } }, { pf: G1, current: { 3: 1413 } }] },
  { hostile: { [vf(G0, 2)]: "x12" } },
  async (host) => {
    const r = await host.run(["list", "--vfio"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(
      r.stdout,
      `${G0} nvidia 0x10de:0x26b9 vfs=4/4
  ${vf(G0, 0)} vf=0 L40S-12Q (id 1411, NVIDIA L40S-12Q) vfio=vfio0 group=100
  ${vf(G0, 1)} vf=1 free vfio=vfio1 group=101
  ${vf(G0, 2)} vf=2 unknown current_vgpu_type="x12" vfio=vfio2 group=102
  ${vf(G0, 3)} vf=3 free vfio=vfio3 group=103
${G1} nvidia 0x10de:0x26b9 vfs=4/4
  ${vf(G1, 0)} vf=0 free vfio=vfio4 group=104
  ${vf(G1, 1)} vf=1 free vfio=vfio5 group=105
  ${vf(G1, 2)} vf=2 free vfio=vfio6 group=106
  ${vf(G1, 3)} vf=3 id 1413 (unknown name) vfio=vfio7 group=107
`,
    );
    const j = await host.run(["list", "--vfio", "--dumpjson", "-p", G1]);
    assertEquals(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assertEquals(doc.map((g: { pf: string }) => g.pf), [G1]);
    assertEquals(doc[0].vfs[3], {
      vf: vf(G1, 3),
      index: 3,
      state: "assigned",
      typeId: 1413,
      typeName: null,
      type: null,
      vfioDevice: "vfio7",
      iommuGroup: "107",
    });
    const hostile = JSON.parse((await host.run(["list", "--vfio", "--dumpjson", "-p", G0])).stdout);
    assertEquals(hostile[0].vfs[2].state, "unknown");
    assertEquals(hostile[0].vfs[2].typeId, null);
  },
);

for (const format of ["header", "odd", "blank"] as const) {
  kernelTest(
    `creatable_vgpu_types layout "${format}" reads as the plain one`,
    { vfioGpus: [{ pf: G0, current: { 2: 1411 } }] },
    { format },
    async (host) => {
      const r = await host.run(["types", "--vfio", "--dumpjson"]);
      assertEquals(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      for (const i of [0, 1, 3]) {
        assertEquals(doc[0].vfs[i].creatable, [
          { id: 1411, name: "NVIDIA L40S-12Q", short: "L40S-12Q" },
        ]);
      }
    },
  );
}

/** An mdev host (a T4 parent with a defined and a running device): the 1.x listings' input. */
const MDEV: HostSpec = {
  parents: [{
    name: "0000:3b:00.0",
    types: { "nvidia-222": { available: 15, name: "GRID T4-1Q\n" } },
  }],
  defined: [{
    parent: "0000:3b:00.0",
    uuid: "ce5e6e4d-2d74-5e66-8270-93e4b8657ce0",
    config: { mdev_type: "nvidia-222", start: "auto", attrs: [] },
  }],
};

Deno.test({
  ...requiring(
    "1.x listings are byte-identical with and without vendor-VFIO GPUs present",
    fakeKernelMissing(),
    async () => {
      const plain = await FakeHost.create(MDEV);
      await plain.addActive("13d239f7-94da-5e66-bf61-1f80948d75bc", "0000:3b:00.0", "nvidia-222");
      const commands = [
        ["list"],
        ["list", "-d"],
        ["list", "--dumpjson"],
        ["list", "-d", "--dumpjson"],
        ["list", "-v"],
        ["types"],
        ["types", "--dumpjson"],
        ["list", "-p", G0],
        ["types", "-p", G0],
      ];
      const before: string[] = [];
      try {
        for (const c of commands) before.push(JSON.stringify(await plain.run(c)));
      } finally {
        await plain.cleanup();
      }
      const host = await FakeHost.create({
        ...MDEV,
        vfioGpus: gpus([G0, G1], { current: { 0: 1411 } }),
      });
      await host.addActive("13d239f7-94da-5e66-bf61-1f80948d75bc", "0000:3b:00.0", "nvidia-222");
      await withKernel(host, {}, async (kernel) => {
        const after: string[] = [];
        for (const c of commands) after.push(JSON.stringify(await host.run(c)));
        assertEquals(after, before);
        ok(before[0]!.includes("13d239f7"), before[0]!);
        assertEquals(await kernel.writes(), []);
      });
    },
  ),
  sanitizeResources: false,
});

Deno.test("an Ampere-style GPU (VFs are mdev parents) is no vendor-VFIO GPU; neither is one not bound to nvidia", async () => {
  const host = await FakeHost.create({
    vfioGpus: [{ pf: G0, mdevVfs: true }, { pf: G1, driver: "vfio-pci" }],
  });
  try {
    for (const args of [["list", "--vfio"], ["types", "--vfio"]]) {
      const r = await host.run(args);
      assertEquals([r.code, r.stdout, r.stderr], [0, "", ""], args.join(" "));
    }
    const j = await host.run(["list", "--vfio", "--dumpjson"]);
    assertEquals(JSON.parse(j.stdout), []);
  } finally {
    await host.cleanup();
  }
});

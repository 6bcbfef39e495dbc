import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { Environment } from "../environment.ts";
import { assignVgpu, readVfioGpus, releaseVgpu } from "./gpus.ts";
import { nameTable, typeLabel } from "./names.ts";
import { listVfioText, typesVfioText, vfioJson } from "./listing.ts";
import { buildVfioTree, creatableText, vfFile } from "../../tests/helpers/vfio_unit_tree.ts";

const L12 = "NVIDIA L40S-12Q", L24 = "NVIDIA L40S-24Q";

function tree() {
  const root = Deno.makeTempDirSync({ prefix: "vfio-gpus-" });
  buildVfioTree(root, [
    {
      address: "0000:41:00.0",
      vfs: [
        { current: "1155\n", creatable: creatableText([[1155, L12]]) },
        { creatable: creatableText([[1155, L12], [1156, L24]]) },
        { current: "garbage\n", creatable: "" },
      ],
    },
    { address: "0000:42:00.0", vfs: [{ noNvidia: true }] },
    { address: "0000:43:00.0", vfs: [{ mdev: true }] }, // Ampere: mdev
    { address: "0000:44:00.0", driver: "vfio-pci", vfs: [] },
    { address: "0000:45:00.0", vendor: "0x8086", vfs: [] },
    { address: "0000:46:00.0", cls: "0x020000", vfs: [] },
    { address: "0000:47:00.0", vfs: [] }, // VFs not enabled
    { address: "0000:48:00.0", mdevParent: true, vfs: [] }, // an mdev parent itself
  ]);
  return { root, env: new Environment(root, { stderr: () => {} }) };
}

Deno.test("readVfioGpus: recognises NVIDIA SR-IOV GPUs on nvidia, skips the rest", () => {
  const { root, env } = tree();
  try {
    const gpus = readVfioGpus(env);
    assertEquals(gpus.map((g) => [g.address, g.numVfs, g.totalVfs, g.vfs.length, g.linkedVfs]), [
      ["0000:41:00.0", 3, 32, 3, 3],
      ["0000:42:00.0", 1, 32, 0, 1],
      ["0000:47:00.0", 0, 32, 0, 0],
    ]);
    const vfs = gpus[0]!.vfs;
    assertEquals(vfs.map((v) => [v.address, v.index, v.currentType]), [
      ["0000:41:00.4", 0, 1155],
      ["0000:41:00.5", 1, 0],
      ["0000:41:00.6", 2, null],
    ]);
    assertEquals(vfs[2]!.currentText, "garbage");
    assertEquals([vfs[0]!.vfioDevice, vfs[0]!.iommuGroup], ["vfio0", "100"]);
    assertEquals(readVfioGpus(env, "0000:47:00.0").length, 1);
    assertEquals(readVfioGpus(env, "0000:44:00.0").length, 0);
    assertEquals(readVfioGpus(env, "0000:99:00.0").length, 0);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("virtfnN links are ordered by N, not by name", () => {
  const root = Deno.makeTempDirSync({ prefix: "vfio-gpus-" });
  try {
    buildVfioTree(root, [{
      address: "0000:41:00.0",
      vfs: Array.from({ length: 12 }, () => ({ creatable: "" })),
    }]);
    const env = new Environment(root);
    assertEquals(readVfioGpus(env)[0]!.vfs.map((v) => v.index), [...Array(12).keys()]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("assignVgpu re-reads creatable, writes, reads back; releaseVgpu writes 0", () => {
  const { root, env } = tree();
  try {
    const vf = readVfioGpus(env)[0]!.vfs[1]!;
    assignVgpu(env, vf, 1156);
    assertEquals(
      Deno.readTextFileSync(vfFile(root, "0000:41:00.0", 1, "current_vgpu_type")),
      "1156\n",
    );
    releaseVgpu(env, vf);
    assertEquals(
      Deno.readTextFileSync(vfFile(root, "0000:41:00.0", 1, "current_vgpu_type")),
      "0\n",
    );
    // The list shrank since the snapshot: refused before any write.
    Deno.writeTextFileSync(
      vfFile(root, "0000:41:00.0", 1, "creatable_vgpu_types"),
      creatableText([[1155, L12]]),
    );
    assertThrows(() => assignVgpu(env, vf, 1156), /not creatable on VF 0000:41:00.5 now/);
    assertEquals(
      Deno.readTextFileSync(vfFile(root, "0000:41:00.0", 1, "current_vgpu_type")),
      "0\n",
    );
    // Taken by someone else meanwhile.
    const taken = readVfioGpus(env)[0]!.vfs[0]!;
    assertThrows(() => assignVgpu(env, { ...taken, currentType: 0 }, 1155), /no longer free/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("names: creatable lists, same model, remembered; unnamed said plainly", () => {
  const { root, env } = tree();
  try {
    const gpus = readVfioGpus(env);
    const t = nameTable(gpus[0]!, gpus, new Map([[9, "NVIDIA L40S-48Q"]]));
    assertEquals(typeLabel(t, 1156), "L40S-24Q (id 1156)");
    assertEquals(typeLabel(t, 9), "L40S-48Q (id 9)");
    assertEquals(typeLabel(t, 10), "unnamed (id 10)");
    const names = (g: typeof gpus[0]) => nameTable(g, gpus);
    const list = listVfioText(gpus.slice(0, 1), names);
    assertEquals(
      list,
      "0000:41:00.0 nvidia 0x10de:0x26b9 vfs=3/32\n" +
        "  0000:41:00.4 vf=0 L40S-12Q (id 1155, NVIDIA L40S-12Q) vfio=vfio0 group=100\n" +
        "  0000:41:00.5 vf=1 free vfio=vfio1 group=101\n" +
        '  0000:41:00.6 vf=2 unknown current_vgpu_type="garbage" vfio=vfio2 group=102\n',
    );
    const types = typesVfioText([gpus[0]!, gpus[2]!], names);
    assertEquals(
      types.split("\n").slice(0, 4),
      [
        "0000:41:00.0 nvidia 0x10de:0x26b9 vfs=3/32",
        "  0000:41:00.4 vf=0 L40S-12Q (id 1155, NVIDIA L40S-12Q)",
        "    1155 L40S-12Q (NVIDIA L40S-12Q)",
        "  0000:41:00.5 vf=1 free",
      ],
    );
    assertEquals(
      types.split("\n").at(-2),
      "0000:47:00.0 nvidia 0x10de:0x26b9 vfs=0/32 (VFs disabled: sriov-manage -e enables them)",
    );
    const json = JSON.parse(vfioJson(gpus.slice(0, 1), names, true));
    assertEquals(json[0].vfs[0].type, "L40S-12Q");
    assertEquals(json[0].vfs[2].state, "unknown");
    assertEquals(json[0].vfs[1].creatable.length, 2);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

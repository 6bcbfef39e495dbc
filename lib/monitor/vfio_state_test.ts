import { deepEqual as assertEquals, equal } from "node:assert/strict";
import { Environment } from "../environment.ts";
import { buildVfioTree, creatableText, vfFile } from "../../tests/helpers/vfio_unit_tree.ts";
import { cleanDirty, kernelDirty, readState, rescan } from "./snapshot.ts";
import { diffStates, emptyState, type MonitorEvent } from "./state.ts";
import { checkVfio } from "./vfio_readiness.ts";
import { diffVfio, readVfioState } from "./vfio_state.ts";

const PF = "0000:41:00.0";

Deno.test("diffVfio: assign, release, and a changed type as release then assign", () => {
  const s = (entries: [string, number, string?][]) => ({
    gpus: [PF],
    read: new Map(),
    vfs: new Map(entries.map(([vf, typeId, name]) => [vf, { pf: PF, typeId, name }])),
  });
  const events: MonitorEvent[] = [];
  diffVfio(
    s([["0000:41:00.4", 1155, "NVIDIA L40S-12Q"], ["0000:41:00.5", 1155]]),
    s([["0000:41:00.5", 1157], ["0000:41:00.6", 1156, "NVIDIA L40S-24Q"]]),
    "poll",
    events,
  );
  assertEquals(events.map((e) => `${e.event} ${e.vf} ${e.typeId} ${e.type}`), [
    "vgpu-released 0000:41:00.4 1155 L40S-12Q",
    "vgpu-released 0000:41:00.5 1155 null",
    "vgpu-assigned 0000:41:00.5 1157 null",
    "vgpu-assigned 0000:41:00.6 1156 L40S-24Q",
  ]);
});

Deno.test("readVfioState keeps a name seen earlier; checkVfio waits for every VF", () => {
  const root = Deno.makeTempDirSync({ prefix: "vfio-mon-" });
  try {
    const t = creatableText([[1155, "NVIDIA L40S-12Q"]]);
    buildVfioTree(root, [{
      address: PF,
      vfs: [{ creatable: t, current: "1155" }, { creatable: t }],
    }]);
    const env = new Environment(root, { stderr: () => {} });
    const first = readVfioState(env, undefined, true);
    assertEquals(first.vfs.get("0000:41:00.4")?.name, "NVIDIA L40S-12Q");
    // The list empties (capacity used): the name is remembered.
    Deno.writeTextFileSync(vfFile(root, PF, 0, "creatable_vgpu_types"), "");
    Deno.writeTextFileSync(vfFile(root, PF, 1, "creatable_vgpu_types"), "");
    const next = readVfioState(env, first, false);
    assertEquals(next.vfs.get("0000:41:00.4"), first.vfs.get("0000:41:00.4"));
    // A tick after a change reads that GPU in full; the name stays known.
    Deno.writeTextFileSync(vfFile(root, PF, 1, "current_vgpu_type"), "1155\n");
    const changed = readVfioState(env, next, false);
    assertEquals(changed.vfs.get("0000:41:00.5")?.name, "NVIDIA L40S-12Q");
    assertEquals(changed.read.get(PF)!.vfs.map((v) => v.address), [
      "0000:41:00.4",
      "0000:41:00.5",
    ]);
    Deno.writeTextFileSync(vfFile(root, PF, 1, "current_vgpu_type"), "0\n");
    assertEquals(readVfioState(env, changed, false).vfs.has("0000:41:00.5"), false);
    assertEquals(checkVfio(env, PF), null);
    assertEquals(checkVfio(env, undefined), null);
    Deno.removeSync(`${root}/sys/devices/pci0000:00/0000:41:00.5/nvidia`, { recursive: true });
    assertEquals(checkVfio(env, PF)?.top, `VF 1 of GPU ${PF} is not ready`);
    assertEquals(checkVfio(env, undefined)?.path.endsWith("/virtfn1/nvidia"), true);
    assertEquals(
      checkVfio(env, "0000:42:00.0")?.top.startsWith("Unable to find vendor-VFIO GPU"),
      true,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("readVfioState: a poll tick names an id from the GPUs it did not read again, as a full read does", () => {
  const root = Deno.makeTempDirSync({ prefix: "vfio-mon-" });
  try {
    const PF2 = "0000:42:00.0";
    const t = creatableText([[1411, "NVIDIA L40S-12Q"], [1413, "NVIDIA L40S-48Q"]]);
    buildVfioTree(root, [
      { address: PF, vfs: [{ creatable: t }, { creatable: t }] },
      { address: PF2, vfs: [{ creatable: t }, { creatable: t }] },
    ]);
    const env = new Environment(root, { stderr: () => {} });
    const first = readVfioState(env, undefined, true);
    // 1413 fills the first GPU: none of its lists names it any more; the other GPU's do.
    Deno.writeTextFileSync(vfFile(root, PF, 0, "current_vgpu_type"), "1413\n");
    Deno.writeTextFileSync(vfFile(root, PF, 0, "creatable_vgpu_types"), "");
    Deno.writeTextFileSync(vfFile(root, PF, 1, "creatable_vgpu_types"), "");
    const tick = readVfioState(env, first, false);
    assertEquals(tick.vfs.get("0000:41:00.4")?.name, "NVIDIA L40S-48Q");
    // Only the changed GPU was read again, and the result is what a full read gives.
    equal(tick.read.get(PF2), first.read.get(PF2));
    assertEquals(tick, readVfioState(env, undefined, true));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("rescan: a poll tick probes the GPUs known; the periodic kernel read finds new ones", () => {
  const root = Deno.makeTempDirSync({ prefix: "vfio-mon-" });
  try {
    const t = creatableText([[1155, "NVIDIA L40S-12Q"]]);
    buildVfioTree(root, [{ address: PF, vfs: [{ creatable: t }] }]);
    const env = new Environment(root, { stderr: () => {} });
    const first = readState(env, emptyState());
    // A GPU bound to nvidia later, its VF already assigned.
    buildVfioTree(root, [{ address: "0000:42:00.0", vfs: [{ creatable: t, current: "1155" }] }]);
    const tick = rescan(env, first, { ...cleanDirty(), active: true, parents: true });
    assertEquals(tick.vfio?.gpus, [PF]);
    const periodic = rescan(env, tick, kernelDirty());
    assertEquals(periodic.vfio?.gpus, [PF, "0000:42:00.0"]);
    const { events } = diffStates(tick, periodic, { config: "config", kernel: "udevadm" });
    assertEquals(events.map((e) => `${e.event} ${e.vf} ${e.typeId} ${e.type}`), [
      "vgpu-assigned 0000:42:00.4 1155 L40S-12Q",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

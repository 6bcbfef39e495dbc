/**
 * What `types --vfio` and `list --vfio` print (docs/vfio-vgpu.md
 * "Listings"), text and JSON. Pure. The 1.x listings never show these GPUs.
 */
import type { VfioGpu, VirtualFunction } from "./gpus.ts";
import { type NameTable, typeOf } from "./names.ts";

/** The GPU's heading line: address, driver, PCI ids and VFs enabled of the total. */
function gpuLine(gpu: VfioGpu): string {
  const disabled = gpu.numVfs === 0 ? " (VFs disabled: sriov-manage -e enables them)" : "";
  return `${gpu.address} ${gpu.driver} ${gpu.vendor}:${gpu.device} vfs=${gpu.numVfs}/${gpu.totalVfs}${disabled}`;
}

/** What a VF holds, as a listing word or phrase. */
function stateText(vf: VirtualFunction, names: NameTable): string {
  if (vf.currentType === null) {
    return `unknown current_vgpu_type=${JSON.stringify(vf.currentText ?? "")}`;
  }
  if (vf.currentType === 0) return "free";
  const t = typeOf(names, vf.currentType);
  return t === undefined
    ? `id ${vf.currentType} (unknown name)`
    : `${t.short} (id ${t.id}, ${t.name})`;
}

function vfHead(vf: VirtualFunction): string {
  return `  ${vf.address} vf=${vf.index}`;
}

function devices(vf: VirtualFunction): string {
  let s = "";
  if (vf.vfioDevice !== undefined) s += ` vfio=${vf.vfioDevice}`;
  if (vf.iommuGroup !== undefined) s += ` group=${vf.iommuGroup}`;
  return s;
}

/** `types --vfio`: each GPU, each VF with its state and the types creatable on it now. */
export function typesVfioText(gpus: readonly VfioGpu[], names: (g: VfioGpu) => NameTable): string {
  const lines: string[] = [];
  for (const gpu of gpus) {
    lines.push(gpuLine(gpu));
    const table = names(gpu);
    for (const vf of gpu.vfs) {
      lines.push(`${vfHead(vf)} ${stateText(vf, table)}`);
      if (vf.creatable.length === 0) lines.push("    (none creatable)");
      for (const t of vf.creatable) lines.push(`    ${t.id} ${t.short} (${t.name})`);
    }
  }
  return lines.map((l) => l + "\n").join("");
}

/** `list --vfio`: each GPU, each VF with what it holds and its VFIO device. */
export function listVfioText(gpus: readonly VfioGpu[], names: (g: VfioGpu) => NameTable): string {
  const lines: string[] = [];
  for (const gpu of gpus) {
    lines.push(gpuLine(gpu));
    const table = names(gpu);
    for (const vf of gpu.vfs) lines.push(`${vfHead(vf)} ${stateText(vf, table)}${devices(vf)}`);
  }
  return lines.map((l) => l + "\n").join("");
}

function vfJson(vf: VirtualFunction, names: NameTable, withCreatable: boolean) {
  const state = vf.currentType === null ? "unknown" : vf.currentType === 0 ? "free" : "assigned";
  const t = vf.currentType ? typeOf(names, vf.currentType) : undefined;
  const out: Record<string, unknown> = {
    vf: vf.address,
    index: vf.index,
    state,
    typeId: vf.currentType,
    typeName: t?.name ?? null,
    type: t?.short ?? null,
  };
  if (vf.currentType === null) out.raw = vf.currentText ?? "";
  out.vfioDevice = vf.vfioDevice ?? null;
  out.iommuGroup = vf.iommuGroup ?? null;
  if (withCreatable) out.creatable = vf.creatable.map((c) => ({ ...c }));
  return out;
}

/** The JSON of both listings: an array of GPUs; `types` adds each VF's creatable list. */
export function vfioJson(
  gpus: readonly VfioGpu[],
  names: (g: VfioGpu) => NameTable,
  withCreatable: boolean,
): string {
  const doc = gpus.map((gpu) => {
    const table = names(gpu);
    return {
      pf: gpu.address,
      vendor: gpu.vendor,
      device: gpu.device,
      driver: gpu.driver,
      totalVfs: gpu.totalVfs,
      numVfs: gpu.numVfs,
      vfs: gpu.vfs.map((vf) => vfJson(vf, table, withCreatable)),
    };
  });
  return JSON.stringify(doc, null, 2) + "\n";
}

/**
 * Naming type ids (docs/vfio-vgpu.md "Names"): sysfs names a type only
 * while it is creatable somewhere, so a type created on every VF that could
 * hold it has no name there. Names are gathered from every VF's creatable
 * list, first on the same GPU, then on GPUs of the same model, then from
 * what ledgers remember; an id none of them names stays unnamed, and
 * reports say so. Pure.
 */
import { shortName, type VgpuType } from "./creatable.ts";
import type { VfioGpu } from "./gpus.ts";

/** id -> full name. */
export type NameTable = ReadonlyMap<number, string>;

/** The names one GPU's VFs list now. */
function namesOn(gpu: VfioGpu): Map<number, string> {
  const out = new Map<number, string>();
  for (const vf of gpu.vfs) {
    for (const t of vf.creatable) if (!out.has(t.id)) out.set(t.id, t.name);
  }
  return out;
}

/**
 * The names known for a GPU's type ids: its own VFs first, then GPUs with
 * the same PCI device id (one model, one type table), then `remembered`
 * (names ledgers recorded when they assigned an id).
 */
export function nameTable(
  gpu: VfioGpu,
  all: readonly VfioGpu[],
  remembered: ReadonlyMap<number, string> = new Map(),
): NameTable {
  const out = namesOn(gpu);
  for (const other of all) {
    if (other.address === gpu.address || other.device !== gpu.device) continue;
    for (const [id, name] of namesOn(other)) if (!out.has(id)) out.set(id, name);
  }
  for (const [id, name] of remembered) if (!out.has(id)) out.set(id, name);
  return out;
}

/** The type an id names in a table, or undefined when nothing names it. */
export function typeOf(table: NameTable, id: number): VgpuType | undefined {
  const name = table.get(id);
  return name === undefined ? undefined : { id, name, short: shortName(name) };
}

/**
 * `L40S-12Q (id 1155)`, or `(id 1155)` alone when the id has no known
 * name, as diff lines and messages show a type.
 *
 * @example
 * ```ts
 * import { typeLabel } from "./names.ts";
 * console.assert(typeLabel(new Map([[1155, "NVIDIA L40S-12Q"]]), 1155) === "L40S-12Q (id 1155)");
 * console.assert(typeLabel(new Map(), 7) === "unnamed (id 7)");
 * ```
 */
export function typeLabel(table: NameTable, id: number): string {
  const t = typeOf(table, id);
  return `${t === undefined ? "unnamed" : t.short} (id ${id})`;
}

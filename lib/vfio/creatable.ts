/**
 * The text of a VF's `nvidia/creatable_vgpu_types` (docs/vfio-vgpu.md): one
 * `ID : Name` per line, perhaps after a header line. Tools in the wild
 * disagree on the exact form, so the parse keeps every line that is a
 * decimal id, a colon and a name, and skips the rest. Pure.
 */

/** A vGPU type as a VF offers it: the numeric id, the full name and its last word. */
export interface VgpuType {
  id: number;
  name: string;
  /** The last word of the name (`NVIDIA L40S-12Q` -> `L40S-12Q`), as configs write it. */
  short: string;
}

/** Largest id accepted: the kernel takes a decimal unsigned int. */
const MAX_ID = 0xffff_ffff;

/**
 * The short name of a type: the last whitespace-separated word of its name.
 *
 * @example
 * ```ts
 * import { shortName } from "./creatable.ts";
 * console.assert(shortName("NVIDIA L40S-12Q") === "L40S-12Q");
 * console.assert(shortName("  H200X-1-18C ") === "H200X-1-18C");
 * ```
 */
export function shortName(name: string): string {
  return name.trim().split(/\s+/).at(-1) ?? "";
}

/**
 * A decimal id as the kernel files write it, or null (signs, hex, blanks,
 * and numbers past an unsigned int are not ids).
 *
 * @example
 * ```ts
 * import { parseTypeId } from "./creatable.ts";
 * console.assert(parseTypeId(" 1414\n") === 1414);
 * console.assert(parseTypeId("0") === 0);
 * console.assert(parseTypeId("-1") === null && parseTypeId("0x10") === null);
 * ```
 */
export function parseTypeId(text: string): number | null {
  const t = text.trim();
  if (!/^[0-9]{1,10}$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_ID ? n : null;
}

/**
 * The types a `creatable_vgpu_types` text lists, in file order, each id once
 * (the first line for an id wins). Header, blank and malformed lines are
 * skipped.
 *
 * @example
 * ```ts
 * import { parseCreatable } from "./creatable.ts";
 * const t = parseCreatable("ID : vGPU Name\n1414 : NVIDIA H200X-1-18C\n\n 1415:NVIDIA H200X-2-35C \n");
 * console.assert(t.length === 2 && t[0]!.id === 1414 && t[1]!.short === "H200X-2-35C");
 * ```
 */
export function parseCreatable(text: string): VgpuType[] {
  const out: VgpuType[] = [];
  const seen = new Set<number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([0-9]+)\s*:\s*(\S(?:.*\S)?)\s*$/.exec(line);
    if (m === null) continue;
    const id = parseTypeId(m[1]!);
    if (id === null || id === 0 || seen.has(id)) continue;
    seen.add(id);
    const name = m[2]!.replace(/\s+/g, " ");
    out.push({ id, name, short: shortName(name) });
  }
  return out;
}

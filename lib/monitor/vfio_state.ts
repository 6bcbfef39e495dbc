/**
 * The vGPUs on vendor-VFIO VFs as the monitor follows them
 * (docs/vfio-vgpu.md "Monitor"): which VFs hold which type id, read when
 * parents are read (each poll tick, each full rescan), and the
 * `vgpu-assigned` / `vgpu-released` events between two readings.
 */
import type { Environment } from "../environment.ts";
import { compareBytes } from "../order.ts";
import { probeCurrentTypes, readVfioGpu, readVfioGpus, type VfioGpu } from "../vfio/gpus.ts";
import { nameTable } from "../vfio/names.ts";
import type { EventSource, MonitorEvent } from "./state.ts";

/** A VF that holds a vGPU. */
export interface VfState {
  pf: string;
  typeId: number;
  /** The full type name, when a list named it now or at an earlier reading. */
  name: string | undefined;
}

/** The VFs holding a vGPU, and the GPUs they were found on. */
export interface VfioState {
  gpus: string[];
  vfs: Map<string, VfState>;
  /** Each GPU's VFs at the last full read of it: index and address, for the cheap probe. */
  layout: Map<string, { index: number; address: string }[]>;
}

/**
 * Reads the assigned VFs. `full`: scan every PCI device for GPUs; else only
 * the GPUs of the last reading, each first probed cheaply (its VF count and
 * each VF's type) and read in full only when that differs (a poll tick stays
 * cheap; the periodic full rescan finds new GPUs). Names seen before are
 * kept for ids no list names now.
 */
export function readVfioState(
  env: Environment,
  known: VfioState | undefined,
  full: boolean,
): VfioState {
  let gpus: VfioGpu[];
  const unchanged: string[] = [];
  if (full || known === undefined) gpus = readVfioGpus(env);
  else {
    gpus = [];
    for (const pf of known.gpus) {
      if (probeUnchanged(env, known, pf)) unchanged.push(pf);
      else {
        const gpu = readVfioGpu(env, pf);
        if (gpu !== undefined) gpus.push(gpu);
      }
    }
  }
  const seen = new Map<number, string>();
  for (const s of known?.vfs.values() ?? []) if (s.name !== undefined) seen.set(s.typeId, s.name);
  const vfs = new Map<string, VfState>();
  const layout = new Map<string, { index: number; address: string }[]>();
  for (const pf of unchanged) {
    layout.set(pf, known!.layout.get(pf)!);
    for (const { address } of layout.get(pf)!) {
      const s = known!.vfs.get(address);
      if (s !== undefined) vfs.set(address, s);
    }
  }
  for (const gpu of gpus) {
    layout.set(gpu.address, gpu.vfs.map((vf) => ({ index: vf.index, address: vf.address })));
    const names = nameTable(gpu, gpus, seen);
    for (const vf of gpu.vfs) {
      if (vf.currentType === null || vf.currentType === 0) continue;
      const name = names.get(vf.currentType);
      const old = known?.vfs.get(vf.address);
      // Unchanged entries stay the same objects (the diff compares them cheaply).
      const same = old !== undefined && old.typeId === vf.currentType && old.name === name;
      vfs.set(vf.address, same ? old : { pf: gpu.address, typeId: vf.currentType, name });
    }
  }
  const order = [...unchanged, ...gpus.map((g) => g.address)].sort(compareBytes);
  return { gpus: order, vfs, layout };
}

/** True when a GPU has as many VFs as at its last full read, each with the type known. */
function probeUnchanged(env: Environment, known: VfioState, pf: string): boolean {
  const vfs = known.layout.get(pf);
  if (vfs === undefined) return false;
  const probe = probeCurrentTypes(env, pf, vfs.map((v) => v.index));
  if (probe.numVfs !== vfs.length) return false;
  return vfs.every(({ address }, i) => {
    const t = probe.types[i];
    return t !== undefined && t !== null && t === (known.vfs.get(address)?.typeId ?? 0);
  });
}

function shortOf(name: string | undefined): string | null {
  return name?.trim().split(/\s+/).at(-1) ?? null;
}

/** The events from one reading to the next: a changed type is a release, then an assign. */
export function diffVfio(
  before: VfioState | undefined,
  after: VfioState | undefined,
  source: EventSource,
  events: MonitorEvent[],
): void {
  const old = before?.vfs ?? new Map<string, VfState>();
  const now = after?.vfs ?? new Map<string, VfState>();
  const event = (kind: "vgpu-assigned" | "vgpu-released", vf: string, s: VfState) =>
    events.push({ event: kind, vf, pf: s.pf, typeId: s.typeId, type: shortOf(s.name), source });
  for (const vf of [...old.keys()].sort(compareBytes)) {
    const a = old.get(vf)!, b = now.get(vf);
    if (b === undefined || b.typeId !== a.typeId) event("vgpu-released", vf, a);
  }
  for (const vf of [...now.keys()].sort(compareBytes)) {
    const a = old.get(vf), b = now.get(vf)!;
    if (a === undefined || a.typeId !== b.typeId) event("vgpu-assigned", vf, b);
  }
}

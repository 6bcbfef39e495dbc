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
  /**
   * Each GPU as last read in full: its VFs, for the cheap probe, and its
   * creatable lists, which name ids for the other GPUs of its model.
   */
  read: Map<string, VfioGpu>;
}

/**
 * Reads the assigned VFs. `full`: scan every PCI device for GPUs; else only
 * the GPUs of the last reading, each first probed cheaply (its VF count and
 * each VF's type) and read in full only when that differs (a poll tick stays
 * cheap; a full rescan finds new GPUs). A GPU not read again keeps its last
 * reading, lists included: they change only with its own VFs, so ids are
 * named as a full read names them. Names seen before are kept for ids no
 * list names now.
 */
export function readVfioState(
  env: Environment,
  known: VfioState | undefined,
  full: boolean,
): VfioState {
  let fresh: VfioGpu[];
  const unchanged: VfioGpu[] = [];
  if (full || known === undefined) fresh = readVfioGpus(env);
  else {
    fresh = [];
    for (const pf of known.gpus) {
      const last = known.read.get(pf);
      if (last !== undefined && probeUnchanged(env, known, last)) unchanged.push(last);
      else {
        const gpu = readVfioGpu(env, pf);
        if (gpu !== undefined) fresh.push(gpu);
      }
    }
  }
  const seen = new Map<number, string>();
  for (const s of known?.vfs.values() ?? []) if (s.name !== undefined) seen.set(s.typeId, s.name);
  const vfs = new Map<string, VfState>();
  const read = new Map<string, VfioGpu>();
  for (const gpu of unchanged) {
    read.set(gpu.address, gpu);
    for (const { address } of gpu.vfs) {
      const s = known!.vfs.get(address);
      if (s !== undefined) vfs.set(address, s);
    }
  }
  const all = [...unchanged, ...fresh].sort((a, b) => compareBytes(a.address, b.address));
  for (const gpu of fresh) {
    read.set(gpu.address, gpu);
    const names = nameTable(gpu, all, seen);
    for (const vf of gpu.vfs) {
      if (vf.currentType === null || vf.currentType === 0) continue;
      const name = names.get(vf.currentType);
      const old = known?.vfs.get(vf.address);
      // Unchanged entries stay the same objects (the diff compares them cheaply).
      const same = old !== undefined && old.typeId === vf.currentType && old.name === name;
      vfs.set(vf.address, same ? old : { pf: gpu.address, typeId: vf.currentType, name });
    }
  }
  return { gpus: all.map((g) => g.address), vfs, read };
}

/** True when a GPU has as many VFs as at its last full read, each with the type known. */
function probeUnchanged(env: Environment, known: VfioState, last: VfioGpu): boolean {
  const probe = probeCurrentTypes(env, last.address, last.vfs.map((v) => v.index));
  if (probe.numVfs !== last.vfs.length) return false;
  return last.vfs.every(({ address }, i) => {
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

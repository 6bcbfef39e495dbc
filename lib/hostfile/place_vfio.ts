/**
 * Placing one VFIO pool (docs/vfio-vgpu.md "Placement"): a pool whose
 * parents are vendor-VFIO GPUs puts one vGPU on each of `count` (or
 * `perParent`) VFs. Sticky: an owned VF that holds the pool's type keeps
 * it; one emptied by a reboot gets it back; new vGPUs go to the
 * lowest-index free VF whose creatable list names the type now. Pure.
 */
import { MdevError } from "../errors.ts";
import { compareBytes } from "../order.ts";
import type { VfioGpu, VirtualFunction } from "../vfio/gpus.ts";
import type { NameTable } from "../vfio/names.ts";
import type { Unmatched } from "./changes.ts";
import type { VfEntry } from "./ledger.ts";
import type { ParentSelector, PoolSpec, TypeSelector } from "./schema.ts";
import { selectorText } from "./schema.ts";
import { parentMatches } from "./selectors.ts";
import type { ParentInfo } from "./snapshot.ts";

/** A GPU as the VFIO planner reads it. */
export interface GpuView {
  gpu: VfioGpu;
  names: NameTable;
  /** VFs enabled and every one showing its `nvidia/` directory. */
  ready: boolean;
}

/** A VF the pool wants, and what getting it there takes. */
export interface VfWant {
  vf: VirtualFunction;
  typeId: number;
  slot: number;
  /** keep: holds it; assign: free now; reassign: holds another type (changed by hand). */
  kind: "keep" | "assign" | "reassign";
}

export interface VfioPoolContext {
  /** Every GPU of the host, in parent order. */
  gpus: readonly GpuView[];
  /** The owner's VFs. */
  own: ReadonlyMap<string, VfEntry>;
  /** VFs another owner holds, or an earlier pool of this plan took. */
  reserved(vf: string): boolean;
}

export interface VfioPoolResult {
  wants: VfWant[];
  /** Owned VFs kept in the ledger without a change (GPU absent or not ready, unmatched pool). */
  retained: string[];
  wanted: number;
  /** Wanted VFs and retained ones. */
  placed: number;
  unmatched?: Unmatched;
  /** The type labels it resolved to, for a shortfall line. */
  types: string[];
}

/** A GPU as a parent selector sees it (names, driver, pciVendor, pciDevice). */
export function gpuAsParent(gpu: VfioGpu): ParentInfo {
  return {
    name: gpu.address,
    driver: gpu.driver,
    vendor: gpu.vendor,
    device: gpu.device,
    physfn: undefined,
    onBus: true,
    types: new Map(),
  };
}

/** True when a pool's selector picks this GPU. */
export function selectsGpu(sel: ParentSelector, gpu: VfioGpu): boolean {
  return parentMatches(sel, gpuAsParent(gpu));
}

/**
 * The type id a selector names on a GPU, `null` when none: an id that a
 * list or ledger names or a VF holds; a full name; a short name. Two ids
 * for one name are an error naming where the selector was written.
 */
export function resolveVfioType(sel: TypeSelector, view: GpuView, where: string): number | null {
  if (sel.kind === "id") {
    if (!/^[0-9]+$/.test(sel.value)) return null;
    const id = Number(sel.value);
    const held = view.gpu.vfs.some((vf) => vf.currentType === id);
    return view.names.has(id) || held ? id : null;
  }
  const hits: number[] = [];
  for (const [id, name] of view.names) {
    const short = name.trim().split(/\s+/).at(-1);
    const ok = sel.kind === "name"
      ? name === sel.value || name === sel.value.replaceAll("_", " ")
      : short === sel.value;
    if (ok) hits.push(id);
  }
  if (hits.length > 1) {
    throw new MdevError(
      `${where}: type selector ${selectorText(sel)} is ambiguous on ${view.gpu.address}: ids ${
        hits.sort((a, b) => a - b).join(", ")
      }`,
    );
  }
  return hits[0] ?? null;
}

function someNames(views: readonly GpuView[]): string {
  const names = views.slice(0, 3).map((v) => v.gpu.address).join(", ");
  return views.length > 3 ? `${names} and ${views.length - 3} more` : names;
}

/** Plans one VFIO pool against the host and what earlier pools took. */
export function planVfioPool(pool: PoolSpec, ctx: VfioPoolContext): VfioPoolResult {
  const selected = ctx.gpus.filter((v) => selectsGpu(pool.parents, v.gpu));
  const ready = selected.filter((v) => v.ready);
  const typeOn = new Map<string, number>();
  for (const v of ready) {
    const id = resolveVfioType(pool.type, v, pool.typeWhere);
    if (id !== null) typeOn.set(v.gpu.address, id);
  }
  const owned = [...ctx.own].filter(([, e]) => e.origin.pool === pool.name)
    .sort(([a], [b]) => compareBytes(a, b));
  if (ready.length > 0 && typeOn.size === 0) {
    return {
      wants: [],
      retained: owned.map(([vf]) => vf),
      wanted: 0,
      placed: 0,
      unmatched: {
        pool: pool.name,
        reason: `type ${selectorText(pool.type)} is not offered by ${someNames(ready)}`,
      },
      types: [],
    };
  }
  const byPf = new Map(ctx.gpus.map((v) => [v.gpu.address, v]));
  const retained: string[] = [];
  const kept: VfWant[] = [];
  for (const [address, e] of owned) {
    const view = byPf.get(e.pf);
    if (view === undefined || !view.ready) {
      retained.push(address);
      continue;
    }
    const want = stickyWant(view, typeOn.get(e.pf), address, e);
    if (want !== undefined) kept.push(want);
  }
  const candidates = ctx.gpus.filter((v) => typeOn.has(v.gpu.address));
  const placing = new VfPlacement(ctx, typeOn, kept);
  // Owned vGPUs on GPUs not ready now count towards `count` (they come back).
  const wanted = pool.perParent !== undefined
    ? placing.perParent(candidates, pool.perParent)
    : placing.count(
      candidates,
      Math.max(0, pool.count! - retained.length),
      pool.placement === "pack",
    ) +
      Math.min(retained.length, pool.count!);
  const labels = new Set<string>();
  for (const v of candidates) {
    const id = typeOn.get(v.gpu.address)!;
    const name = v.names.get(id);
    labels.add(name === undefined ? `id ${id}` : name.trim().split(/\s+/).at(-1)!);
  }
  return {
    wants: placing.wants,
    retained,
    wanted,
    placed: placing.wants.length + retained.length,
    types: [...labels].sort(compareBytes),
  };
}

/**
 * What an owned VF on a ready GPU becomes for its pool: kept as it is,
 * given its type back (emptied by a reboot), set back (changed by hand), or
 * nothing (the pool now wants another type there, or the VF is gone). A VF
 * whose state cannot be read is left to the caller (never written).
 */
function stickyWant(
  view: GpuView,
  type: number | undefined,
  address: string,
  e: VfEntry,
): VfWant | undefined {
  const vf = view.gpu.vfs.find((v) => v.address === address);
  if (vf === undefined || type === undefined || vf.currentType === null) return undefined;
  const base = { vf, typeId: type, slot: e.origin.slot };
  if (vf.currentType === type) return { ...base, kind: "keep" };
  if (e.typeId !== type) return undefined; // the file changed the type: released as surplus
  if (vf.currentType === 0) {
    return vf.creatable.some((t) => t.id === type) ? { ...base, kind: "assign" } : undefined;
  }
  return { ...base, kind: "reassign" };
}

/** The VFs a pool keeps and adds, as placement trims and fills them. */
class VfPlacement {
  constructor(
    private readonly ctx: VfioPoolContext,
    private readonly typeOn: ReadonlyMap<string, number>,
    public wants: VfWant[],
  ) {}

  on(pf: string): VfWant[] {
    return this.wants.filter((w) => w.vf.pf === pf);
  }

  /** Free VFs of a GPU that list the pool's type now, lowest index first. */
  free(view: GpuView): VirtualFunction[] {
    const type = this.typeOn.get(view.gpu.address)!;
    const used = new Set(this.wants.map((w) => w.vf.address));
    return view.gpu.vfs.filter((vf) =>
      vf.currentType === 0 && !used.has(vf.address) && !this.ctx.own.has(vf.address) &&
      !this.ctx.reserved(vf.address) && vf.creatable.some((t) => t.id === type)
    );
  }

  /** Adds a vGPU on the GPU's lowest free VF, in its lowest free slot; false when none. */
  place(view: GpuView): boolean {
    const vf = this.free(view)[0];
    if (vf === undefined) return false;
    const slots = new Set(this.on(view.gpu.address).map((w) => w.slot));
    let slot = 0;
    while (slots.has(slot)) slot++;
    this.wants.push({ vf, typeId: this.typeOn.get(view.gpu.address)!, slot, kind: "assign" });
    return true;
  }

  perParent(candidates: readonly GpuView[], n: number | "max"): number {
    let wanted = 0;
    const onCandidate = new Set(candidates.map((v) => v.gpu.address));
    this.wants = this.wants.filter((w) => onCandidate.has(w.vf.pf));
    for (const view of candidates) {
      const pf = view.gpu.address;
      const want = n === "max" ? this.on(pf).length + this.free(view).length : n;
      wanted += want;
      this.wants = this.wants.filter((w) => w.vf.pf !== pf || w.slot < want);
      while (this.on(pf).length < want && this.place(view));
    }
    return wanted;
  }

  count(candidates: readonly GpuView[], n: number, pack: boolean): number {
    const onCandidate = new Set(candidates.map((v) => v.gpu.address));
    this.wants = this.wants.filter((w) => onCandidate.has(w.vf.pf));
    const order = candidates.map((v) => v.gpu.address);
    while (this.wants.length > n) {
      const from = order.filter((pf) => this.on(pf).length > 0);
      let victim = from.at(-1)!;
      if (!pack) {
        for (const pf of from) if (this.on(pf).length >= this.on(victim).length) victim = pf;
      }
      const top = this.on(victim).reduce((a, b) => (b.slot > a.slot ? b : a));
      this.wants = this.wants.filter((w) => w !== top);
    }
    while (this.wants.length < n) {
      const open = candidates.filter((v) => this.free(v).length > 0);
      if (open.length === 0) break;
      let target = open[0]!;
      if (!pack) {
        for (const v of open) {
          if (this.on(v.gpu.address).length < this.on(target.gpu.address).length) target = v;
        }
      }
      this.place(target);
    }
    return n;
  }
}

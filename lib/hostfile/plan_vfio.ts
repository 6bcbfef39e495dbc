/**
 * The VFIO part of a plan (docs/vfio-vgpu.md): which pools are VFIO pools,
 * their placements, and the assign, reassign and release changes, surplus,
 * not-ready GPUs and the owner's VFs afterwards. Pure, like plan.ts, which
 * merges the result into the plan.
 */
import { MdevError } from "../errors.ts";
import { compareParents, sortByParent } from "../parent_order.ts";
import { type VfioGpu, vfsReady, type VirtualFunction } from "../vfio/gpus.ts";
import type { NameTable } from "../vfio/names.ts";
import { nameTable } from "../vfio/names.ts";
import type {
  Change,
  NotReady,
  Plan,
  PlanOptions,
  Surplus,
  Unmatched,
  VfTarget,
} from "./changes.ts";
import { type Ledger, ledgerVfs, rememberedNames, type VfEntry } from "./ledger.ts";
import { type GpuView, planVfioPool, selectsGpu, type VfWant } from "./place_vfio.ts";
import type { HostFile, PoolSpec } from "./schema.ts";
import { parentMatches } from "./selectors.ts";
import type { ParentInfo } from "./snapshot.ts";

export interface VfioPlan {
  /** Names of the file's VFIO pools (plan.ts leaves them out of mdev placement). */
  pools: Set<string>;
  changes: Change[];
  surplus: Surplus[];
  /** Unmatched VFIO pools, by pool name. */
  unmatched: Map<string, Unmatched>;
  notReady: NotReady[];
  vfsDisabled: string[];
  /** The owner's VFs once every change has succeeded. */
  vfsAfter: Map<string, VfEntry>;
}

/**
 * The pools whose parents are vendor-VFIO GPUs. A pool that selects GPUs
 * and mdev parents at once is an error: its instances would be of two kinds.
 */
export function vfioPools(
  file: HostFile,
  mdevParents: readonly ParentInfo[],
  gpus: readonly VfioGpu[],
): PoolSpec[] {
  const out: PoolSpec[] = [];
  for (const pool of file.pools) {
    const g = gpus.filter((gpu) => selectsGpu(pool.parents, gpu));
    if (g.length === 0) continue;
    const m = mdevParents.filter((p) => parentMatches(pool.parents, p));
    if (m.length > 0) {
      throw new MdevError(
        `${pool.where}: pool ${pool.name} selects both mdev parents and vendor-VFIO GPUs (${
          m[0]!.name
        }, ${g[0]!.address}); narrow its parents`,
      );
    }
    out.push(pool);
  }
  return out;
}

function label(names: NameTable, id: number): string {
  const name = names.get(id);
  return name === undefined ? "unnamed" : name.trim().split(/\s+/).at(-1)!;
}

/** The target of a change on a VF: its type, named when anything names it. */
function target(vf: { address: string; pf: string }, names: NameTable, id: number): VfTarget {
  return { vf: vf.address, pf: vf.pf, typeId: id, typeName: names.get(id) };
}

/** The VFIO changes of a plan; `prune` releases owned VFs nobody wants. */
export function planVfio(
  file: HostFile,
  gpus: readonly VfioGpu[],
  mdevParents: readonly ParentInfo[],
  ledgers: ReadonlyMap<string, Ledger>,
  own: Ledger,
  opts: PlanOptions,
): VfioPlan {
  const pools = vfioPools(file, mdevParents, gpus);
  const ownVfs = ledgerVfs(own);
  const views: GpuView[] = [...gpus].sort((a, b) => compareParents(a.address, b.address)).map((
    gpu,
  ) => ({
    gpu,
    names: nameTable(gpu, gpus, rememberedNames(ledgers, gpu.address)),
    ready: vfsReady(gpu),
  }));
  const foreign = new Set<string>();
  for (const [name, l] of ledgers) {
    if (name !== own.owner) { for (const vf of ledgerVfs(l).keys()) foreign.add(vf); }
  }
  const first = placeVfio(pools, views, ownVfs, foreign, opts);
  // An owned VF that reads 0 and that no pool takes back is forgotten; the
  // next plan would see it free and place on it. So it is free in this one
  // (planned again without it), and a second apply finds nothing to do.
  const forgotten = [...ownVfs].filter(([vf, e]) => {
    const view = views.find((v) => v.gpu.address === e.pf);
    return view?.ready === true && !first.vfsAfter.has(vf) &&
      view.gpu.vfs.find((v) => v.address === vf)?.currentType === 0;
  });
  if (forgotten.length === 0) return first;
  const rest = new Map(ownVfs);
  for (const [vf] of forgotten) rest.delete(vf);
  return placeVfio(pools, views, rest, foreign, opts);
}

/** Places every VFIO pool in file order on the GPUs, given the owner's VFs. */
function placeVfio(
  pools: readonly PoolSpec[],
  views: readonly GpuView[],
  ownVfs: ReadonlyMap<string, VfEntry>,
  foreign: ReadonlySet<string>,
  opts: PlanOptions,
): VfioPlan {
  const viewOf = new Map(views.map((v) => [v.gpu.address, v]));
  const taken = new Set(foreign);
  const out: VfioPlan = {
    pools: new Set(pools.map((p) => p.name)),
    changes: [],
    surplus: [],
    unmatched: new Map(),
    notReady: [],
    vfsDisabled: [],
    vfsAfter: new Map(),
  };
  const kept = new Set<string>();
  for (const pool of pools) {
    const r = planVfioPool(pool, { gpus: views, own: ownVfs, reserved: (vf) => taken.has(vf) });
    for (const vf of r.retained) {
      out.vfsAfter.set(vf, ownVfs.get(vf)!);
      kept.add(vf);
    }
    if (r.unmatched !== undefined) out.unmatched.set(pool.name, r.unmatched);
    if (r.placed < r.wanted) {
      out.changes.push({
        action: "shortfall",
        parent: "",
        uuid: "",
        type: r.types.join(","),
        origin: { pool: pool.name, slot: 0 },
        externalChange: false,
        pool: pool.name,
        wanted: r.wanted,
        placed: r.placed,
      });
    }
    for (const w of r.wants) {
      taken.add(w.vf.address);
      kept.add(w.vf.address);
      wantChange(w, pool.name, viewOf.get(w.vf.pf)!.names, ownVfs.get(w.vf.address), out);
    }
  }
  unwanted(ownVfs, kept, viewOf, opts, out);
  gpuReadiness(pools, views, ownVfs, out);
  return out;
}

/** The change (if any) and ledger entry of a VF a pool wants. */
function wantChange(
  w: VfWant,
  pool: string,
  names: NameTable,
  before: VfEntry | undefined,
  out: VfioPlan,
): void {
  const origin = { pool, slot: w.slot };
  out.vfsAfter.set(w.vf.address, {
    pf: w.vf.pf,
    typeId: w.typeId,
    typeName: names.get(w.typeId) ?? (before?.typeId === w.typeId ? before.typeName : undefined),
    origin,
  });
  if (w.kind === "keep") return;
  const t = target(w.vf, names, w.typeId);
  const base = { parent: w.vf.pf, uuid: w.vf.address, type: label(names, w.typeId), origin };
  if (w.kind === "assign") {
    out.changes.push({ action: "assign", ...base, externalChange: before !== undefined, vfio: t });
    return;
  }
  const from = w.vf.currentType!;
  out.changes.push({
    action: "reassign",
    ...base,
    externalChange: true,
    vfio: { ...t, from: { typeId: from, typeName: names.get(from) } },
  });
}

/**
 * Owned VFs no pool wants: released with `--prune`, else surplus. One that
 * reads empty is just forgotten; one whose state cannot be read is kept
 * and reported, never written.
 */
function unwanted(
  ownVfs: ReadonlyMap<string, VfEntry>,
  kept: ReadonlySet<string>,
  viewOf: ReadonlyMap<string, GpuView>,
  opts: PlanOptions,
  out: VfioPlan,
): void {
  for (const [address, e] of ownVfs) {
    if (kept.has(address)) continue;
    const view = viewOf.get(e.pf);
    if (view === undefined || !view.ready) {
      out.vfsAfter.set(address, e); // its GPU may come back
      continue;
    }
    const vf: VirtualFunction | undefined = view.gpu.vfs.find((v) => v.address === address);
    if (vf === undefined || vf.currentType === 0) continue;
    const base = { parent: e.pf, uuid: address, origin: e.origin };
    if (vf.currentType === null) {
      out.vfsAfter.set(address, e);
      out.changes.push({
        action: "conflict",
        ...base,
        type: label(view.names, e.typeId),
        externalChange: true,
        reason: `current_vgpu_type reads ${JSON.stringify(vf.currentText ?? "")}, not a type id`,
        vfio: target(vf, view.names, e.typeId),
      });
      continue;
    }
    const t = target(vf, view.names, vf.currentType);
    const type = label(view.names, vf.currentType);
    if (!opts.prune) {
      out.vfsAfter.set(address, e);
      out.surplus.push({ ...base, type, vfio: t });
    } else {
      out.changes.push({ action: "release", ...base, type, externalChange: false, vfio: t });
    }
  }
}

/** GPUs that concern the file and are not ready: VFs disabled, or still appearing. */
function gpuReadiness(
  pools: readonly PoolSpec[],
  views: readonly GpuView[],
  ownVfs: ReadonlyMap<string, VfEntry>,
  out: VfioPlan,
): void {
  for (const v of views) {
    if (v.ready) continue;
    const pf = v.gpu.address;
    let kept = 0;
    for (const e of ownVfs.values()) if (e.pf === pf) kept++;
    if (kept === 0 && !pools.some((p) => selectsGpu(p.parents, v.gpu))) continue;
    if (v.gpu.numVfs === 0) out.vfsDisabled.push(pf);
    else out.notReady.push({ parent: pf, reason: "vfs-pending", kept });
  }
}

/**
 * The plan with its VFIO part merged in: changes, surplus and not-ready
 * GPUs join the mdev ones (sorted again), unmatched VFIO pools take their
 * place in file order among the pools, the VFs join the ledger.
 */
export function mergeVfio(
  file: HostFile,
  vfio: VfioPlan,
  own: Ledger,
  plan: Omit<Plan, "vfsDisabled" | "vfio">,
): Plan {
  const surplus = [...plan.surplus, ...vfio.surplus];
  sortByParent(surplus);
  const notReady = [...plan.notReady, ...vfio.notReady]
    .sort((a, b) => compareParents(a.parent, b.parent));
  let unmatched = plan.unmatched;
  if (vfio.unmatched.size > 0) {
    const mdevPools = new Map<string, Unmatched>();
    const rest: Unmatched[] = [];
    for (const u of plan.unmatched) {
      if ("pool" in u) mdevPools.set(u.pool, u);
      else rest.push(u);
    }
    const pools = file.pools.map((p) => vfio.unmatched.get(p.name) ?? mdevPools.get(p.name));
    unmatched = [...pools.filter((u): u is Unmatched => u !== undefined), ...rest];
  }
  return {
    ...plan,
    changes: [...plan.changes, ...vfio.changes],
    surplus,
    notReady,
    unmatched,
    vfsDisabled: vfio.vfsDisabled,
    vfio: vfio.pools.size > 0 || ledgerVfs(own).size > 0,
    ledgerAfter: { ...plan.ledgerAfter, vfs: vfio.vfsAfter },
  };
}

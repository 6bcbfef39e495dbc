/**
 * Placing one pool (hostfile.md §6 "Pools"): its candidates, the instances
 * it keeps, the ones it adds and what stays unsatisfied. Pure: the caller
 * gives the host as read and what earlier pools claimed, and records this
 * pool's result before planning the next one.
 */
import type { Ledger } from "./ledger.ts";
import type { Unmatched } from "./changes.ts";
import type { PoolSpec } from "./schema.ts";
import { selectorText } from "./schema.ts";
import { parentMatches, resolveType, suggestType } from "./selectors.ts";
import type { Definition, ParentInfo, Snapshot } from "./snapshot.ts";
import { poolInstanceName, uuid5 } from "./uuid5.ts";

/** One instance of a pool: kept, or new in this plan. */
export interface Instance {
  uuid: string;
  parent: string;
  type: string;
  slot: number;
  isNew: boolean;
}

/** The host and what earlier steps of the plan decided, as a pool sees them. */
export interface PoolContext {
  owner: string;
  namespace: string;
  snap: Snapshot;
  own: Ledger;
  /** Registered parents in §3 order. */
  parents: readonly ParentInfo[];
  /** Registered parents that are ready (§5). */
  isReady(parent: string): boolean;
  defsOn(parent: string): readonly Definition[];
  foreignOwner(uuid: string): string | undefined;
  /** uuid -> type of everything defined, running or placed so far on a parent. */
  typesOn(parent: string): [string, string][];
  /** Instances earlier pools hold on (parent, type) that are not running. */
  plannedNew(parent: string, type: string): number;
  /** The exclusive pool that claimed a parent, if any. */
  claimedBy(parent: string): { pool: string; type: string } | undefined;
}

/** What planning a pool decided. */
export interface PoolResult {
  /** Instances the pool wants: kept and new. */
  kept: Instance[];
  /** Managed instances that must survive although not wanted (unmatched pool). */
  retained: string[];
  wanted: number;
  unmatched?: Unmatched;
  /** The type ids it resolved to, for the shortfall line. */
  types: string[];
}

interface Candidate {
  p: ParentInfo;
  type: string;
}

/** Plans one pool against the host and the plan so far. */
export function planPool(pool: PoolSpec, ctx: PoolContext): PoolResult {
  const selected = ctx.parents.filter((p) => parentMatches(pool.parents, p));
  const ready = selected.filter((p) => ctx.isReady(p.name));
  const resolved: Candidate[] = [];
  for (const p of ready) {
    const type = resolveType(pool.type, p, pool.typeWhere);
    if (type !== null) resolved.push({ p, type });
  }
  const instances = poolInstances(pool, ctx, resolved);
  const unmatched = unmatchedPool(pool, selected, ready, resolved);
  if (unmatched !== undefined) {
    // A typo or a host that does not look as expected yet: keep what the pool
    // has, never read it as "no longer wanted".
    const retained = instances.filter((i) => ctx.own.devices.has(i.uuid)).map((i) => i.uuid);
    return { kept: [], retained, wanted: 0, unmatched, types: [] };
  }
  const known = new Set(instances.map((i) => i.uuid));
  const candidates = resolved.filter(({ p, type }) => {
    const claim = ctx.claimedBy(p.name);
    if (!pool.exclusive) return claim === undefined || claim.type === type;
    // Exclusive: no other type on the parent (this pool's instances aside).
    return claim === undefined &&
      !ctx.typesOn(p.name).some(([u, t]) => t !== type && !known.has(u));
  });
  const typeOn = new Map(candidates.map(({ p, type }) => [p.name, type]));
  // Kept: on a candidate with its type, or on a parent that is absent or not
  // ready (§5), whatever its type there.
  const kept = instances.filter((i) =>
    typeOn.get(i.parent) === i.type || !ctx.snap.parents.has(i.parent) || !ctx.isReady(i.parent)
  );
  const placement = new Placement(pool, ctx, typeOn, kept);
  const wanted = pool.perParent !== undefined
    ? placement.perParent(candidates.map((c) => c.p.name), pool.perParent)
    : placement.count(candidates.map((c) => c.p.name), pool.count!);
  return {
    kept: placement.kept,
    retained: [],
    wanted,
    types: [...new Set(candidates.map((c) => c.type))],
  };
}

/** Instances of the pool now: managed ones, and derivable definitions (§5). */
function poolInstances(pool: PoolSpec, ctx: PoolContext, resolved: Candidate[]): Instance[] {
  const instances: Instance[] = [];
  const known = new Set<string>();
  for (const [uuid, e] of ctx.own.devices) {
    if ("pool" in e.origin && e.origin.pool === pool.name) {
      instances.push({ uuid, parent: e.parent, type: e.type, slot: e.origin.slot, isNew: false });
      known.add(uuid);
    }
  }
  for (const { p, type } of resolved) {
    const loose = ctx.defsOn(p.name).filter((d) =>
      d.config.type === type && !known.has(d.uuid) && ctx.foreignOwner(d.uuid) === undefined
    );
    if (loose.length === 0) continue;
    // Slots a current rule can give on this parent: a definition derived for
    // a higher one is left unmanaged (never pruned), the safe side.
    const bound = typeof pool.perParent === "number"
      ? pool.perParent
      : pool.count ?? Math.max(0, (p.types.get(type)?.available ?? 0) + loose.length);
    const bySlot = new Map<string, number>();
    for (let s = 0; s < bound; s++) bySlot.set(deriveUuid(ctx, pool, p.name, type, s), s);
    for (const d of loose) {
      const slot = bySlot.get(d.uuid);
      if (slot === undefined) continue;
      instances.push({ uuid: d.uuid, parent: p.name, type, slot, isNew: false });
      known.add(d.uuid);
    }
  }
  return instances;
}

function deriveUuid(
  ctx: PoolContext,
  pool: PoolSpec,
  parent: string,
  type: string,
  slot: number,
): string {
  return uuid5(ctx.namespace, poolInstanceName(ctx.owner, pool.name, parent, type, slot));
}

/** Names at most a few parents: a fleet host has dozens. */
function someNames(parents: readonly ParentInfo[]): string {
  const names = parents.slice(0, 3).map((p) => p.name).join(", ");
  return parents.length > 3 ? `${names} and ${parents.length - 3} more` : names;
}

/** §3 "Unmatched": the selector picks no parent, or no ready parent it picks offers the type. */
function unmatchedPool(
  pool: PoolSpec,
  selected: readonly ParentInfo[],
  ready: readonly ParentInfo[],
  resolved: readonly Candidate[],
): Unmatched | undefined {
  if (selected.length === 0) return { pool: pool.name, reason: "no parent matches" };
  if (ready.length === 0 || resolved.length > 0) return undefined;
  const reason = `type ${selectorText(pool.type)} is not offered by ${someNames(ready)}`;
  const suggestion = suggestType(pool.type, ready);
  return suggestion === undefined
    ? { pool: pool.name, reason }
    : { pool: pool.name, reason, suggestion };
}

/** The instances a pool keeps, as placement adds and removes them (§6 steps 3–5). */
class Placement {
  constructor(
    private readonly pool: PoolSpec,
    private readonly ctx: PoolContext,
    private readonly typeOn: ReadonlyMap<string, string>,
    public kept: Instance[],
  ) {}

  /** P's total room on a parent: available, plus its own running instances, minus earlier pools'. */
  cap(parent: string): number {
    const type = this.typeOn.get(parent)!;
    const available = this.ctx.snap.parents.get(parent)!.types.get(type)?.available ?? 0;
    const running = this.kept.filter((i) => {
      const a = this.ctx.snap.active.get(i.uuid);
      return i.parent === parent && a !== undefined && a.parent === parent && a.type === type;
    }).length;
    return available + running - this.ctx.plannedNew(parent, type);
  }

  onParent(parent: string): Instance[] {
    return this.kept.filter((i) => i.parent === parent);
  }

  /** Adds an instance on the parent's lowest free slot. */
  place(parent: string): void {
    const type = this.typeOn.get(parent)!;
    const used = new Set(this.onParent(parent).map((i) => i.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const uuid = deriveUuid(this.ctx, this.pool, parent, type, slot);
    this.kept.push({ uuid, parent, type, slot, isNew: true });
  }

  /** `perParent: N | "max"`: slots 0..N-1 on each candidate; returns how many are wanted. */
  perParent(order: readonly string[], n: number | "max"): number {
    let wanted = 0;
    for (const parent of order) {
      const c = this.cap(parent);
      const want = n === "max" ? Math.max(0, c) : n;
      wanted += want;
      this.kept = this.kept.filter((i) => i.parent !== parent || i.slot < want);
      let room = c - this.onParent(parent).length;
      while (this.onParent(parent).length < want && room > 0) {
        this.place(parent);
        room--;
      }
    }
    return wanted;
  }

  /** `count: N` with spread or pack; returns N. */
  count(order: readonly string[], n: number): number {
    const pack = this.pool.placement === "pack";
    while (this.kept.length > n) {
      const from = order.filter((p) => this.onParent(p).length > 0);
      if (from.length === 0) break; // only instances on absent or not-ready parents left
      let victim = from.at(-1)!;
      if (!pack) {
        victim = from[0]!;
        for (const p of from) {
          if (this.onParent(p).length >= this.onParent(victim).length) victim = p;
        }
      }
      const top = this.onParent(victim).reduce((a, b) => (b.slot > a.slot ? b : a));
      this.kept = this.kept.filter((i) => i !== top);
    }
    const caps = new Map(order.map((p) => [p, this.cap(p)]));
    const free = (p: string) => caps.get(p)! - this.onParent(p).length;
    while (this.kept.length < n) {
      const open = order.filter((p) => free(p) > 0);
      if (open.length === 0) break;
      let target = open[0]!;
      if (!pack) {
        for (const p of open) {
          if (this.onParent(p).length < this.onParent(target).length) target = p;
        }
      }
      this.place(target);
    }
    return n;
  }
}

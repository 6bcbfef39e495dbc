/**
 * The host as a plan reads it (hostfile.md §5, §6): the snapshot's
 * definitions grouped once, the parents in §3 order, which of them are not
 * ready, and who owns what. Pure.
 */
import { compareParents } from "../parent_order.ts";
import type { NotReady } from "./changes.ts";
import type { Ledger } from "./ledger.ts";
import { parentReadiness } from "./readiness.ts";
import type { Definition, ParentInfo, Snapshot } from "./snapshot.ts";

/** Items grouped by a key, in their order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * The host as a plan reads it: lookups built once.
 *
 * @example
 * ```ts
 * import { HostView } from "./host_view.ts";
 * import { activeFromMap } from "./snapshot.ts";
 * const snap = { parents: new Map(), definitions: [], active: activeFromMap(new Map()), gpus: [] };
 * const own = { owner: "o", devices: new Map() };
 * const host = new HostView(snap as never, own, new Map([["o", own]]), new Set());
 * console.assert(!host.isReady("0000:00:02.0"));
 * ```
 */
export class HostView {
  readonly defsByUuid: Map<string, Definition[]>;
  readonly defsByParent: Map<string, Definition[]>;
  readonly parents: ParentInfo[];
  /** Not-ready registered parents and why. */
  readonly notReady = new Map<string, NotReady["reason"]>();

  constructor(
    readonly snap: Snapshot,
    readonly own: Ledger,
    private readonly ledgers: ReadonlyMap<string, Ledger>,
    /** Pools plan_vfio.ts places (on vendor-VFIO GPUs). */
    readonly vfioPools: ReadonlySet<string>,
  ) {
    this.defsByUuid = groupBy(snap.definitions, (d) => d.uuid);
    this.defsByParent = groupBy(snap.definitions, (d) => d.parent);
    this.parents = [...snap.parents.values()].sort((a, b) => compareParents(a.name, b.name));
    // What a parent holds: managed devices defined or running on it. A
    // ledger entry with neither (its definition undefined by hand) holds
    // nothing there, so undefining the devices of a type a driver dropped
    // for good makes the parent ready again (docs/hostfile.md).
    const held = groupBy(
      [...own.devices].filter(([uuid, e]) =>
        (this.defsByUuid.get(uuid) ?? []).some((d) => d.parent === e.parent) ||
        snap.active.get(uuid)?.parent === e.parent
      ).map(([, e]) => e),
      (e) => e.parent,
    );
    for (const p of this.parents) {
      const reason = parentReadiness(p, (held.get(p.name) ?? []).map((e) => e.type));
      if (reason !== null) this.notReady.set(p.name, reason);
    }
  }

  present(parent: string): boolean {
    return this.snap.parents.has(parent);
  }

  /** Registered and ready: the only parents whose devices prune may touch. */
  isReady(parent: string): boolean {
    return this.present(parent) && !this.notReady.has(parent);
  }

  foreignOwner(uuid: string): string | undefined {
    for (const [name, l] of this.ledgers) {
      if (name !== this.own.owner && l.devices.has(uuid)) return name;
    }
    return undefined;
  }
}

/**
 * Planning (hostfile.md §3, §5, §6): a pure function of the host file, the
 * host snapshot and the ledgers. It decides every change apply makes and
 * diff reports; nothing here reads or writes the system.
 */
import type { Attr, MdevConfig } from "../config.ts";
import { serializeConfig } from "../config.ts";
import { MdevError } from "../errors.ts";
import { compareBytes } from "../order.ts";
import type { Ledger, LedgerEntry, Origin } from "./ledger.ts";
import { sha256 } from "./ledger.ts";
import type { HostFile, ParentSelector, PoolSpec, TypeSelector } from "./schema.ts";
import { selectorText } from "./schema.ts";
import type { Definition, ParentInfo, Snapshot } from "./snapshot.ts";
import { poolInstanceName, uuid5 } from "./uuid5.ts";

/** Every action, in phase order (§6 table, §8 counts). */
export const ACTIONS = [
  "stop",
  "undefine",
  "modify",
  "define",
  "adopt",
  "start",
  "conflict",
  "restart-required",
  "shortfall",
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions apply executes (those up to `start`); the others are only reported. */
export const EXECUTED: ReadonlySet<Action> = new Set(
  ACTIONS.slice(0, ACTIONS.indexOf("start") + 1),
);

/** Execution phase of an action: define and adopt share one (§7 "Order"). */
export function phaseOf(action: Action): number {
  const i = ACTIONS.indexOf(action);
  return i >= ACTIONS.indexOf("adopt") ? i - 1 : i;
}

export interface FieldChange<T> {
  before: T;
  after: T;
}

export interface Change {
  action: Action;
  /** Empty for a shortfall. */
  parent: string;
  uuid: string;
  type: string;
  origin: Origin;
  /** The definition differs from what apply last wrote (§5 "Drift"). */
  externalChange: boolean;
  /** modify: what differs. */
  fields?: {
    type?: FieldChange<string>;
    start?: FieldChange<string>;
    attrs?: FieldChange<Attr[]>;
  };
  /** define, adopt, modify, start: the wanted config. */
  config?: MdevConfig;
  /** The existing config file (modify, undefine). */
  configPath?: string | undefined;
  /** undefine: the config being removed (what its callouts are told). */
  current?: MdevConfig;
  /** conflict, restart-required. */
  reason?: string;
  /** shortfall. */
  pool?: string;
  wanted?: number;
  placed?: number;
}

export interface Plan {
  owner: string;
  changes: Change[];
  /** Definitions of nobody, left alone (§5), sorted. */
  unmanaged: { parent: string; uuid: string; type: string }[];
  /** The owner's ledger before the plan. */
  ledgerBefore: Ledger;
  /** The owner's ledger once every change has succeeded. */
  ledgerAfter: Ledger;
  warnings: string[];
}

export interface PlanOptions {
  prune: boolean;
  start: boolean;
}

const PCI = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/**
 * Parent order (§3): PCI addresses numerically, separators ignored (all
 * fields are fixed-width hex, so that is their lower-case text order), then
 * every other name by UTF-8 bytes.
 */
export function compareParents(a: string, b: string): number {
  return compareKeyed(parentKey(a), a, parentKey(b), b);
}

/** The numeric sort key of a PCI address (fixed-width hex, separators dropped), else null. */
function parentKey(name: string): string | null {
  return PCI.test(name) ? name.toLowerCase().replace(/[:.]/g, "") : null;
}

function compareKeyed(ka: string | null, a: string, kb: string | null, b: string): number {
  if (a === b) return 0;
  if (ka !== null && kb !== null) return ka < kb ? -1 : ka > kb ? 1 : compareBytes(a, b);
  if ((ka === null) !== (kb === null)) return ka !== null ? -1 : 1;
  return compareBytes(a, b);
}

/** Sorts by parent (§3) then uuid, computing each parent's key once (large hosts). */
function sortByParent<T extends { parent: string; uuid: string }>(items: T[]): void {
  const keys = new Map<string, string | null>();
  const key = (p: string) => {
    let k = keys.get(p);
    if (k === undefined) keys.set(p, k = parentKey(p));
    return k;
  };
  items.sort((x, y) =>
    compareKeyed(key(x.parent), x.parent, key(y.parent), y.parent) || compareBytes(x.uuid, y.uuid)
  );
}

/** A glob (`*`, `?`, `[...]`, `[!...]`) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

function normalizeHex(id: string): string {
  return id.toLowerCase().replace(/^0x/, "").padStart(4, "0");
}

/** True when the parent passes every given selector key (§2 `parents`). */
export function parentMatches(sel: ParentSelector, p: ParentInfo): boolean {
  if (sel.names && !sel.names.some((g) => globToRegExp(g).test(p.name))) return false;
  if (sel.driver && (p.driver === undefined || !sel.driver.includes(p.driver))) return false;
  const hexIn = (list: string[], v: string | undefined) =>
    v !== undefined && /^(0x)?[0-9a-f]{1,4}$/i.test(v) &&
    list.some((x) => normalizeHex(x) === normalizeHex(v));
  if (sel.pciVendor && !hexIn(sel.pciVendor, p.vendor)) return false;
  if (sel.pciDevice && !hexIn(sel.pciDevice, p.device)) return false;
  if (sel.physfn && (p.physfn === undefined || !sel.physfn.includes(p.physfn))) return false;
  return true;
}

/**
 * The type id a selector picks on a parent (§3), `null` when none; two
 * matches are an error naming where the selector was written.
 */
export function resolveType(
  sel: TypeSelector,
  p: ParentInfo,
  where: string,
): string | null {
  if (sel.kind === "id") return p.types.has(sel.value) ? sel.value : null;
  const matches: string[] = [];
  for (const [id, info] of p.types) {
    if (info.name === undefined) continue;
    const name = info.name.trim();
    const ok = sel.kind === "name"
      ? name === sel.value || name === sel.value.replaceAll("_", " ")
      : name.split(/\s+/).at(-1) === sel.value;
    if (ok) matches.push(id);
  }
  if (matches.length > 1) {
    throw new MdevError(
      `${where}: type selector ${selectorText(sel)} is ambiguous on ${p.name}: ${
        matches.sort(compareBytes).join(", ")
      }`,
    );
  }
  return matches[0] ?? null;
}

interface Want {
  uuid: string;
  parent: string;
  type: string;
  config: MdevConfig;
  origin: Origin;
  /** For clash messages. */
  describe: string;
  where: string;
}

interface Instance {
  uuid: string;
  parent: string;
  type: string;
  slot: number;
  isNew: boolean;
}

function startText(autostart: boolean): string {
  return autostart ? "auto" : "manual";
}

/** The plan (§6). Throws (exit 1) on host-dependent file errors such as ambiguity. */
export function makePlan(
  file: HostFile,
  snap: Snapshot,
  ledgers: ReadonlyMap<string, Ledger>,
  opts: PlanOptions,
): Plan {
  const owner = file.owner;
  const own: Ledger = ledgers.get(owner) ?? { owner, devices: new Map() };
  const foreignOwner = (uuid: string): string | undefined => {
    for (const [name, l] of ledgers) if (name !== owner && l.devices.has(uuid)) return name;
    return undefined;
  };
  const defsByUuid = new Map<string, Definition[]>();
  const defsByParent = new Map<string, Definition[]>();
  for (const d of snap.definitions) {
    (defsByUuid.get(d.uuid) ?? defsByUuid.set(d.uuid, []).get(d.uuid)!).push(d);
    (defsByParent.get(d.parent) ?? defsByParent.set(d.parent, []).get(d.parent)!).push(d);
  }
  const parents = [...snap.parents.values()].sort((a, b) => compareParents(a.name, b.name));
  const present = (p: string) => snap.parents.has(p);

  const wants = new Map<string, Want>();
  const addWant = (w: Want) => {
    const earlier = wants.get(w.uuid);
    if (earlier) {
      throw new MdevError(
        `${w.where}: uuid ${w.uuid} of ${w.describe} is also the uuid of ${earlier.describe} (${earlier.where})`,
      );
    }
    wants.set(w.uuid, w);
  };
  // Types this plan puts on each parent (explicit devices, earlier pools),
  // for `exclusive`; what is there already is looked up when needed.
  const placedTypes = new Map<string, [uuid: string, type: string][]>();
  const noteType = (parent: string, type: string, uuid: string) => {
    (placedTypes.get(parent) ?? placedTypes.set(parent, []).get(parent)!).push([uuid, type]);
  };
  /** uuid -> type of everything defined, running or placed on a parent. */
  const typesOn = (parent: string): [string, string][] => [
    ...(defsByParent.get(parent) ?? []).map((d): [string, string] => [d.uuid, d.config.type]),
    ...snap.active.onParent(parent),
    ...(placedTypes.get(parent) ?? []),
  ];

  for (const dev of file.devices) {
    addWant({
      uuid: dev.uuid,
      parent: dev.parent,
      type: dev.type,
      config: { type: dev.type, autostart: dev.autostart, attrs: dev.attrs },
      origin: { device: dev.id ?? dev.uuid },
      describe: dev.id === undefined ? `device ${dev.uuid}` : `device id ${dev.id}`,
      where: dev.where,
    });
    noteType(dev.parent, dev.type, dev.uuid);
  }

  const changes: Change[] = [];
  const plannedNew = new Map<string, number>(); // parent \0 type -> new instances
  const claimed = new Map<string, { pool: string; type: string }>(); // exclusive pools

  for (const pool of file.pools) {
    planPool(pool);
  }

  function planPool(pool: PoolSpec): void {
    // 1. Candidates: selector, then the type resolved on each parent.
    let candidates: { p: ParentInfo; type: string }[] = [];
    for (const p of parents) {
      if (!parentMatches(pool.parents, p)) continue;
      const type = resolveType(pool.type, p, pool.typeWhere);
      if (type !== null) candidates.push({ p, type });
    }
    // 2. Instances of this pool now: managed ones, and derivable definitions.
    const instances: Instance[] = [];
    const known = new Set<string>();
    for (const [uuid, e] of own.devices) {
      if ("pool" in e.origin && e.origin.pool === pool.name) {
        instances.push({ uuid, parent: e.parent, type: e.type, slot: e.origin.slot, isNew: false });
        known.add(uuid);
      }
    }
    const derive = (parent: string, type: string, slot: number) =>
      uuid5(file.namespace, poolInstanceName(owner, pool.name, parent, type, slot));
    for (const { p, type } of candidates) {
      const loose = (defsByParent.get(p.name) ?? []).filter((d) =>
        d.config.type === type && !known.has(d.uuid) && foreignOwner(d.uuid) === undefined
      );
      if (loose.length === 0) continue;
      // Slots a current rule can give on this parent: a definition derived
      // for a higher one is left unmanaged (never pruned), the safe side.
      const bound = typeof pool.perParent === "number"
        ? pool.perParent
        : pool.count ?? Math.max(0, (p.types.get(type)?.available ?? 0) + loose.length);
      const bySlot = new Map<string, number>();
      for (let s = 0; s < bound; s++) bySlot.set(derive(p.name, type, s), s);
      for (const d of loose) {
        const slot = bySlot.get(d.uuid);
        if (slot === undefined) continue;
        instances.push({ uuid: d.uuid, parent: p.name, type, slot, isNew: false });
        known.add(d.uuid);
      }
    }
    // Exclusive: only parents carrying no other type and not claimed by
    // another exclusive pool. This pool's own instances do not count.
    const otherTypes = (parent: string, type: string) =>
      typesOn(parent).some(([u, t]) => t !== type && !known.has(u));
    candidates = candidates.filter(({ p, type }) => {
      const claim = claimed.get(p.name);
      if (pool.exclusive) return claim === undefined && !otherTypes(p.name, type);
      return claim === undefined || claim.type === type;
    });
    const typeOn = new Map(candidates.map(({ p, type }) => [p.name, type]));
    // 3. Kept: on a candidate with its type, or on an absent parent (§5).
    let kept = instances.filter((i) => typeOn.get(i.parent) === i.type || !present(i.parent));
    const cap = (parent: string): number => {
      const type = typeOn.get(parent)!;
      const available = snap.parents.get(parent)!.types.get(type)?.available ?? 0;
      const running = kept.filter((i) => {
        const a = snap.active.get(i.uuid);
        return i.parent === parent && a !== undefined && a.parent === parent && a.type === type;
      }).length;
      return available + running - (plannedNew.get(`${parent}\0${type}`) ?? 0);
    };
    const onParent = (parent: string) => kept.filter((i) => i.parent === parent);
    const lowestFreeSlot = (parent: string) => {
      const used = new Set(onParent(parent).map((i) => i.slot));
      let s = 0;
      while (used.has(s)) s++;
      return s;
    };
    const place = (parent: string) => {
      const type = typeOn.get(parent)!;
      const slot = lowestFreeSlot(parent);
      kept.push({ uuid: derive(parent, type, slot), parent, type, slot, isNew: true });
    };
    let wanted: number;
    if (pool.perParent !== undefined) {
      wanted = 0;
      for (const { p } of candidates) {
        const c = cap(p.name);
        const n = pool.perParent === "max" ? Math.max(0, c) : pool.perParent;
        wanted += n;
        kept = kept.filter((i) => i.parent !== p.name || i.slot < n);
        let room = c - onParent(p.name).length;
        while (onParent(p.name).length < n && room > 0) {
          place(p.name);
          room--;
        }
      }
    } else {
      wanted = pool.count!;
      const order = candidates.map(({ p }) => p.name);
      const removable = () => order.filter((p) => onParent(p).length > 0);
      while (kept.length > wanted) {
        const from = removable();
        if (from.length === 0) break; // only instances on absent parents left
        let victim: string;
        if (pool.placement === "pack") victim = from.at(-1)!;
        else {
          victim = from[0]!;
          for (const p of from) if (onParent(p).length >= onParent(victim).length) victim = p;
        }
        const top = onParent(victim).reduce((a, b) => (b.slot > a.slot ? b : a));
        kept = kept.filter((i) => i !== top);
      }
      const caps = new Map(order.map((p) => [p, cap(p)]));
      const free = (p: string) => caps.get(p)! - onParent(p).length;
      while (kept.length < wanted) {
        const open = order.filter((p) => free(p) > 0);
        if (open.length === 0) break;
        let target = open[0]!;
        if (pool.placement === "spread") {
          for (const p of open) if (onParent(p).length < onParent(target).length) target = p;
        }
        place(target);
      }
    }
    const placedCount = kept.length;
    if (placedCount < wanted) {
      const types = [...new Set(candidates.map((c) => c.type))];
      changes.push({
        action: "shortfall",
        parent: "",
        uuid: "",
        type: types.length > 0 ? types.join(",") : selectorText(pool.type),
        origin: { pool: pool.name, slot: 0 },
        externalChange: false,
        pool: pool.name,
        wanted,
        placed: placedCount,
      });
    }
    for (const i of kept) {
      addWant({
        uuid: i.uuid,
        parent: i.parent,
        type: i.type,
        config: { type: i.type, autostart: pool.autostart, attrs: pool.attrs },
        origin: { pool: pool.name, slot: i.slot },
        describe: `pool ${pool.name} (${i.parent} slot ${i.slot})`,
        where: pool.where,
      });
      noteType(i.parent, i.type, i.uuid);
      if (i.isNew) {
        const key = `${i.parent}\0${i.type}`;
        plannedNew.set(key, (plannedNew.get(key) ?? 0) + 1);
      }
      if (pool.exclusive && present(i.parent)) {
        claimed.set(i.parent, { pool: pool.name, type: i.type });
      }
    }
  }

  // Actions for the wanted devices (§6 table).
  const after = new Map<string, LedgerEntry>(own.devices);
  const handled = new Set<string>();
  const adoptedHere = new Set<string>();
  for (const w of wants.values()) {
    handled.add(w.uuid);
    const base = { parent: w.parent, uuid: w.uuid, type: w.type, origin: w.origin };
    const conflict = (reason: string) =>
      changes.push({ action: "conflict", ...base, externalChange: false, reason });
    const foreign = foreignOwner(w.uuid);
    if (foreign !== undefined) {
      conflict(`managed by host file owner ${foreign}`);
      continue;
    }
    const defs = defsByUuid.get(w.uuid) ?? [];
    const elsewhere = defs.find((d) => d.parent !== w.parent);
    if (elsewhere) {
      conflict(`defined under parent ${elsewhere.parent}`);
      continue;
    }
    const running = snap.active.get(w.uuid);
    if (running && running.parent !== w.parent) {
      conflict(`running under parent ${running.parent}`);
      continue;
    }
    const managed = own.devices.get(w.uuid);
    const def = defs[0];
    const wantedBytes = serializeConfig(w.config);
    if (def !== undefined && managed === undefined && def.config.type !== w.type) {
      conflict(`unmanaged definition of type ${def.config.type}`);
      continue;
    }
    after.set(w.uuid, {
      parent: w.parent,
      type: w.type,
      origin: w.origin,
      sha256: sha256(wantedBytes),
    });
    if (def === undefined) {
      changes.push({
        action: "define",
        ...base,
        externalChange: managed !== undefined,
        config: w.config,
      });
    } else {
      const currentBytes = serializeConfig(def.config);
      if (currentBytes === wantedBytes) {
        if (managed === undefined) {
          changes.push({ action: "adopt", ...base, externalChange: false, config: w.config });
          adoptedHere.add(w.uuid);
        }
      } else {
        const fields: NonNullable<Change["fields"]> = {};
        if (def.config.type !== w.type) fields.type = { before: def.config.type, after: w.type };
        if (def.config.autostart !== w.config.autostart) {
          fields.start = {
            before: startText(def.config.autostart),
            after: startText(w.config.autostart),
          };
        }
        if (JSON.stringify(def.config.attrs) !== JSON.stringify(w.config.attrs)) {
          fields.attrs = { before: def.config.attrs, after: w.config.attrs };
        }
        changes.push({
          action: "modify",
          ...base,
          externalChange: managed !== undefined && managed.sha256 !== sha256(currentBytes),
          fields,
          config: w.config,
          configPath: def.configPath,
        });
        if (managed === undefined) adoptedHere.add(w.uuid);
      }
    }
    if (running && running.type !== w.type) {
      changes.push({
        action: "restart-required",
        ...base,
        externalChange: false,
        reason: `running as type ${running.type}`,
      });
    }
    const typeThere = snap.parents.get(w.parent)?.types.has(w.type) ?? false;
    if (opts.start && w.config.autostart && running === undefined && typeThere) {
      changes.push({ action: "start", ...base, externalChange: false, config: w.config });
    }
  }

  // Managed devices the file no longer wants (§5 prune rules).
  for (const [uuid, e] of own.devices) {
    if (handled.has(uuid)) continue;
    if (!present(e.parent)) continue; // retained: its parent may register later
    const def = (defsByUuid.get(uuid) ?? []).find((d) => d.parent === e.parent);
    const running = snap.active.get(uuid);
    const base = { parent: e.parent, uuid, origin: e.origin, externalChange: false };
    if (opts.prune && opts.start && running && running.parent === e.parent) {
      changes.push({ action: "stop", ...base, type: running.type });
    }
    if (opts.prune) {
      if (def !== undefined) {
        changes.push({
          action: "undefine",
          ...base,
          type: def.config.type,
          configPath: def.configPath,
          current: def.config,
        });
      }
      after.delete(uuid);
    }
  }

  const unmanaged: Plan["unmanaged"] = [];
  for (const d of snap.definitions) {
    if (own.devices.has(d.uuid) || adoptedHere.has(d.uuid)) continue;
    if (foreignOwner(d.uuid) !== undefined) continue;
    unmanaged.push({ parent: d.parent, uuid: d.uuid, type: d.config.type });
  }
  sortByParent(unmanaged);

  changes.sort((a, b) =>
    phaseOf(a.action) - phaseOf(b.action) || compareParents(a.parent, b.parent) ||
    compareBytes(a.uuid, b.uuid)
  );
  return {
    owner,
    changes,
    unmanaged,
    ledgerBefore: own,
    ledgerAfter: { owner, devices: after },
    warnings: [...file.warnings],
  };
}

/** Changes apply would execute (conflicts, shortfalls and restarts excluded). */
export function executable(plan: Plan): Change[] {
  return plan.changes.filter((c) => EXECUTED.has(c.action));
}

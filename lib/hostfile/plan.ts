/**
 * Planning (hostfile.md §3, §5, §6): a pure function of the host file, the
 * host snapshot and the ledgers. It decides every change apply makes and
 * diff reports, and what stays unsatisfied; nothing here reads or writes
 * the system.
 */
import { type MdevConfig, serializeConfig } from "../config.ts";
import { MdevError } from "../errors.ts";
import { compareBytes } from "../order.ts";
import { compareParents, sortByParent } from "../parent_order.ts";
import type { Change, NotReady, Plan, PlanOptions, Surplus, Unmatched } from "./changes.ts";
import { phaseOf } from "./changes.ts";
import { HostView } from "./host_view.ts";
import { type Ledger, type LedgerEntry, type Origin, sha256 } from "./ledger.ts";
import { planPool, type PoolContext, type PoolResult } from "./place_pool.ts";
import { mergeVfio, planVfio } from "./plan_vfio.ts";
import { type HostFile, type PoolSpec, selectorText } from "./schema.ts";
import { parentMatches } from "./selectors.ts";
import { heldChange, unmatchedDevice } from "./explicit_devices.ts";
import type { Definition, Snapshot } from "./snapshot.ts";

/** A device the file wants, as the plan compares it with the host. */
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

/** What the plan works out before it compares wants with the host. */
interface Decisions {
  wants: Map<string, Want>;
  /** Managed uuids kept although not wanted (unmatched pools and devices). */
  retained: Set<string>;
  changes: Change[];
  unmatched: Unmatched[];
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
  const vfio = planVfio(file, snap.gpus ?? [], [...snap.parents.values()], ledgers, own, opts);
  const host = new HostView(snap, own, ledgers, vfio.pools);
  const decided = file.pools.some((p) => p.exclusive)
    ? decideExclusive(file, host, opts)
    : decideWants(file, host, NOTHING_CHANGES);
  const after = new Map<string, LedgerEntry>(own.devices);
  const adoptedHere = new Set<string>();
  for (const w of decided.wants.values()) {
    wantChanges(w, host, opts, decided.changes, after, adoptedHere);
  }
  const surplus = unwantedChanges(host, decided, opts, after);
  const plan = mergeVfio(file, vfio, own, {
    owner,
    changes: decided.changes,
    surplus,
    notReady: notReadyReport(file, host),
    unmatched: decided.unmatched,
    unmanaged: unmanagedDefinitions(host, adoptedHere),
    ledgerBefore: own,
    ledgerAfter: { owner, devices: after },
    warnings: [...file.warnings],
  });
  plan.changes.sort((a, b) =>
    phaseOf(a.action) - phaseOf(b.action) || compareParents(a.parent, b.parent) ||
    compareBytes(a.uuid, b.uuid)
  );
  return plan;
}

/** Managed devices a --prune plan removes: neither wanted nor retained, on a ready parent. */
function pruned(host: HostView, decided: Decisions, opts: PlanOptions): Set<string> {
  const out = new Set<string>();
  for (const [uuid, e] of host.own.devices) {
    if (decided.wants.has(uuid) || decided.retained.has(uuid) || !host.isReady(e.parent)) continue;
    const running = host.snap.active.get(uuid);
    // A running device stays unless --start stops it.
    if (running === undefined || opts.start) out.add(uuid);
  }
  return out;
}

/**
 * What a plan does to the definitions already there, as exclusive pools
 * must see it: the devices it removes (`--prune`) and the new type of those
 * it modifies (a type changed by hand that the plan reverts, an explicit
 * device given a new type).
 */
interface Outlook {
  leaving: ReadonlySet<string>;
  retyped: ReadonlyMap<string, string>;
}

const NOTHING_CHANGES: Outlook = { leaving: new Set(), retyped: new Map() };

/** The outlook a decision implies. */
function outlookOf(host: HostView, decided: Decisions, opts: PlanOptions): Outlook {
  const retyped = new Map<string, string>();
  for (const w of decided.wants.values()) {
    const def = host.defsByUuid.get(w.uuid)?.find((d) => d.parent === w.parent);
    if (def !== undefined && def.config.type !== w.type) retyped.set(w.uuid, w.type);
  }
  return { leaving: opts.prune ? pruned(host, decided, opts) : new Set(), retyped };
}

function sameOutlook(a: Outlook, b: Outlook): boolean {
  return a.leaving.size === b.leaving.size && [...a.leaving].every((u) => b.leaving.has(u)) &&
    a.retyped.size === b.retyped.size && [...a.retyped].every(([u, t]) => b.retyped.get(u) === t);
}

/**
 * With exclusive pools, the wanted state depends on the types the plan
 * leaves on each parent: removals (`--prune`) and modifications run before
 * anything is defined, so an exclusive pool must see the parent as they
 * leave it, or the next apply would place what this one refused (not
 * idempotent). Pools are planned again with the outlook of the last
 * decision until it no longer changes (a few rounds at most).
 */
function decideExclusive(file: HostFile, host: HostView, opts: PlanOptions): Decisions {
  let outlook = NOTHING_CHANGES;
  let decided = decideWants(file, host, outlook);
  for (let round = 0; round < 4; round++) {
    const next = outlookOf(host, decided, opts);
    if (sameOutlook(next, outlook)) break;
    outlook = next;
    decided = decideWants(file, host, outlook);
  }
  return decided;
}

/**
 * Explicit devices, then pools in file order (§6): the wanted state W.
 * `outlook`: what the plan does to existing definitions, which exclusive
 * pools see.
 */
function decideWants(file: HostFile, host: HostView, outlook: Outlook): Decisions {
  const d: Decisions = { wants: new Map(), retained: new Set(), changes: [], unmatched: [] };
  const addWant = (w: Want) => {
    const earlier = d.wants.get(w.uuid);
    if (earlier) {
      throw new MdevError(
        `${w.where}: uuid ${w.uuid} of ${w.describe} is also the uuid of ${earlier.describe} (${earlier.where})`,
      );
    }
    d.wants.set(w.uuid, w);
  };
  // Types this plan puts on each parent (explicit devices, earlier pools),
  // for `exclusive`; what is there already is looked up when needed.
  const placedTypes = new Map<string, [uuid: string, type: string][]>();
  const noteType = (parent: string, type: string, uuid: string) => {
    (placedTypes.get(parent) ?? placedTypes.set(parent, []).get(parent)!).push([uuid, type]);
  };
  for (const dev of file.devices) {
    const unmatched = heldChange(dev, host) ?? unmatchedDevice(dev, host);
    if (unmatched !== undefined) {
      d.unmatched.push(unmatched);
      if (host.own.devices.has(dev.uuid)) d.retained.add(dev.uuid);
      continue;
    }
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
  const plannedNew = new Map<string, number>(); // parent \0 type -> held by earlier pools
  const claimed = new Map<string, { pool: string; type: string }>(); // exclusive pools
  const ctx: PoolContext = {
    owner: file.owner,
    namespace: file.namespace,
    snap: host.snap,
    own: host.own,
    parents: host.parents,
    isReady: (p) => host.isReady(p),
    defsOn: (p) => host.defsByParent.get(p) ?? [],
    foreignOwner: (u) => host.foreignOwner(u),
    typesOn: (parent) => {
      // A definition the plan places (an explicit device, an earlier pool's
      // instance) counts with the type the plan gives it, and one a later
      // pool modifies with the type of the outlook: modifications run
      // before anything is defined, and the next apply sees them so.
      const placed = placedTypes.get(parent) ?? [];
      const planned = new Set(placed.map(([uuid]) => uuid));
      return [
        ...(host.defsByParent.get(parent) ?? []).filter((x) => !planned.has(x.uuid))
          .map((x): [string, string] => [x.uuid, outlook.retyped.get(x.uuid) ?? x.config.type]),
        ...host.snap.active.onParent(parent),
        ...placed,
      ].filter(([uuid]) => !outlook.leaving.has(uuid));
    },
    plannedNew: (p, t) => plannedNew.get(`${p}\0${t}`) ?? 0,
    claimedBy: (p) => claimed.get(p),
  };
  for (const pool of file.pools.filter((p) => !host.vfioPools.has(p.name))) {
    const r = planPool(pool, ctx);
    for (const uuid of r.retained) d.retained.add(uuid);
    if (r.unmatched !== undefined) d.unmatched.push(r.unmatched);
    if (r.kept.length < r.wanted) d.changes.push(shortfall(pool, r));
    for (const i of r.kept) {
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
      // Capacity an earlier pool holds on (parent, type): every instance it
      // keeps or adds that is not running (a running one is already out of
      // available_instances). Counting only new ones would let the next
      // pool take the room on the second apply: not idempotent.
      const running = host.snap.active.get(i.uuid);
      if (running === undefined || running.parent !== i.parent || running.type !== i.type) {
        const key = `${i.parent}\0${i.type}`;
        plannedNew.set(key, (plannedNew.get(key) ?? 0) + 1);
      }
      if (pool.exclusive && host.present(i.parent)) {
        claimed.set(i.parent, { pool: pool.name, type: i.type });
      }
    }
  }
  return d;
}

/** A pool's `? pool:<name> <type> shortfall` (§6): fewer instances than wanted. */
function shortfall(pool: PoolSpec, r: PoolResult): Change {
  return {
    action: "shortfall",
    parent: "",
    uuid: "",
    type: r.types.length > 0 ? r.types.join(",") : selectorText(pool.type),
    origin: { pool: pool.name, slot: 0 },
    externalChange: false,
    pool: pool.name,
    wanted: r.wanted,
    placed: r.kept.length,
  };
}

/** The §6 action table for one wanted device. */
function wantChanges(
  w: Want,
  host: HostView,
  opts: PlanOptions,
  changes: Change[],
  after: Map<string, LedgerEntry>,
  adoptedHere: Set<string>,
): void {
  const base = { parent: w.parent, uuid: w.uuid, type: w.type, origin: w.origin };
  const conflict = (reason: string) =>
    changes.push({ action: "conflict", ...base, externalChange: false, reason });
  const foreign = host.foreignOwner(w.uuid);
  if (foreign !== undefined) return void conflict(`managed by host file owner ${foreign}`);
  const defs = host.defsByUuid.get(w.uuid) ?? [];
  const elsewhere = defs.find((d) => d.parent !== w.parent);
  if (elsewhere) return void conflict(`defined under parent ${elsewhere.parent}`);
  const running = host.snap.active.get(w.uuid);
  if (running && running.parent !== w.parent) {
    return void conflict(`running under parent ${running.parent}`);
  }
  const managed = host.own.devices.get(w.uuid);
  const def = defs[0];
  const wantedBytes = serializeConfig(w.config);
  if (def !== undefined && managed === undefined && def.config.type !== w.type) {
    return void conflict(`unmanaged definition of type ${def.config.type}`);
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
  } else if (serializeConfig(def.config) === wantedBytes) {
    if (managed === undefined) {
      changes.push({ action: "adopt", ...base, externalChange: false, config: w.config });
      adoptedHere.add(w.uuid);
    }
  } else {
    changes.push(modifyChange(w, def, managed));
    if (managed === undefined) adoptedHere.add(w.uuid);
  }
  if (running && running.type !== w.type) {
    changes.push({
      action: "restart-required",
      ...base,
      externalChange: false,
      reason: `running as type ${running.type}`,
    });
  }
  const typeThere = host.isReady(w.parent) &&
    (host.snap.parents.get(w.parent)?.types.has(w.type) ?? false);
  if (opts.start && w.config.autostart && running === undefined && typeThere) {
    changes.push({ action: "start", ...base, externalChange: false, config: w.config });
  }
}

function modifyChange(w: Want, def: Definition, managed: LedgerEntry | undefined): Change {
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
  return {
    action: "modify",
    parent: w.parent,
    uuid: w.uuid,
    type: w.type,
    origin: w.origin,
    externalChange: managed !== undefined &&
      managed.sha256 !== sha256(serializeConfig(def.config)),
    fields,
    config: w.config,
    configPath: def.configPath,
  };
}

/**
 * Managed devices the file no longer wants (§5 prune rules): with `--prune`
 * undefined (and stopped with `--start`), without it reported as surplus.
 * Devices on absent or not-ready parents, and those an unmatched pool or
 * device holds, are kept either way.
 */
function unwantedChanges(
  host: HostView,
  decided: Decisions,
  opts: PlanOptions,
  after: Map<string, LedgerEntry>,
): Surplus[] {
  const surplus: Surplus[] = [];
  for (const [uuid, e] of host.own.devices) {
    if (decided.wants.has(uuid) || decided.retained.has(uuid)) continue;
    if (!host.isReady(e.parent)) continue; // retained: its parent may come (back) later
    const def = (host.defsByUuid.get(uuid) ?? []).find((d) => d.parent === e.parent);
    const running = host.snap.active.get(uuid);
    if (!opts.prune) {
      if (def !== undefined || running !== undefined) {
        surplus.push({
          parent: e.parent,
          uuid,
          type: def?.config.type ?? e.type,
          origin: e.origin,
        });
      }
      continue;
    }
    const base = { parent: e.parent, uuid, origin: e.origin, externalChange: false };
    if (opts.start && running && running.parent === e.parent) {
      decided.changes.push({ action: "stop", ...base, type: running.type });
    }
    if (def !== undefined) {
      decided.changes.push({
        action: "undefine",
        ...base,
        type: def.config.type,
        configPath: def.configPath,
        current: def.config,
      });
    }
    after.delete(uuid);
  }
  sortByParent(surplus);
  return surplus;
}

/**
 * Not-ready parents this file is concerned with: those holding its managed
 * devices, those a pool selects and those an explicit device names.
 */
function notReadyReport(file: HostFile, host: HostView): NotReady[] {
  const out: NotReady[] = [];
  for (const p of host.parents) {
    const reason = host.notReady.get(p.name);
    if (reason === undefined) continue;
    let kept = 0;
    for (const e of host.own.devices.values()) if (e.parent === p.name) kept++;
    const concerned = kept > 0 || file.devices.some((d) => d.parent === p.name) ||
      file.pools.some((pool) => parentMatches(pool.parents, p));
    if (concerned) out.push({ parent: p.name, reason, kept });
  }
  return out;
}

/** Definitions of nobody (§5), left alone and listed with `-v`. */
function unmanagedDefinitions(host: HostView, adoptedHere: ReadonlySet<string>): Plan["unmanaged"] {
  const unmanaged: Plan["unmanaged"] = [];
  for (const d of host.snap.definitions) {
    if (host.own.devices.has(d.uuid) || adoptedHere.has(d.uuid)) continue;
    if (host.foreignOwner(d.uuid) !== undefined) continue;
    unmanaged.push({ parent: d.parent, uuid: d.uuid, type: d.config.type });
  }
  sortByParent(unmanaged);
  return unmanaged;
}

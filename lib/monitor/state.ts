/**
 * The monitor's functional core (docs/monitor.md, spec monitor.md §2.3–2.4):
 * the host state it follows, and the ordered events that lead from one
 * state to the next. No I/O here.
 */
import type { MdevConfig } from "../config.ts";
import { compactConfig } from "../config.ts";
import type { Definition } from "../host_model.ts";
import { compareBytes } from "../order.ts";
import { diffVfio, type VfioState } from "./vfio_state.ts";

/** One stored definition: the shared read model's (lib/host_model.ts). */
export type DefinedEntry = Definition;

/** One running device; `type` is null while its `mdev_type` link is missing. */
export interface ActiveEntry {
  uuid: string;
  parent: string;
  type: string | null;
  /** Start mode of the definition under the running parent ("manual" without one). */
  start: "auto" | "manual";
  defined: boolean;
}

/** A parent registered with mdev and the ids of its supported types (sorted). */
export interface ParentEntry {
  parent: string;
  types: string[];
}

/** What the monitor knows of the host. */
export interface HostState {
  /** Keyed by definedKey(parent, uuid): one uuid may be defined under several parents. */
  defined: Map<string, DefinedEntry>;
  /** Keyed by uuid: the kernel runs a uuid once. */
  active: Map<string, ActiveEntry>;
  parents: Map<string, ParentEntry>;
  /** vGPUs on vendor-VFIO VFs (docs/vfio-vgpu.md); absent until first read. */
  vfio?: VfioState;
}

export function emptyState(): HostState {
  return { defined: new Map(), active: new Map(), parents: new Map() };
}

export function cloneState(state: HostState): HostState {
  return {
    defined: new Map(state.defined),
    active: new Map(state.active),
    parents: new Map(state.parents),
    ...(state.vfio === undefined ? {} : { vfio: state.vfio }),
  };
}

export function definedKey(parent: string, uuid: string): string {
  return `${parent}\0${uuid}`;
}

export type EventKind =
  | "parent-registered"
  | "defined"
  | "modified"
  | "started"
  | "stopped"
  | "undefined"
  | "parent-unregistered"
  | "vgpu-assigned"
  | "vgpu-released"
  | "resync"
  | "synced"
  | "error";

export type EventSource = "config" | "udevadm" | "poll" | "snapshot";

export type ResyncReason =
  | "startup"
  | "inotify-overflow"
  | "queue-limit"
  | "periodic"
  | "source-restart";

/** One event before numbering (spec §2.3); absent fields are not printed. */
export interface MonitorEvent {
  event: EventKind;
  uuid?: string;
  parent?: string;
  type?: string | null;
  source?: EventSource;
  config?: MdevConfig;
  before?: MdevConfig;
  start?: "auto" | "manual";
  defined?: boolean;
  types?: string[];
  reason?: ResyncReason;
  initial?: true;
  /** What went wrong, for `error` events. */
  message?: string;
  /** vgpu-assigned, vgpu-released: the VF, its GPU and the type id (`type`: short name or null). */
  vf?: string;
  pf?: string;
  typeId?: number;
}

/** Batch order of §2.4. */
const RANK: Record<string, number> = {
  "parent-registered": 0,
  "defined": 1,
  "modified": 2,
  "started": 3,
  "stopped": 4,
  "undefined": 5,
  "parent-unregistered": 6,
  "vgpu-released": 7,
  "vgpu-assigned": 8,
};

const PCI = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/**
 * Parent order of hostfile.md §3: PCI addresses numerically (separators
 * ignored), then every other name by UTF-8 bytes.
 */
export function compareParents(a: string, b: string): number {
  const pa = PCI.exec(a);
  const pb = PCI.exec(b);
  if (pa && pb) {
    const na = parseInt(pa.slice(1).join(""), 16);
    const nb = parseInt(pb.slice(1).join(""), 16);
    if (na !== nb) return na < nb ? -1 : 1;
    return compareBytes(a, b);
  }
  if (pa) return -1;
  if (pb) return 1;
  return compareBytes(a, b);
}

/** Sorts a batch into the order of §2.4: kind, then parent, then uuid. */
export function sortBatch(events: MonitorEvent[]): MonitorEvent[] {
  return events.sort((x, y) =>
    (RANK[x.event] ?? 9) - (RANK[y.event] ?? 9) ||
    compareParents(x.parent ?? "", y.parent ?? "") ||
    compareBytes(x.uuid ?? "", y.uuid ?? "")
  );
}

function sameConfig(a: MdevConfig, b: MdevConfig): boolean {
  return compactConfig(a) === compactConfig(b);
}

function sameTypes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Which event source to name for the config and the kernel axes. */
export interface DiffSources {
  config: EventSource;
  kernel: EventSource;
}

export interface DiffResult {
  /** The events, in batch order. */
  events: MonitorEvent[];
  /** The state the events lead to: what is now "emitted". */
  next: HostState;
  /**
   * True when part of the change was held back for the next batch: a uuid
   * that now runs with another parent or type is reported `stopped` here and
   * `started` in the following batch, so neither per-uuid nor batch order
   * is broken.
   */
  more: boolean;
}

/**
 * The events leading from `before` (last emitted) to `after` (last read),
 * in batch order (§2.4). Never repeats a state: an unchanged entry gives
 * nothing, and a running uuid is stopped before it is started again.
 */
export function diffStates(
  before: HostState,
  after: HostState,
  sources: DiffSources,
): DiffResult {
  const events: MonitorEvent[] = [];
  // States are never changed in place, so a part that is the same Map as
  // before is unchanged and skipped: a poll tick diffs only what it read.
  const next: HostState = { ...after };
  let more = false;

  if (before.parents !== after.parents) diffParents(before, after, sources, events);
  if (before.defined !== after.defined) diffDefined(before, after, sources, events);
  if (before.active !== after.active) {
    more = diffActive(before, after, sources, events, next);
  }
  if (before.vfio !== after.vfio) diffVfio(before.vfio, after.vfio, sources.kernel, events);
  return { events: sortBatch(events), next, more };
}

function diffParents(
  before: HostState,
  after: HostState,
  sources: DiffSources,
  events: MonitorEvent[],
): void {
  for (const [name, p] of after.parents) {
    const old = before.parents.get(name);
    if (old === undefined || (old !== p && !sameTypes(old.types, p.types))) {
      events.push({
        event: "parent-registered",
        parent: name,
        source: sources.kernel,
        types: [...p.types],
      });
    }
  }
  for (const name of before.parents.keys()) {
    if (!after.parents.has(name)) {
      events.push({ event: "parent-unregistered", parent: name, source: sources.kernel });
    }
  }
}

function diffDefined(
  before: HostState,
  after: HostState,
  sources: DiffSources,
  events: MonitorEvent[],
): void {
  for (const [key, d] of after.defined) {
    const old = before.defined.get(key);
    if (old === undefined) {
      events.push({
        event: "defined",
        uuid: d.uuid,
        parent: d.parent,
        type: d.config.type,
        source: sources.config,
        config: d.config,
      });
    } else if (old !== d && !sameConfig(old.config, d.config)) {
      events.push({
        event: "modified",
        uuid: d.uuid,
        parent: d.parent,
        type: d.config.type,
        source: sources.config,
        config: d.config,
        before: old.config,
      });
    }
  }
  for (const [key, d] of before.defined) {
    if (!after.defined.has(key)) {
      events.push({
        event: "undefined",
        uuid: d.uuid,
        parent: d.parent,
        type: d.config.type,
        source: sources.config,
      });
    }
  }
}

/** Running devices; true when a uuid's stop was reported and its new start held back. */
function diffActive(
  before: HostState,
  after: HostState,
  sources: DiffSources,
  events: MonitorEvent[],
  next: HostState,
): boolean {
  let more = false;
  const stopped = (a: ActiveEntry, defined: boolean): MonitorEvent => ({
    event: "stopped",
    uuid: a.uuid,
    parent: a.parent,
    type: a.type,
    source: sources.kernel,
    defined,
  });
  for (const [uuid, a] of after.active) {
    const old = before.active.get(uuid);
    if (old === undefined) {
      events.push({
        event: "started",
        uuid,
        parent: a.parent,
        type: a.type,
        source: sources.kernel,
        start: a.start,
        defined: a.defined,
      });
    } else if (old !== a && (old.parent !== a.parent || old.type !== a.type)) {
      events.push(stopped(old, a.defined));
      if (!more) next.active = new Map(after.active);
      next.active.delete(uuid);
      more = true;
    }
  }
  for (const [uuid, a] of before.active) {
    if (!after.active.has(uuid)) {
      const stillDefined = after.defined.has(definedKey(a.parent, uuid));
      events.push(stopped(a, stillDefined));
    }
  }
  return more;
}

/** The current state as `--snapshot` events (§2.2 step 2), then `synced`. */
export function snapshotEvents(state: HostState): MonitorEvent[] {
  const { events } = diffStates(emptyState(), state, { config: "snapshot", kernel: "snapshot" });
  return [...events.map((e) => ({ ...e, initial: true as const })), { event: "synced" }];
}

/** What `-u` and `-p` let through (docs/monitor.md). */
export interface EventFilter {
  uuid?: string | undefined;
  parent?: string | undefined;
}

/**
 * Device events match on uuid and parent; parent events only on parent and
 * never with `-u`; resync, synced and error always pass.
 */
export function matchesFilter(event: MonitorEvent, filter: EventFilter): boolean {
  if (event.event === "resync" || event.event === "synced" || event.event === "error") return true;
  if (filter.parent !== undefined && (event.parent ?? event.pf) !== filter.parent) return false;
  if (filter.uuid !== undefined) return event.uuid === filter.uuid;
  return true;
}

/** True for the events `--count` counts: device and parent changes. */
export function isChange(event: MonitorEvent): boolean {
  return RANK[event.event] !== undefined;
}

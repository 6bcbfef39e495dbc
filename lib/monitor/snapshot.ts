/**
 * Reading the host state the monitor follows: definitions through the
 * config store's scan, running devices and parents from sysfs. Partial
 * rescans replace only what a trigger marked dirty.
 */
import { definitionReader } from "../config_store.ts";
import { readDefinitions } from "../host_model.ts";
import type { Environment } from "../environment.ts";
import { causeChain } from "../errors.ts";
import { loadRunning } from "../sysfs/active.ts";
import { sysfsNames } from "../sysfs/layout.ts";
import { registeredTypeIds } from "../sysfs/readiness.ts";
import { parseUuid } from "../uuid.ts";
import { definedKey } from "./state.ts";
import type { ActiveEntry, DefinedEntry, HostState, ParentEntry } from "./state.ts";
import { readVfioState } from "./vfio_state.ts";

/** What to read again. */
export interface Dirty {
  /** Parents whose config directory to rescan, or every one. */
  configs: Set<string> | "all";
  active: boolean;
  /**
   * Only look up uuids not known yet (a poll tick, spec §2.1: "readlink new
   * entries"); known ones keep their parent and type until a full read.
   */
  activeNewOnly: boolean;
  parents: boolean;
  /**
   * With `parents`: look for vendor-VFIO GPUs among all PCI devices, not
   * only probe the ones known (a full read of the kernel state).
   */
  gpus: boolean;
}

export function cleanDirty(): Dirty {
  return { configs: new Set(), active: false, activeNewOnly: false, parents: false, gpus: false };
}

export function allDirty(): Dirty {
  return { ...kernelDirty(), configs: "all" };
}

/** The whole kernel state, not the definitions (the periodic resync's usual read). */
export function kernelDirty(): Dirty {
  return { configs: new Set(), active: true, activeNewOnly: false, parents: true, gpus: true };
}

export function isDirty(d: Dirty): boolean {
  return d.configs === "all" || d.configs.size > 0 || d.active || d.parents;
}

/** The definitions under the given parents (every parent for "all"). */
export function readDefined(
  env: Environment,
  parents: Set<string> | "all",
): DefinedEntry[] {
  const out: DefinedEntry[] = [];
  const filters = parents === "all" ? [undefined] : [...parents];
  for (const parent of filters) {
    try {
      out.push(...readDefinitions(env, parent));
    } catch (e) {
      // The monitor keeps running: the error is said, the parent read again on its next change.
      env.logger.warn(causeChain(e).join(": "));
    }
  }
  return out;
}

/** Start mode and defined flag of a running device, from the definitions read. */
export type DefinitionLookup = (parent: string, uuid: string) => {
  defined: boolean;
  autostart: boolean;
};

/** A lookup in the definitions the monitor already holds: no file read per device. */
export function lookupIn(defined: Map<string, DefinedEntry>): DefinitionLookup {
  return (parent, uuid) => {
    const d = defined.get(definedKey(parent, uuid));
    return { defined: d !== undefined, autostart: d?.config.autostart ?? false };
  };
}

/**
 * Every running device. One whose `mdev_type` link is not there yet (the
 * kernel adds it after the add uevent) is kept with type null. With
 * `known`, uuids found there with a type are taken from it unread.
 */
export function readActive(
  env: Environment,
  definition: DefinitionLookup = definitionReader(env),
  known?: Map<string, ActiveEntry>,
): ActiveEntry[] {
  const out: ActiveEntry[] = [];
  for (const name of sysfsNames(env, env.mdevBase)) {
    const uuid = parseUuid(name);
    if (uuid === null) continue;
    const old = known?.get(uuid);
    if (old !== undefined && old.type !== null) {
      const { defined, autostart } = definition(old.parent, uuid);
      const start = autostart ? "auto" : "manual";
      // Unchanged entries stay the same objects: no garbage per tick.
      out.push(old.defined === defined && old.start === start ? old : { ...old, start, defined });
      continue;
    }
    const running = loadRunning(env, name);
    if (running === null) continue; // gone meanwhile
    const { parent, type } = running;
    const { defined, autostart } = definition(parent, uuid);
    out.push({ uuid, parent, type, start: autostart ? "auto" : "manual", defined });
  }
  return out;
}

/**
 * Every registered parent (spec §3.1 "parent-registered": the class entry
 * resolves to a directory holding `mdev_supported_types/`) and its type ids.
 */
export function readParents(env: Environment): ParentEntry[] {
  const out: ParentEntry[] = [];
  for (const name of sysfsNames(env, env.parentBase)) {
    const types = registeredTypeIds(env, name);
    if (types !== null) out.push({ parent: name, types });
  }
  return out;
}

/** `known` with the dirty parts read again. */
export function rescan(env: Environment, known: HostState, dirty: Dirty): HostState {
  // Only the parts read again become new Maps (the diff skips the others).
  const next: HostState = { ...known };
  const { configs } = dirty;
  if (configs === "all" || configs.size > 0) {
    next.defined = new Map(known.defined);
    for (const [key, d] of next.defined) {
      if (configs === "all" || configs.has(d.parent)) next.defined.delete(key);
    }
    for (const d of readDefined(env, configs)) {
      next.defined.set(definedKey(d.parent, d.uuid), d);
    }
  }
  if (dirty.active) {
    const known = dirty.activeNewOnly ? next.active : undefined;
    next.active = new Map(readActive(env, lookupIn(next.defined), known).map((a) => [a.uuid, a]));
  }
  if (dirty.parents) {
    next.parents = new Map(readParents(env).map((p) => [p.parent, p]));
    // VFs are read with the parents: only the GPUs known, unless the kernel is read in full.
    next.vfio = readVfioState(env, known.vfio, dirty.gpus);
  }
  return next;
}

/** The whole state, read once. */
export function readState(env: Environment, known: HostState): HostState {
  return rescan(env, known, allDirty());
}

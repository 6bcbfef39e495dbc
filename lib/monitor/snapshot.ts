/**
 * Reading the host state the monitor follows: definitions through the
 * config store's scan, running devices and parents from sysfs. Partial
 * rescans replace only what a trigger marked dirty.
 */
import { deviceConfig } from "../config.ts";
import { definitionReader, scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { causeChain } from "../errors.ts";
import { warn } from "../logger.ts";
import { basename, dirname } from "../paths.ts";
import { entryUuid, loadActiveSync, readDirEntries } from "../sysfs.ts";
import { cloneState, definedKey } from "./state.ts";
import type { ActiveEntry, DefinedEntry, HostState, ParentEntry } from "./state.ts";

/** What to read again. */
export interface Dirty {
  /** Parents whose config directory to rescan, or every one. */
  configs: Set<string> | "all";
  active: boolean;
  parents: boolean;
}

export function cleanDirty(): Dirty {
  return { configs: new Set(), active: false, parents: false };
}

export function allDirty(): Dirty {
  return { configs: "all", active: true, parents: true };
}

export function isDirty(d: Dirty): boolean {
  return d.configs === "all" || d.configs.size > 0 || d.active || d.parents;
}

/** The definitions under the given parents (every parent for "all"). */
export async function readDefined(
  env: Environment,
  parents: Set<string> | "all",
): Promise<DefinedEntry[]> {
  const out: DefinedEntry[] = [];
  const filters = parents === "all" ? [undefined] : [...parents];
  for (const parent of filters) {
    let groups;
    try {
      groups = await scanDefined(env, { parent });
    } catch (e) {
      warn(causeChain(e).join(": "));
      continue;
    }
    for (const devices of groups.values()) {
      for (const d of devices) {
        if (d.parent === undefined || d.type === undefined) continue;
        out.push({ uuid: d.uuid, parent: d.parent, config: deviceConfig(d) });
      }
    }
  }
  return out;
}

/**
 * Every running device. One whose `mdev_type` link is not there yet (the
 * kernel adds it after the add uevent) is kept with type null.
 */
export function readActive(env: Environment): ActiveEntry[] {
  const out: ActiveEntry[] = [];
  const definition = definitionReader(env);
  for (const entry of readDirEntries(env.mdevBase) ?? []) {
    const uuid = entryUuid(entry.name);
    if (uuid === null) continue;
    let parent: string;
    let type: string | null;
    try {
      const info = loadActiveSync(env, entry.name);
      if (info === null) continue;
      ({ parent, type } = info);
    } catch {
      try {
        parent = basename(dirname(Deno.realPathSync(env.devicePath(entry.name))));
      } catch {
        continue; // gone meanwhile
      }
      type = null;
    }
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
  for (const entry of readDirEntries(env.parentBase) ?? []) {
    const types = readTypeIds(env, entry.name);
    if (types !== null) out.push({ parent: entry.name, types });
  }
  return out;
}

/** The type ids of a registered parent (sorted), or null when it is not registered. */
export function readTypeIds(env: Environment, parent: string): string[] | null {
  const dir = `${env.parentPath(parent)}/mdev_supported_types`;
  try {
    const ids: string[] = [];
    for (const t of Deno.readDirSync(dir)) {
      if (t.isDirectory || (t.isSymlink && isDir(`${dir}/${t.name}`))) ids.push(t.name);
    }
    return ids.sort();
  } catch {
    return null;
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** `known` with the dirty parts read again. */
export async function rescan(env: Environment, known: HostState, dirty: Dirty): Promise<HostState> {
  const next = cloneState(known);
  const { configs } = dirty;
  if (configs === "all" || configs.size > 0) {
    for (const [key, d] of next.defined) {
      if (configs === "all" || configs.has(d.parent)) next.defined.delete(key);
    }
    for (const d of await readDefined(env, configs)) {
      next.defined.set(definedKey(d.parent, d.uuid), d);
    }
  }
  if (dirty.active) {
    next.active = new Map(readActive(env).map((a) => [a.uuid, a]));
  }
  if (dirty.parents) {
    next.parents = new Map(readParents(env).map((p) => [p.parent, p]));
  }
  return next;
}

/** The whole state, read once. */
export function readState(env: Environment, known: HostState): Promise<HostState> {
  return rescan(env, known, allDirty());
}

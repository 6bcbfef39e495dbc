/**
 * Persistent definitions under `etc/mdevctl.d/<parent>/<uuid>` (mdevctl.md §1.5,
 * §2.3, §2.4): scanning, reading, writing (atomically, lib/atomic_write.ts)
 * and removing them. Writers hold the host-wide lock (lib/lock.ts).
 */
import {
  type MdevConfig,
  type MdevDevice,
  newDevice,
  parseStoredConfig,
  serializeConfig,
} from "./config.ts";
import type { Environment } from "./environment.ts";
import { describeError, MdevError } from "./errors.ts";
import { isAbsent, lstatOrNull, readDirOrNull, unreadable } from "./fs_probe.ts";
import { quotePath } from "./paths.ts";
import { groupByParent } from "./order.ts";
import {
  isTempName,
  removeStaleTemps,
  writeFileAtomic,
  writeNewDirAtomic,
} from "./atomic_write.ts";
import {
  type DeviceFilter,
  isActiveAs,
  parentChildNames,
  typeDeviceNames,
} from "./sysfs/active.ts";
import { parseUuid } from "./uuid.ts";

/** The directory of callout scripts inside the config base; never a parent. */
const SCRIPTS_DIR = "scripts.d";

/** Reads one config file, or says why it cannot be read. */
function readConfig(path: string): MdevConfig | { error: string } {
  try {
    return parseStoredConfig(Deno.readTextFileSync(path));
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * Reads one config file. `null` (with a warning naming the path) when it is
 * missing, unreadable or corrupt (mdevctl.md §0.6).
 */
function readConfigOrWarn(env: Environment, path: string): MdevConfig | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    env.logger.warn(`Unable to open file ${quotePath(path)}: ${describeError(e)}`);
    return null;
  }
  try {
    return parseStoredConfig(text);
  } catch (e) {
    env.logger.warn(`Ignoring invalid config file ${quotePath(path)}: ${describeError(e)}`);
    return null;
  }
}

/** How scanDefined treats config files it cannot read. */
export interface ScanOptions {
  /**
   * Keep configs that cannot be read, as records without a type and with
   * `invalid` set, for commands aimed at exactly that device.
   */
  includeInvalid?: boolean;
  /** Leave every record's `active` false without looking at sysfs (host-file plans). */
  skipActive?: boolean;
}

/**
 * Every definition matching the filter (mdevctl.md §1.5), parents in byte order,
 * devices in uuid order. Each is flagged active when a running device with the
 * same uuid, parent and type exists. Bad files are skipped with a warning.
 *
 * @example Definitions written, then scanned
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, newDevice, scanDefined, withLock, writeConfig } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const device = newDevice("976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9", { parent: "0000:00:02.0" });
 * await withLock(env, () => writeConfig(env, device, { type: "t", autostart: true, attrs: [] }));
 * const groups = scanDefined(env, {});
 * deepEqual([...groups.keys()], ["0000:00:02.0"]);
 * deepEqual(groups.get("0000:00:02.0")![0]!.autostart, true);
 * ```
 */
export function scanDefined(
  env: Environment,
  filter: DeviceFilter,
  options: ScanOptions = {},
): Map<string, MdevDevice[]> {
  // No config base is no definitions (mdevctl.md §0.3); an unreadable one is an error.
  const parents = readDirOrNull(env.configBase);
  if (parents === null) return new Map();
  const devices: MdevDevice[] = [];
  // Type names repeat across definitions: one string each (peak memory of a large host).
  const types = new Map<string, string>();
  for (const p of parents) {
    if (!p.isDirectory || p.name === SCRIPTS_DIR) continue;
    if (filter.parent !== undefined && p.name !== filter.parent) continue;
    scanParent(
      env,
      p.name,
      filter.uuid,
      options.includeInvalid ?? false,
      options.skipActive ? () => false : activeChecker(env, p.name),
      types,
      devices,
    );
  }
  return groupByParent(devices);
}

/** Parent directories with at least this many entries list their devices by type. */
const MANY_CHILDREN = 64;

/**
 * Whether a definition of `parent` is running as defined (same uuid, parent
 * and type), for a scan over many. A running device is a child of its
 * parent's sysfs directory: one listing of that instead of a failed lookup
 * per stopped device. On a parent with many children, the type's `devices`
 * listing confirms most of them at one listing per type; whatever it does
 * not confirm is checked through the device's own `mdev_type` link, as for
 * a single device (so half-created devices are still reported).
 */
function activeChecker(env: Environment, parent: string): (uuid: string, type: string) => boolean {
  let children: Set<string> | undefined;
  const members = new Map<string, Set<string>>();
  return (uuid, type) => {
    children ??= parentChildNames(env, parent);
    if (!children.has(uuid)) return false;
    if (children.size >= MANY_CHILDREN) {
      let listed = members.get(type);
      if (listed === undefined) members.set(type, listed = typeDeviceNames(env, parent, type));
      if (listed.has(uuid)) return true;
    }
    return isActiveAs(env, parent, uuid, type);
  };
}

function scanParent(
  env: Environment,
  parent: string,
  uuidFilter: string | undefined,
  includeInvalid: boolean,
  isActive: (uuid: string, type: string) => boolean,
  types: Map<string, string>,
  out: MdevDevice[],
): void {
  const dir = env.parentConfigDir(parent);
  // Gone since the base was listed: nothing to list. Unreadable: an error
  // naming it, never a silently shorter list.
  const entries = readDirOrNull(dir);
  if (entries === null) return;
  for (const entry of entries) {
    // Symlinked configs are ignored here and everywhere else (mdevctl.md §0.8).
    if (!entry.isFile) continue;
    // A writer killed mid-way may leave its temporary file behind.
    if (isTempName(entry.name)) continue;
    const uuid = parseUuid(entry.name);
    if (uuid === null) {
      env.logger.warn(`Can't determine uuid for file '${entry.name}'`);
      continue;
    }
    if (uuidFilter !== undefined && uuid !== uuidFilter) continue;
    const path = `${dir}/${entry.name}`;
    let config: MdevConfig | null;
    if (includeInvalid) {
      const result = readConfig(path);
      if ("error" in result) {
        out.push(
          newDevice(uuid, { parent, defined: true, configPath: path, invalid: result.error }),
        );
        continue;
      }
      config = result;
    } else {
      config = readConfigOrWarn(env, path);
      if (config === null) continue;
    }
    let type = types.get(config.type);
    if (type === undefined) types.set(config.type, type = config.type);
    const active = isActive(uuid, type);
    // Every field spelled out (newDevice's defaults-and-spread costs more per
    // device, and a listing makes tens of thousands).
    const device: MdevDevice = {
      uuid,
      parent,
      type,
      autostart: config.autostart,
      attrs: config.attrs,
      active,
      defined: true,
      configPath: path,
    };
    out.push(device);
  }
}

/** True when a regular config file exists for the canonical uuid (mdevctl.md §3). */
export function isDefined(env: Environment, parent: string, uuid: string): boolean {
  const path = env.configFile(parent, uuid);
  try {
    return Deno.lstatSync(path).isFile;
  } catch (e) {
    // Below a file, or under a name too long for a file, no config can exist:
    // what follows (the scan, the write) names the problem.
    if (isAbsent(e) || e instanceof Deno.errors.NotADirectory) return false;
    if ((e as { code?: unknown }).code === "ENAMETOOLONG") return false;
    throw unreadable(path, e);
  }
}

/**
 * Start mode and defined flag of running devices (mdevctl.md §1.6 step 4, §6.1),
 * with each parent's config directory listed once.
 */
export function definitionReader(
  env: Environment,
): (parent: string, uuid: string) => { defined: boolean; autostart: boolean } {
  const listings = new Map<string, Set<string>>();
  return (parent, uuid) => {
    let files = listings.get(parent);
    if (files === undefined) {
      files = new Set();
      for (const e of readDirOrNull(env.parentConfigDir(parent)) ?? []) {
        if (e.isFile) files.add(e.name);
      }
      listings.set(parent, files);
    }
    if (!files.has(uuid)) return { defined: false, autostart: false };
    try {
      const text = Deno.readTextFileSync(env.configFile(parent, uuid));
      return { defined: true, autostart: parseStoredConfig(text).autostart };
    } catch {
      // mdevctl.md §1.6 step 4: a definition that cannot be read or parsed
      // means manual here (`list -d` warns about it, §0.6).
      return { defined: true, autostart: false };
    }
  };
}

/**
 * Writes a device's config file (mdevctl.md §2.3), creating its parent directory.
 * Call it holding the lock (withLock), as every command does.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, newDevice, withLock, writeConfig } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const device = newDevice("976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9", { parent: "p" });
 * await withLock(env, () => writeConfig(env, device, { type: "t", autostart: false, attrs: [] }));
 * deepEqual(
 *   Deno.readTextFileSync(env.configFile("p", device.uuid)),
 *   '{\n  "mdev_type": "t",\n  "start": "manual",\n  "attrs": []\n}',
 * );
 * ```
 */
export function writeConfig(env: Environment, device: MdevDevice, config: MdevConfig): void {
  const parent = device.parent;
  if (parent === undefined) throw new MdevError(`Device ${device.uuid} is missing a parent`);
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  const dir = env.parentConfigDir(parent);
  try {
    const data = serializeConfig(config);
    // A parent's first definition: the directory arrives with the file inside.
    if (path === `${dir}/${device.uuid}` && lstatOrNull(dir) === null) {
      Deno.mkdirSync(env.configBase, { recursive: true });
      if (writeNewDirAtomic(dir, device.uuid, data, env.configStaging)) return;
    }
    Deno.mkdirSync(dir, { recursive: true });
    // Scans ignore symlinked parent directories (docs/behaviour.md): a config
    // written through one would land outside the config base and stay invisible.
    if (Deno.lstatSync(dir).isSymlink) throw new Error(`${quotePath(dir)} is a symbolic link`);
    removeStaleTemps(dir);
    writeFileAtomic(path, data, env.configStaging);
  } catch (e) {
    throw MdevError.wrap(`Failed to write config for device ${device.uuid}`, e);
  }
}

/**
 * Deletes a device's config file (mdevctl.md §2.4). An emptied parent
 * directory stays, as upstream leaves it: libvirt watches every parent
 * directory, and one that goes and comes back leaves it with a stale watch
 * revived next to new ones, every later change then costing it extra
 * refreshes (docs/behaviour.md, measured by tests/e2e).
 */
export function removeConfig(env: Environment, device: MdevDevice): void {
  const parent = device.parent ?? "";
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  try {
    Deno.removeSync(path);
  } catch (e) {
    throw MdevError.wrap(`Failed to remove file ${quotePath(path)}`, e);
  }
  if (parent !== "") removeStaleTemps(env.parentConfigDir(parent));
}

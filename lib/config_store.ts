/**
 * Persistent definitions under `etc/mdevctl.d/<parent>/<uuid>` (spec §1.5,
 * §2.3, §2.4) with atomic writes and one host-wide lock (decision §0.5).
 */
import { MdevConfig, MdevDevice, newDevice, parseStoredConfig, serializeConfig } from "./config.ts";
import { Environment } from "./environment.ts";
import { describeError, isNotFound, MdevError } from "./errors.ts";
import { warn } from "./logger.ts";
import { quotePath } from "./paths.ts";
import { DeviceFilter, groupByParent, isActiveAs } from "./sysfs.ts";
import { parseUuid } from "./uuid.ts";
import { settle } from "./settle.ts";

/** The directory of callout scripts inside the config base; never a parent. */
const SCRIPTS_DIR = "scripts.d";

/** Reads one config file, or says why it cannot be read. */
export function readConfig(path: string): MdevConfig | { error: string } {
  try {
    return parseStoredConfig(Deno.readTextFileSync(path));
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * Reads one config file. `null` (with a warning naming the path) when it is
 * missing, unreadable or corrupt (decision §0.6).
 */
export function readConfigOrWarn(path: string): MdevConfig | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    warn(`Unable to open file ${quotePath(path)}: ${describeError(e)}`);
    return null;
  }
  try {
    return parseStoredConfig(text);
  } catch (e) {
    warn(`Ignoring invalid config file ${quotePath(path)}: ${describeError(e)}`);
    return null;
  }
}

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
 * Every definition matching the filter (spec §1.5), parents in byte order,
 * devices in uuid order. Each is flagged active when a running device with the
 * same uuid, parent and type exists. Bad files are skipped with a warning.
 *
 * Synchronous filesystem calls throughout: libvirt lists often, and on a host
 * with tens of thousands of definitions they are several times faster here.
 */
export function scanDefined(
  env: Environment,
  filter: DeviceFilter,
  options: ScanOptions = {},
): Promise<Map<string, MdevDevice[]>> {
  return settle(() => scanDefinedSync(env, filter, options));
}

function scanDefinedSync(
  env: Environment,
  filter: DeviceFilter,
  options: ScanOptions,
): Map<string, MdevDevice[]> {
  let parents: Deno.DirEntry[];
  try {
    parents = [...Deno.readDirSync(env.configBase)];
  } catch (e) {
    if (isNotFound(e)) return new Map();
    throw MdevError.wrap(`Unable to read directory ${quotePath(env.configBase)}`, e);
  }
  const devices: MdevDevice[] = [];
  for (const p of parents) {
    if (!p.isDirectory || p.name === SCRIPTS_DIR) continue;
    if (filter.parent !== undefined && p.name !== filter.parent) continue;
    // A running device is a child of its parent's sysfs directory: one
    // listing of it instead of a failed lookup per stopped device.
    let children: Set<string> | undefined;
    const isListed = options.skipActive
      ? () => false
      : (uuid: string) => (children ??= childNames(env, p.name)).has(uuid);
    scanParent(env, p.name, filter.uuid, options.includeInvalid ?? false, isListed, devices);
  }
  return groupByParent(devices);
}

/** Entry names of a parent's sysfs directory; none when it is not there. */
function childNames(env: Environment, parent: string): Set<string> {
  try {
    return new Set([...Deno.readDirSync(env.parentPath(parent))].map((e) => e.name));
  } catch {
    return new Set();
  }
}

function scanParent(
  env: Environment,
  parent: string,
  uuidFilter: string | undefined,
  includeInvalid: boolean,
  isListed: (uuid: string) => boolean,
  out: MdevDevice[],
): void {
  const dir = env.parentConfigDir(parent);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    warn(`Unable to read directory ${quotePath(dir)}: ${describeError(e)}`);
    return;
  }
  for (const entry of entries) {
    // Symlinked configs are ignored here and everywhere else (decision §0.8).
    if (!entry.isFile) continue;
    // A writer killed mid-way may leave its temporary file behind.
    if (isTempName(entry.name)) continue;
    const uuid = parseUuid(entry.name);
    if (uuid === null) {
      warn(`Can't determine uuid for file '${entry.name}'`);
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
      config = readConfigOrWarn(path);
      if (config === null) continue;
    }
    const active = isListed(uuid) && isActiveAs(env, parent, uuid, config.type);
    out.push(newDevice(uuid, {
      parent,
      type: config.type,
      autostart: config.autostart,
      attrs: config.attrs,
      active,
      defined: true,
      configPath: path,
    }));
  }
}

/** True when a regular config file exists for the canonical uuid (spec §3). */
export function isDefined(env: Environment, parent: string, uuid: string): Promise<boolean> {
  return settle(() => {
    try {
      return Deno.lstatSync(env.configFile(parent, uuid)).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * Start mode and defined flag of running devices (spec §1.6 step 4, §6.1),
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
      try {
        for (const e of Deno.readDirSync(env.parentConfigDir(parent))) {
          if (e.isFile) files.add(e.name);
        }
      } catch {
        // no definitions for this parent
      }
      listings.set(parent, files);
    }
    if (!files.has(uuid)) return { defined: false, autostart: false };
    try {
      const text = Deno.readTextFileSync(env.configFile(parent, uuid));
      return { defined: true, autostart: parseStoredConfig(text).autostart };
    } catch {
      return { defined: true, autostart: false };
    }
  };
}

const encoder = new TextEncoder();

/**
 * Replaces a file atomically: temporary file in the same directory, flushed,
 * renamed over the target, directory synced (decision §0.5).
 */
export function writeFileAtomic(path: string, data: string): Promise<void> {
  return settle(() => writeFileAtomicSync(path, data));
}

const TEMP_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The name writeFileAtomic gives its temporary file (`.<name>.<uuid>.tmp`). */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Removes temporary files that killed writers left in `dir`. Only called
 * under the lock (withLock): no other writer can be midway then.
 */
function removeStaleTemps(dir: string): void {
  // Once per directory while the lock is held: no leftover can appear then
  // (host-file apply writes hundreds of configs into one directory).
  if (cleaned.has(dir)) return;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && isTempName(entry.name)) Deno.removeSync(`${dir}/${entry.name}`);
    }
    cleaned.add(dir);
  } catch {
    // best effort: a leftover is skipped by every scan anyway
  }
}

/** Directories removeStaleTemps cleared since the lock was taken. */
const cleaned = new Set<string>();

// Synchronous calls throughout: the first asynchronous filesystem call of a
// process costs over 10 ms (thread pool start) and a command writes one file.
function writeFileAtomicSync(path: string, data: string): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const tmp = `${dir}/.${path.slice(dir.length + 1)}.${crypto.randomUUID()}.tmp`;
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o666 });
  try {
    try {
      const bytes = encoder.encode(data);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncDataSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/**
 * Writes a device's config file (spec §2.3), creating its parent directory.
 * Call it holding the lock (withLock), as every command does.
 */
export function writeConfig(
  env: Environment,
  device: MdevDevice,
  config: MdevConfig,
): Promise<void> {
  return settle(() => writeConfigSync(env, device, config));
}

function writeConfigSync(env: Environment, device: MdevDevice, config: MdevConfig): void {
  const parent = device.parent;
  if (parent === undefined) throw new MdevError(`Device ${device.uuid} is missing a parent`);
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  const dir = env.parentConfigDir(parent);
  try {
    Deno.mkdirSync(dir, { recursive: true });
    // Scans ignore symlinked parent directories (docs/behaviour.md): a config
    // written through one would land outside the config base and stay invisible.
    if (Deno.lstatSync(dir).isSymlink) throw new Error(`${quotePath(dir)} is a symbolic link`);
    removeStaleTemps(dir);
    writeFileAtomicSync(path, serializeConfig(config));
  } catch (e) {
    throw MdevError.wrap(`Failed to write config for device ${device.uuid}`, e);
  }
}

/**
 * Deletes a device's config file (spec §2.4) and the parent directory when
 * that leaves it empty (decision §0.8).
 */
export function removeConfig(env: Environment, device: MdevDevice): Promise<void> {
  return settle(() => removeConfigSync(env, device));
}

function removeConfigSync(env: Environment, device: MdevDevice): void {
  const parent = device.parent ?? "";
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  try {
    Deno.removeSync(path);
  } catch (e) {
    throw MdevError.wrap(`Failed to remove file ${quotePath(path)}`, e);
  }
  if (parent !== "") {
    removeStaleTemps(env.parentConfigDir(parent));
    try {
      Deno.removeSync(env.parentConfigDir(parent));
    } catch {
      // not empty: other definitions remain
    }
  }
}

/**
 * Runs `action` holding the host-wide exclusive lock, so that concurrent
 * invocations (udev, libvirt, a person) never interleave read-modify-write.
 */
export async function withLock<T>(env: Environment, action: () => Promise<T>): Promise<T> {
  const path = env.lockFile;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (e) {
    if (!isNotFound(e)) throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e);
    try {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e2) {
      throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e2);
    }
  }
  try {
    // Blocking is right here: there is nothing else to do until it is ours.
    file.lockSync(true);
    cleaned.clear();
    return await action();
  } finally {
    cleaned.clear();
    file.close();
  }
}

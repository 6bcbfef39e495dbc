/**
 * Persistent definitions under `etc/mdevctl.d/<parent>/<uuid>` (spec §1.5,
 * §2.3, §2.4) with atomic writes and one host-wide lock (decision §0.5).
 */
import { MdevConfig, MdevDevice, newDevice, parseStoredConfig, serializeConfig } from "./config.ts";
import { Environment } from "./environment.ts";
import { describeError, isNotFound, MdevError } from "./errors.ts";
import { warn } from "./logger.ts";
import { quotePath } from "./paths.ts";
import { DeviceFilter, groupByParent, loadActiveOrWarn } from "./sysfs.ts";
import { parseUuid } from "./uuid.ts";

/** The directory of callout scripts inside the config base; never a parent. */
const SCRIPTS_DIR = "scripts.d";

async function listDir(path: string): Promise<Deno.DirEntry[]> {
  return await Array.fromAsync(Deno.readDir(path));
}

/** Reads one config file, or says why it cannot be read. */
export async function readConfig(path: string): Promise<MdevConfig | { error: string }> {
  try {
    return parseStoredConfig(await Deno.readTextFile(path));
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * Reads one config file. `null` (with a warning naming the path) when it is
 * missing, unreadable or corrupt (decision §0.6).
 */
export async function readConfigOrWarn(path: string): Promise<MdevConfig | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
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

/**
 * Every definition matching the filter (spec §1.5), parents in byte order,
 * devices in uuid order. Each is flagged active when a running device with the
 * same uuid, parent and type exists. Bad files are skipped with a warning.
 */
export async function scanDefined(
  env: Environment,
  filter: DeviceFilter,
  options: ScanOptions = {},
): Promise<Map<string, MdevDevice[]>> {
  let parents: Deno.DirEntry[];
  try {
    parents = await listDir(env.configBase);
  } catch (e) {
    if (isNotFound(e)) return new Map();
    throw MdevError.wrap(`Unable to read directory ${quotePath(env.configBase)}`, e);
  }
  const perParent = await Promise.all(
    parents
      .filter((p) =>
        p.isDirectory && p.name !== SCRIPTS_DIR &&
        (filter.parent === undefined || p.name === filter.parent)
      )
      .map((p) => scanParent(env, p.name, filter.uuid, options.includeInvalid ?? false)),
  );
  return groupByParent(perParent.flat());
}

export interface ScanOptions {
  /**
   * Keep configs that cannot be read, as records without a type and with
   * `invalid` set, for commands aimed at exactly that device.
   */
  includeInvalid?: boolean;
}

async function scanParent(
  env: Environment,
  parent: string,
  uuidFilter: string | undefined,
  includeInvalid: boolean,
): Promise<MdevDevice[]> {
  const dir = env.parentConfigDir(parent);
  let entries: Deno.DirEntry[];
  try {
    entries = await listDir(dir);
  } catch (e) {
    warn(`Unable to read directory ${quotePath(dir)}: ${describeError(e)}`);
    return [];
  }
  const devices = await Promise.all(entries.map(async (entry) => {
    // Symlinked configs are ignored here and everywhere else (decision §0.8).
    if (!entry.isFile) return null;
    // A writer killed mid-way may leave its temporary file behind.
    if (entry.name.startsWith(".") && entry.name.endsWith(".tmp")) return null;
    const uuid = parseUuid(entry.name);
    if (uuid === null) {
      warn(`Can't determine uuid for file '${entry.name}'`);
      return null;
    }
    if (uuidFilter !== undefined && uuid !== uuidFilter) return null;
    const path = `${dir}/${entry.name}`;
    if (includeInvalid) {
      const result = await readConfig(path);
      if ("error" in result) {
        return newDevice(uuid, { parent, defined: true, configPath: path, invalid: result.error });
      }
    }
    const config = await readConfigOrWarn(path);
    if (config === null) return null;
    const active = await loadActiveOrWarn(env, uuid, { parent, type: config.type });
    return newDevice(uuid, {
      parent,
      type: config.type,
      autostart: config.autostart,
      attrs: config.attrs,
      active: active !== null,
      defined: true,
      configPath: path,
    });
  }));
  return devices.filter((d): d is MdevDevice => d !== null);
}

/** True when a regular config file exists for the canonical uuid (spec §3). */
export async function isDefined(env: Environment, parent: string, uuid: string): Promise<boolean> {
  try {
    return (await Deno.lstat(env.configFile(parent, uuid))).isFile;
  } catch {
    return false;
  }
}

/** Start mode and defined flag of a running device (spec §1.6 step 4, §6.1). */
export async function definitionState(
  env: Environment,
  parent: string,
  uuid: string,
): Promise<{ defined: boolean; autostart: boolean }> {
  const path = env.configFile(parent, uuid);
  let text: string;
  try {
    if (!(await Deno.lstat(path)).isFile) return { defined: false, autostart: false };
    text = await Deno.readTextFile(path);
  } catch {
    return { defined: false, autostart: false };
  }
  try {
    return { defined: true, autostart: parseStoredConfig(text).autostart };
  } catch {
    return { defined: true, autostart: false };
  }
}

const encoder = new TextEncoder();

/**
 * Replaces a file atomically: temporary file in the same directory, flushed,
 * renamed over the target, directory synced (decision §0.5).
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const tmp = `${dir}/.${path.slice(dir.length + 1)}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o666 });
  try {
    try {
      const bytes = encoder.encode(data);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** Writes a device's config file (spec §2.3), creating its parent directory. */
export async function writeConfig(
  env: Environment,
  device: MdevDevice,
  config: MdevConfig,
): Promise<void> {
  const parent = device.parent;
  if (parent === undefined) throw new MdevError(`Device ${device.uuid} is missing a parent`);
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  try {
    await Deno.mkdir(env.parentConfigDir(parent), { recursive: true });
    await writeFileAtomic(path, serializeConfig(config));
  } catch (e) {
    throw MdevError.wrap(`Failed to write config for device ${device.uuid}`, e);
  }
}

/**
 * Deletes a device's config file (spec §2.4) and the parent directory when
 * that leaves it empty (decision §0.8).
 */
export async function removeConfig(env: Environment, device: MdevDevice): Promise<void> {
  const parent = device.parent ?? "";
  const path = device.configPath ?? env.configFile(parent, device.uuid);
  try {
    await Deno.remove(path);
  } catch (e) {
    throw MdevError.wrap(`Failed to remove file ${quotePath(path)}`, e);
  }
  if (parent !== "") await Deno.remove(env.parentConfigDir(parent)).catch(() => {});
}

/**
 * Runs `action` holding the host-wide exclusive lock, so that concurrent
 * invocations (udev, libvirt, a person) never interleave read-modify-write.
 */
export async function withLock<T>(env: Environment, action: () => Promise<T>): Promise<T> {
  const path = env.lockFile;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (e) {
    if (!isNotFound(e)) throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e);
    try {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e2) {
      throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e2);
    }
  }
  try {
    await file.lock(true);
    return await action();
  } finally {
    file.close();
  }
}

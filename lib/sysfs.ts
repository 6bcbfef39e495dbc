/**
 * Reading the kernel's view of mediated devices (spec §1.4, §1.6, §5.7) and
 * writing to its control files (§1.2, §7).
 */
import { MdevDevice, newDevice } from "./config.ts";
import { Environment } from "./environment.ts";
import { describeError, isNotFound, MdevError } from "./errors.ts";
import { compareBytes } from "./json.ts";
import { warn } from "./logger.ts";
import { basename, dirname, quotePath } from "./paths.ts";
import { parseUuid } from "./uuid.ts";

/** Where a running device lives. */
export interface ActiveInfo {
  parent: string;
  type: string;
}

export interface Expectation {
  parent?: string | undefined;
  type?: string | undefined;
}

/**
 * The parent and type of a running device, or `null` when no running device
 * with that uuid matches the expectation (spec §1.4). A device directory
 * without a readable `mdev_type` link throws.
 */
export async function loadActive(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): Promise<ActiveInfo | null> {
  let canonical: string;
  try {
    canonical = await Deno.realPath(env.devicePath(uuid));
  } catch (e) {
    if (isNotFound(e)) return null;
    throw new MdevError(describeError(e));
  }
  const parent = basename(dirname(canonical));
  if (expect.parent !== undefined && expect.parent !== parent) return null;
  let type: string;
  try {
    type = basename(await Deno.realPath(`${canonical}/mdev_type`));
  } catch (e) {
    throw new MdevError(describeError(e));
  }
  if (expect.type !== undefined && expect.type !== type) return null;
  return { parent, type };
}

/** loadActive that turns a half-created device into a warning (decision §0.6). */
export async function loadActiveOrWarn(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): Promise<ActiveInfo | null> {
  try {
    return await loadActive(env, uuid, expect);
  } catch (e) {
    warn(`Ignoring mdev device ${quotePath(env.devicePath(uuid))}: ${describeError(e)}`);
    return null;
  }
}

export interface DeviceFilter {
  uuid?: string | undefined;
  parent?: string | undefined;
}

/**
 * The entries of a directory that may be absent (no mdev parents or devices):
 * `null` when it is missing; any other failure is a warning, never silence.
 */
async function readDirNames(path: string): Promise<Deno.DirEntry[] | null> {
  try {
    return await Array.fromAsync(Deno.readDir(path));
  } catch (e) {
    if (!isNotFound(e)) warn(`Unable to read directory ${quotePath(path)}: ${describeError(e)}`);
    return null;
  }
}

/**
 * Every running device matching the filter (spec §1.6), grouped by parent in
 * byte order, devices in uuid order. Start mode comes from the definition.
 */
export async function scanActive(
  env: Environment,
  filter: DeviceFilter,
  readDefinition: (
    parent: string,
    uuid: string,
  ) => Promise<{ defined: boolean; autostart: boolean }>,
): Promise<Map<string, MdevDevice[]>> {
  const entries = await readDirNames(env.mdevBase) ?? [];
  const found = await Promise.all(entries.map(async (entry) => {
    const uuid = parseUuid(entry.name);
    if (uuid === null) {
      warn(`Can't determine uuid for file '${entry.name}'`);
      return null;
    }
    if (filter.uuid !== undefined && filter.uuid !== uuid) return null;
    const info = await loadActiveOrWarn(env, entry.name);
    if (info === null) return null;
    if (filter.parent !== undefined && filter.parent !== info.parent) return null;
    const { defined, autostart } = await readDefinition(info.parent, uuid);
    return newDevice(uuid, {
      parent: info.parent,
      type: info.type,
      active: true,
      defined,
      autostart,
    });
  }));
  return groupByParent(found.filter((d): d is MdevDevice => d !== null));
}

/** Groups devices by parent; parents in byte order, devices by uuid. */
export function groupByParent(devices: readonly MdevDevice[]): Map<string, MdevDevice[]> {
  const groups = new Map<string, MdevDevice[]>();
  for (const d of devices) {
    const key = d.parent ?? "";
    const list = groups.get(key);
    if (list) list.push(d);
    else groups.set(key, [d]);
  }
  const sorted = new Map<string, MdevDevice[]>();
  for (const parent of [...groups.keys()].sort(compareBytes)) {
    sorted.set(parent, groups.get(parent)!.sort((a, b) => compareBytes(a.uuid, b.uuid)));
  }
  return sorted;
}

/** One supported type of a parent (spec §5.7). */
export interface MdevType {
  name: string;
  availableInstances: number;
  deviceApi: string;
  displayName: string | undefined;
  description: string | undefined;
  /** The description file as read, for the original `list-all` layout. */
  rawDescription: string | undefined;
}

const I32 = /^[+-]?\d+$/;

/** Parses a decimal i32 the way Rust's `str::parse::<i32>` does. */
export function parseI32(text: string): number {
  if (text === "") throw new MdevError("cannot parse integer from empty string");
  if (!I32.test(text)) throw new MdevError("invalid digit found in string");
  const n = Number(text);
  if (n > 2147483647) throw new MdevError("number too large to fit in target type");
  if (n < -2147483648) throw new MdevError("number too small to fit in target type");
  return n;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Reads one type directory; throws on a missing or garbled required file. */
export async function readType(dir: string, name: string): Promise<MdevType> {
  const read = async (file: string) => {
    try {
      return await Deno.readTextFile(`${dir}/${file}`);
    } catch (e) {
      throw new MdevError(`${describeError(e)}: ${quotePath(`${dir}/${file}`)}`);
    }
  };
  const [instances, api, displayName, description] = await Promise.all([
    read("available_instances"),
    read("device_api"),
    readOptional(`${dir}/name`),
    readOptional(`${dir}/description`),
  ]);
  const nameText = displayName?.trim();
  const descText = description?.trim().replaceAll("\n", ", ");
  return {
    name,
    availableInstances: parseI32(instances.trim()),
    deviceApi: api.trim(),
    displayName: nameText ? nameText : undefined,
    description: descText ? descText : undefined,
    rawDescription: description,
  };
}

/**
 * Every parent and its supported types (spec §5.7); parents and types in byte
 * order. A parent without `mdev_supported_types` or a garbled type is skipped
 * with a warning (decision §0.6).
 */
export async function scanTypes(
  env: Environment,
  parentFilter: string | undefined,
): Promise<Map<string, MdevType[]>> {
  const entries = await readDirNames(env.parentBase) ?? [];
  const parents = entries.map((e) => e.name)
    .filter((name) => parentFilter === undefined || name === parentFilter)
    .sort(compareBytes);
  const result = new Map<string, MdevType[]>();
  const lists = await Promise.all(parents.map(async (parent) => {
    const typesDir = `${env.parentPath(parent)}/mdev_supported_types`;
    let typeEntries: Deno.DirEntry[];
    try {
      typeEntries = await Array.fromAsync(Deno.readDir(typesDir));
    } catch (e) {
      warn(`Skipping parent ${parent}: ${describeError(e)}: ${quotePath(typesDir)}`);
      return null;
    }
    const types = await Promise.all(
      typeEntries.filter((t) => t.isDirectory).map(async (t) => {
        try {
          return await readType(`${typesDir}/${t.name}`, t.name);
        } catch (e) {
          warn(`Skipping mdev type ${quotePath(`${typesDir}/${t.name}`)}: ${describeError(e)}`);
          return null;
        }
      }),
    );
    return types.filter((t): t is MdevType => t !== null)
      .sort((a, b) => compareBytes(a.name, b.name));
  }));
  parents.forEach((parent, i) => {
    const list = lists[i];
    if (list) result.set(parent, list);
  });
  return result;
}

/** The running device's uuid from a directory entry name, if it is one. */
export function entryUuid(name: string): string | null {
  return parseUuid(name);
}

const encoder = new TextEncoder();

/**
 * Writes `value` to an existing sysfs file in one write, without newline
 * (spec §1.2). Never creates the file.
 */
export async function writeSysfs(path: string, value: string): Promise<void> {
  const file = await Deno.open(path, { write: true, truncate: true });
  try {
    const bytes = encoder.encode(value);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  } finally {
    file.close();
  }
}

/** True when `path` is a directory, following symlinks. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** True when `path` exists, following symlinks. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

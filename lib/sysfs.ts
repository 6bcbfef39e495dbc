/**
 * Reading the kernel's view of mediated devices (mdevctl.md §1.4, §1.6, §5.7) and
 * writing to its control files (§1.2, §7).
 */
import type { MdevDevice, MdevType } from "./config.ts";
import type { Environment } from "./environment.ts";
import { describeError, isNotFound, MdevError } from "./errors.ts";
import { compareBytes, groupByParent } from "./order.ts";
import { basename, dirname, quotePath, resolvePath } from "./paths.ts";
import { parseUuid } from "./uuid.ts";

/** A sysfs path quoted for a message, where it is (not the sandbox's view of it). */
function quoted(env: Environment, path: string): string {
  return quotePath(env.shownPath(path));
}

/** A parent's directory of the types it supports (mdevctl.md §5.7). */
export const SUPPORTED_TYPES = "mdev_supported_types";

/** Where a running device lives. */
export interface ActiveInfo {
  /** The parent device's name. */
  parent: string;
  /** The mdev type's name. */
  type: string;
}

/** What a running device must match to count (unset fields match anything). */
export interface Expectation {
  /** The parent it must be a child of. */
  parent?: string | undefined;
  /** The type it must have. */
  type?: string | undefined;
}

/**
 * The parent and type of a running device, or `null` when no running device
 * with that uuid matches the expectation (mdevctl.md §1.4). A device directory
 * without a readable `mdev_type` link throws.
 *
 * @example A running device in a fake sysfs tree
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, loadActive } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const uuid = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
 * const device = env.path(`sys/devices/pci0000:00/0000:00:02.0/${uuid}`);
 * const type = env.path("sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4");
 * Deno.mkdirSync(device, { recursive: true });
 * Deno.mkdirSync(type, { recursive: true });
 * Deno.symlinkSync(type, `${device}/mdev_type`);
 * Deno.mkdirSync(env.mdevBase, { recursive: true });
 * Deno.symlinkSync(device, env.devicePath(uuid));
 * deepEqual(loadActive(env, uuid), { parent: "0000:00:02.0", type: "i915-GVTg_V5_4" });
 * deepEqual(loadActive(env, uuid, { type: "other" }), null);
 * ```
 */
export function loadActive(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): ActiveInfo | null {
  // The kernel's links lead straight to the device and type directories, so
  // reading them gives what canonicalising would, at one call instead of one
  // per path component; anything unusual falls back to realpath.
  const link = env.devicePath(uuid);
  let device: string;
  try {
    device = resolvePath(dirname(link), Deno.readLinkSync(link));
  } catch (e) {
    if (isNotFound(e)) return null;
    try {
      device = Deno.realPathSync(link);
    } catch (e2) {
      if (isNotFound(e2)) return null;
      // Upstream's bare top line, and which path (mdevctl.md §16.28).
      throw new MdevError(describeError(e2), [`while resolving ${quoted(env, link)}`]);
    }
  }
  const parent = basename(dirname(device));
  if (expect.parent !== undefined && expect.parent !== parent) return null;
  let type: string;
  try {
    type = basename(Deno.readLinkSync(`${device}/mdev_type`));
  } catch (e) {
    // A dangling device link means no device; a device without its type
    // link is half-created, which callers report.
    if (isNotFound(e) && !existsSync(device)) return null;
    try {
      type = basename(Deno.realPathSync(`${device}/mdev_type`));
    } catch (e2) {
      throw new MdevError(describeError(e2), [
        `while resolving ${quoted(env, `${device}/mdev_type`)}`,
      ]);
    }
  }
  if (expect.type !== undefined && expect.type !== type) return null;
  return { parent, type };
}

/** Where the symlink `path` leads (lexically), or `path` itself when it is no link. */
function linkTarget(path: string): string {
  try {
    return resolvePath(dirname(path), Deno.readLinkSync(path));
  } catch {
    return path;
  }
}

/**
 * Whether the running device `uuid` is a child of `parent` with type `type`
 * (mdevctl.md §1.4 with both expected), looked up through the parent's directory:
 * one link read instead of two for each defined device of a listing. A
 * half-created device is a warning (mdevctl.md §0.6).
 */
export function isActiveAs(env: Environment, parent: string, uuid: string, type: string): boolean {
  const device = `${env.parentPath(parent)}/${uuid}`;
  try {
    return basename(Deno.readLinkSync(`${device}/mdev_type`)) === type;
  } catch (e) {
    if (isNotFound(e) && !existsSync(device)) return false;
    return loadActiveOrWarn(env, uuid, { parent, type }) !== null;
  }
}

/** True when `path` exists, following symlinks. */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** loadActive that turns a half-created device into a warning (mdevctl.md §0.6). */
export function loadActiveOrWarn(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): ActiveInfo | null {
  try {
    return loadActive(env, uuid, expect);
  } catch (e) {
    env.logger.warn(
      `Ignoring mdev device ${quoted(env, env.devicePath(uuid))}: ${describeError(e)}`,
    );
    return null;
  }
}

/** Entry names of a parent's sysfs directory; none when it is not there. */
export function parentChildNames(env: Environment, parent: string): Set<string> {
  try {
    return new Set([...Deno.readDirSync(env.parentPath(parent))].map((e) => e.name));
  } catch {
    return new Set();
  }
}

/**
 * Entry names of a type's `devices` directory, where the kernel links every
 * running device of that type (mdevctl.md §1.4): one listing instead of one
 * `mdev_type` link read per device. Empty when missing, unreadable, or when
 * `type` is not a plain directory name.
 */
export function typeDeviceNames(env: Environment, parent: string, type: string): Set<string> {
  if (type === "" || type === "." || type === ".." || type.includes("/")) return new Set();
  try {
    const dir = `${env.parentPath(parent)}/${SUPPORTED_TYPES}/${type}/devices`;
    return new Set(Array.from(Deno.readDirSync(dir), (e) => e.name));
  } catch {
    return new Set();
  }
}

/** Which devices a scan keeps (unset fields keep all). */
export interface DeviceFilter {
  /** Only this uuid (canonical form). */
  uuid?: string | undefined;
  /** Only devices of this parent. */
  parent?: string | undefined;
}

/**
 * The entries of a directory that may be absent (no mdev parents or devices):
 * `null` when it is missing; any other failure is a warning, never silence.
 */
function readDirEntries(env: Environment, path: string): Deno.DirEntry[] | null {
  try {
    return [...Deno.readDirSync(path)];
  } catch (e) {
    if (!isNotFound(e)) {
      env.logger.warn(`Unable to read directory ${quoted(env, path)}: ${describeError(e)}`);
    }
    return null;
  }
}

/** From this many running devices on, scanActive lists them by type first. */
const MANY_DEVICES = 64;

/**
 * Running devices by name, from the kernel's listings: each type directory
 * has a `devices` directory linking every running device of that type, under
 * the parent's own directory. A few hundred listings instead of two link
 * reads per device on a large host; the parent's name is its directory's, as
 * loadActive derives it. Devices it misses (half-created ones, odd trees) are
 * left to loadActive.
 */
function listActiveByType(env: Environment): Map<string, ActiveInfo> {
  const found = new Map<string, ActiveInfo>();
  for (const p of readDirEntries(env, env.parentBase) ?? []) {
    const link = env.parentPath(p.name);
    // The parent the class link leads to (the entry itself when it is a directory).
    const parent = basename(linkTarget(link));
    let types: Deno.DirEntry[];
    try {
      types = [...Deno.readDirSync(`${link}/${SUPPORTED_TYPES}`)];
    } catch {
      continue;
    }
    for (const t of types) {
      let devices: Iterable<Deno.DirEntry>;
      try {
        devices = Deno.readDirSync(`${link}/${SUPPORTED_TYPES}/${t.name}/devices`);
      } catch {
        continue;
      }
      const info: ActiveInfo = { parent, type: t.name };
      for (const d of devices) found.set(d.name, info);
    }
  }
  return found;
}

/**
 * Every running device matching the filter (mdevctl.md §1.6), grouped by parent in
 * byte order, devices in uuid order. Start mode comes from the definition.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, scanActive } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const none = () => ({ defined: false, autostart: false });
 * deepEqual(scanActive(env, {}, none).size, 0);
 * ```
 */
export function scanActive(
  env: Environment,
  filter: DeviceFilter,
  readDefinition: (parent: string, uuid: string) => { defined: boolean; autostart: boolean },
): Map<string, MdevDevice[]> {
  const found: MdevDevice[] = [];
  // Parent and type names repeat across devices: one string each keeps the
  // link texts they were cut from collectable (peak memory of a large host).
  const names = new Map<string, string>();
  const intern = (name: string) => names.get(name) ?? (names.set(name, name), name);
  const entries = readDirEntries(env, env.mdevBase) ?? [];
  const listed = filter.uuid === undefined && entries.length >= MANY_DEVICES
    ? listActiveByType(env)
    : undefined;
  for (const entry of entries) {
    const uuid = parseUuid(entry.name);
    if (uuid === null) {
      env.logger.warn(`Can't determine uuid for file '${entry.name}'`);
      continue;
    }
    if (filter.uuid !== undefined && filter.uuid !== uuid) continue;
    const info = listed?.get(entry.name) ?? loadActiveOrWarn(env, entry.name);
    if (info === null) continue;
    if (filter.parent !== undefined && filter.parent !== info.parent) continue;
    const parent = intern(info.parent);
    const { defined, autostart } = readDefinition(parent, uuid);
    // Every field spelled out: lighter than newDevice's defaults-and-spread
    // for tens of thousands of devices.
    found.push({
      uuid,
      parent,
      type: intern(info.type),
      autostart,
      attrs: [],
      active: true,
      defined,
    });
  }
  return groupByParent(found);
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

function readOptional(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Reads one type directory; throws on a missing or garbled required file.
 * `shown` names a path for messages (the sandbox's view as /sys).
 */
export function readType(
  dir: string,
  name: string,
  shown: (path: string) => string = (path) => path,
): MdevType {
  const read = (file: string) => {
    try {
      return Deno.readTextFileSync(`${dir}/${file}`);
    } catch (e) {
      throw new MdevError(`${describeError(e)}: ${quotePath(shown(`${dir}/${file}`))}`);
    }
  };
  const instances = read("available_instances");
  const api = read("device_api");
  const displayName = readOptional(`${dir}/name`);
  const description = readOptional(`${dir}/description`);
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
 * Every parent and its supported types (mdevctl.md §5.7); parents and types in byte
 * order. A parent without `mdev_supported_types` or a garbled type is skipped
 * with a warning (mdevctl.md §0.6).
 *
 * @example A parent with one type
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, scanTypes } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const dir = env.path("sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4");
 * Deno.mkdirSync(dir, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/available_instances`, "2\n");
 * Deno.writeTextFileSync(`${dir}/device_api`, "vfio-pci\n");
 * const types = scanTypes(env, undefined).get("0000:00:02.0")!;
 * deepEqual([types[0]!.name, types[0]!.availableInstances], ["i915-GVTg_V5_4", 2]);
 * ```
 */
export function scanTypes(
  env: Environment,
  parentFilter: string | undefined,
): Map<string, MdevType[]> {
  const parents = (readDirEntries(env, env.parentBase) ?? []).map((e) => e.name)
    .filter((name) => parentFilter === undefined || name === parentFilter)
    .sort(compareBytes);
  const result = new Map<string, MdevType[]>();
  for (const parent of parents) {
    const typesDir = `${env.parentPath(parent)}/${SUPPORTED_TYPES}`;
    // The files are read under the parent's own directory, its class link
    // read once: without all permissions Deno resolves every component of
    // each path it opens, and the link's three are then spared per file.
    // Messages still name the class path.
    const readDir = `${linkTarget(env.parentPath(parent))}/${SUPPORTED_TYPES}`;
    const shown = (path: string) => env.shownPath(typesDir + path.slice(readDir.length));
    let typeEntries: Deno.DirEntry[];
    try {
      typeEntries = [...Deno.readDirSync(typesDir)];
    } catch (e) {
      env.logger.warn(`Skipping parent ${parent}: ${describeError(e)}: ${quoted(env, typesDir)}`);
      continue;
    }
    const types: MdevType[] = [];
    for (const t of typeEntries) {
      if (!t.isDirectory) continue;
      try {
        types.push(readType(`${readDir}/${t.name}`, t.name, shown));
      } catch (e) {
        env.logger.warn(
          `Skipping mdev type ${quoted(env, `${typesDir}/${t.name}`)}: ${describeError(e)}`,
        );
      }
    }
    result.set(parent, types.sort((a, b) => compareBytes(a.name, b.name)));
  }
  return result;
}

const encoder = new TextEncoder();

/**
 * Writes `value` to an existing sysfs file in one write, without newline
 * (mdevctl.md §1.2). Never creates the file.
 */
function writeSysfs(path: string, value: string): void {
  const file = Deno.openSync(path, { write: true, truncate: true });
  try {
    const bytes = encoder.encode(value);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  } finally {
    file.close();
  }
}

/** True when `path` is a directory, following symlinks. */
export function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The parent's sysfs directory (mdevctl.md §1.8), with the case hint. */
export function resolveParentDir(env: Environment, parent: string): string {
  const path = env.parentPath(parent);
  if (isDirectory(path)) return path;
  let names: string[];
  try {
    names = [...Deno.readDirSync(env.parentBase)].map((e) => e.name);
  } catch (e) {
    throw new MdevError(`Unable to find parent device '${parent}'`, [describeError(e)]);
  }
  if (names.includes(parent)) {
    // The entry is there but leads nowhere: say so rather than suggest itself.
    throw new MdevError(`Unable to find parent device '${parent}'`, [
      `${quoted(env, path)} is not a directory`,
    ]);
  }
  const lower = parent.toLowerCase();
  const similar = names.find((n) => n.toLowerCase() === lower);
  if (similar !== undefined) {
    throw new MdevError(`Unable to find parent device '${parent}'. Did you mean '${similar}'?`);
  }
  throw new MdevError(`Unable to find parent device '${parent}'`);
}

/** True when the parent lists every one of `types` among its supported types. */
export function supportsTypes(env: Environment, parent: string, types: Iterable<string>): boolean {
  const base = `${env.parentPath(parent)}/${SUPPORTED_TYPES}`;
  return [...types].every((t) => isDirectory(`${base}/${t}`));
}

/**
 * Asks the kernel to create device `uuid` of `type` on `parent` (mdevctl.md §7
 * steps 3–5): the parent must be registered, support the type and have an
 * instance available; then the uuid is written to the type's `create`.
 */
export function createMdev(env: Environment, parent: string, type: string, uuid: string): void {
  const parentDir = resolveParentDir(env, parent);
  if (!isDirectory(`${parentDir}/${SUPPORTED_TYPES}`)) {
    throw new MdevError(`Parent ${parent} is not currently registered for mdev support`);
  }
  const typeDir = `${parentDir}/${SUPPORTED_TYPES}/${type}`;
  if (!isDirectory(typeDir)) {
    throw new MdevError(`Parent ${parent} does not support mdev type ${type}`);
  }
  let available: number;
  const instancesPath = `${typeDir}/available_instances`;
  try {
    available = parseI32(Deno.readTextFileSync(instancesPath).trim());
  } catch (e) {
    // Upstream's top line (the bare I/O or parse error), and which file (mdevctl.md §16.28).
    throw new MdevError(describeError(e), [`while reading ${quoted(env, instancesPath)}`]);
  }
  // Negative counts mean none too (mdevctl.md §0.8; upstream only refused 0).
  if (available <= 0) throw new MdevError(`No available instances of ${type} on ${parent}`);

  try {
    writeSysfs(`${typeDir}/create`, uuid);
  } catch (e) {
    throw MdevError.wrap(`Failed to create mdev ${uuid}, type ${type} on ${parent}`, e);
  }
}

/** Writes one attribute of a running device (mdevctl.md §7 step 6); it must exist. */
export function writeMdevAttribute(env: Environment, uuid: string, name: string, value: string) {
  const path = `${env.devicePath(uuid)}/${name}`;
  try {
    Deno.statSync(path);
  } catch {
    throw new MdevError(`Invalid attribute '${name}'`);
  }
  try {
    writeSysfs(path, value);
  } catch (e) {
    throw MdevError.wrap(`Failed to write ${value} to attribute ${name}`, e);
  }
}

/** Writes `1` to the device's `remove` file (mdevctl.md §5.5). */
export function removeMdev(env: Environment, uuid: string): void {
  try {
    writeSysfs(`${env.devicePath(uuid)}/remove`, "1");
  } catch (e) {
    throw MdevError.wrap(`Error removing device ${uuid}`, e);
  }
}

// --- Host-file facts (docs/hostfile.md): read-only, never throwing ---------

function linkBasename(path: string): string | undefined {
  try {
    return basename(Deno.readLinkSync(path));
  } catch {
    return undefined;
  }
}

function readTrimmed(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

/** What a host file's parent selector looks at (hostfile.md §2 `parents`). */
export interface ParentFacts {
  /** Basename of the `driver` link. */
  driver: string | undefined;
  /** `vendor` and `device` (PCI parents), trimmed. */
  vendor: string | undefined;
  device: string | undefined;
  /** Basename of the `physfn` link: the PF of an SR-IOV VF. */
  physfn: string | undefined;
  /**
   * The `subsystem` link points into a `bus/` directory: the parent is a bus
   * device (PCI, css, ap), which has a `driver` link whenever a driver is
   * bound; class devices (the mtty sample) never have one.
   */
  onBus: boolean;
}

/** The selector facts of a registered parent; absent files are `undefined`. */
export function parentFacts(env: Environment, parent: string): ParentFacts {
  const dir = env.parentPath(parent);
  return {
    driver: linkBasename(`${dir}/driver`),
    vendor: readTrimmed(`${dir}/vendor`),
    device: readTrimmed(`${dir}/device`),
    physfn: linkBasename(`${dir}/physfn`),
    onBus: linkPointsIntoBus(`${dir}/subsystem`),
  };
}

function linkPointsIntoBus(path: string): boolean {
  try {
    return /(^|\/)bus\/[^/]+\/?$/.test(Deno.readLinkSync(path));
  } catch {
    return false; // no subsystem link (fake trees, old kernels): not known to be on a bus
  }
}

/** The registered parent names (entries of `sys/class/mdev_bus`); none when it is missing. */
export function parentNames(env: Environment): string[] {
  return (readDirEntries(env, env.parentBase) ?? []).map((e) => e.name);
}

/** The running devices under a parent, uuid -> type, from its directory's children. */
export function runningOnParent(env: Environment, parent: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of parentChildNames(env, parent)) {
    const uuid = parseUuid(name);
    if (uuid === null) continue;
    const type = linkBasename(`${env.parentPath(parent)}/${name}/mdev_type`);
    if (type !== undefined) found.set(uuid, type);
  }
  return found;
}

/**
 * True when the running device's VFIO group is open elsewhere: opening
 * `/dev/vfio/<group>` read-write fails with EBUSY (libvirt's check before it
 * destroys a node device; hostfile.md §7). No group, or no VFIO node for it:
 * not in use. Any other failure to open it is warned about (the caller stops
 * the device anyway, as it would without the check).
 */
export function vfioGroupInUse(env: Environment, uuid: string): boolean {
  const group = linkBasename(`${env.devicePath(uuid)}/iommu_group`);
  if (group === undefined) return false;
  const path = env.vfioGroupPath(group);
  try {
    Deno.openSync(path, { read: true, write: true }).close();
    return false;
  } catch (e) {
    // Deno reports EBUSY from open(2) as a plain Error with code "EBUSY"
    // (checked on Deno 2.9), not as Deno.errors.Busy.
    if (e instanceof Deno.errors.Busy || (e as { code?: unknown }).code === "EBUSY") return true;
    if (isNotFound(e)) {
      env.logger.debug(`VFIO group ${group} of ${uuid}: no ${quoted(env, path)}`);
    } else {
      env.logger.warn(
        `cannot tell whether ${uuid} is in use: ${quoted(env, path)}: ${describeError(e)}`,
      );
    }
    return false;
  }
}

// Probes behind `wait` and `monitor` (monitor.md §2.1, §3.1): the reads are
// here with every other sysfs read; what they mean is decided in lib/monitor/.

/** Entry names of a sysfs directory that may be absent: none when missing. */
export function sysfsNames(env: Environment, path: string): string[] {
  return (readDirEntries(env, path) ?? []).map((e) => e.name);
}

/** `available_instances` of a type directory's file; unreadable counts as none. */
export function readAvailableInstances(file: string): number {
  try {
    return parseI32(Deno.readTextFileSync(file).trim());
  } catch {
    return 0;
  }
}

/** The IOMMU group a running device's `iommu_group` link names; null when absent. */
export function readIommuGroup(env: Environment, uuid: string): string | null {
  try {
    return basename(Deno.readLinkSync(`${env.devicePath(uuid)}/iommu_group`));
  } catch {
    return null;
  }
}

/**
 * The parent of a running device from where its directory really is (for a
 * device whose `mdev_type` link is not there yet); null when it is gone.
 */
export function runningDeviceParent(env: Environment, uuid: string): string | null {
  try {
    return basename(dirname(Deno.realPathSync(env.devicePath(uuid))));
  } catch {
    return null;
  }
}

/** The type ids of a registered parent (sorted), or null when it is not registered. */
export function registeredTypeIds(env: Environment, parent: string): string[] | null {
  const dir = `${env.parentPath(parent)}/${SUPPORTED_TYPES}`;
  try {
    const ids: string[] = [];
    for (const t of Deno.readDirSync(dir)) {
      if (t.isDirectory || (t.isSymlink && isDirectory(`${dir}/${t.name}`))) ids.push(t.name);
    }
    return ids.sort();
  } catch {
    return null;
  }
}

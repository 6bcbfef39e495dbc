/**
 * Running devices as the kernel shows them (mdevctl.md §1.4, §1.6): which
 * uuid runs where, with which type, looked up one at a time or scanned.
 */
import type { MdevDevice } from "../config.ts";
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { exists, isAbsent, readLinkOrNull } from "../fs_probe.ts";
import { groupByParent } from "../order.ts";
import { basename, dirname, resolvePath } from "../paths.ts";
import { parseUuid } from "../uuid.ts";
import { linkTarget, quoted, shower, SUPPORTED_TYPES, sysfsNames, typeDir } from "./layout.ts";

/** Where a running device lives. */
export interface ActiveInfo {
  /** The parent device's name. */
  parent: string;
  /** The mdev type's name. */
  type: string;
}

/** A device that runs, or half-runs: `type` is null while its `mdev_type` link is not there. */
export interface RunningInfo {
  /** The parent device's name. */
  parent: string;
  /** The mdev type's name; null for a half-created device. */
  type: string | null;
}

/** What a running device must match to count (unset fields match anything). */
export interface Expectation {
  /** The parent it must be a child of. */
  parent?: string | undefined;
  /** The type it must have. */
  type?: string | undefined;
}

/** A device found, with why its type is unknown when it is. */
type Found = RunningInfo & { why?: MdevError };

/** The directory a device's bus link leads to; null when there is no device. */
function deviceDir(env: Environment, uuid: string): string | null {
  // The kernel's links lead straight to the device and type directories, so
  // reading them gives what canonicalising would, at one call instead of one
  // per path component; anything unusual (no link) falls back to realpath.
  const link = env.devicePath(uuid);
  try {
    return resolvePath(dirname(link), Deno.readLinkSync(link));
  } catch (e) {
    if (isAbsent(e)) return null;
    try {
      return Deno.realPathSync(link);
    } catch (e2) {
      if (isAbsent(e2)) return null;
      // Upstream's bare top line, and which path (mdevctl.md §16.28).
      throw new MdevError(describeError(e2), [`while resolving ${quoted(env, link)}`]);
    }
  }
}

function lookUp(env: Environment, uuid: string, expect: Expectation): Found | null {
  const device = deviceDir(env, uuid);
  if (device === null) return null;
  const parent = basename(dirname(device));
  if (expect.parent !== undefined && expect.parent !== parent) return null;
  const typeLink = `${device}/mdev_type`;
  let type: string;
  try {
    type = basename(Deno.readLinkSync(typeLink));
  } catch (e) {
    // A dangling device link means no device.
    if (isAbsent(e) && !exists(device, shower(env))) return null;
    try {
      type = basename(Deno.realPathSync(typeLink));
    } catch (e2) {
      const why = new MdevError(describeError(e2), [`while resolving ${quoted(env, typeLink)}`]);
      // Created, but its type link is not there (yet): half-created.
      if (isAbsent(e2)) return { parent, type: null, why };
      throw why;
    }
  }
  if (expect.type !== undefined && expect.type !== type) return null;
  return { parent, type };
}

/**
 * The parent and type of a device that runs or half-runs (created, its
 * `mdev_type` link not there: type null); null when no device with that
 * uuid matching the expectation runs. Any failure to look other than
 * absence throws naming the path: the one "already running?" probe of
 * start, autostart, wait and the monitor.
 */
export function loadRunning(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): RunningInfo | null {
  const found = lookUp(env, uuid, expect);
  return found === null ? null : { parent: found.parent, type: found.type };
}

/**
 * The parent and type of a running device, or `null` when no running device
 * with that uuid matches the expectation (mdevctl.md §1.4). A device directory
 * without a readable `mdev_type` link throws.
 *
 * @example A running device in a fake sysfs tree
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, loadActive } from "../../mod.ts";
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
  const found = lookUp(env, uuid, expect);
  if (found === null) return null;
  if (found.type === null) throw found.why!;
  return { parent: found.parent, type: found.type };
}

/**
 * loadActive that turns a half-created device into a warning (mdevctl.md
 * §0.6); any other failure to look throws.
 */
export function loadActiveOrWarn(
  env: Environment,
  uuid: string,
  expect: Expectation = {},
): ActiveInfo | null {
  const found = lookUp(env, uuid, expect);
  if (found === null) return null;
  if (found.type === null) {
    env.logger.warn(
      `Ignoring mdev device ${quoted(env, env.devicePath(uuid))}: ${describeError(found.why)}`,
    );
    return null;
  }
  return { parent: found.parent, type: found.type };
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
    if (isAbsent(e) && !exists(device, shower(env))) return false;
    return loadActiveOrWarn(env, uuid, { parent, type }) !== null;
  }
}

/** Entry names of a parent's sysfs directory; none when it is not there. */
export function parentChildNames(env: Environment, parent: string): Set<string> {
  return new Set(sysfsNames(env, env.parentPath(parent)));
}

/**
 * Entry names of a type's `devices` directory, where the kernel links every
 * running device of that type (mdevctl.md §1.4): one listing instead of one
 * `mdev_type` link read per device. Empty when not there, or when `type` is
 * not a plain directory name.
 */
export function typeDeviceNames(env: Environment, parent: string, type: string): Set<string> {
  if (type === "" || type === "." || type === ".." || type.includes("/")) return new Set();
  return new Set(sysfsNames(env, `${typeDir(env, parent, type)}/devices`));
}

/** The running devices under a parent, uuid -> type, from its directory's children. */
export function runningOnParent(env: Environment, parent: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of parentChildNames(env, parent)) {
    const uuid = parseUuid(name);
    if (uuid === null) continue;
    const link = readLinkOrNull(`${env.parentPath(parent)}/${name}/mdev_type`, shower(env));
    if (link !== null) found.set(uuid, basename(link));
  }
  return found;
}

/** Which devices a scan keeps (unset fields keep all). */
export interface DeviceFilter {
  /** Only this uuid (canonical form). */
  uuid?: string | undefined;
  /** Only devices of this parent. */
  parent?: string | undefined;
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
  for (const p of sysfsNames(env, env.parentBase)) {
    const link = env.parentPath(p);
    // The parent the class link leads to (the entry itself when it is a directory).
    const parent = basename(linkTarget(env, link));
    for (const t of sysfsNames(env, `${link}/${SUPPORTED_TYPES}`)) {
      const info: ActiveInfo = { parent, type: t };
      for (const d of sysfsNames(env, `${link}/${SUPPORTED_TYPES}/${t}/devices`)) {
        found.set(d, info);
      }
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
 * import { Environment, scanActive } from "../../mod.ts";
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
  const entries = sysfsNames(env, env.mdevBase);
  const listed = filter.uuid === undefined && entries.length >= MANY_DEVICES
    ? listActiveByType(env)
    : undefined;
  for (const name of entries) {
    const uuid = parseUuid(name);
    if (uuid === null) {
      env.logger.warn(`Can't determine uuid for file '${name}'`);
      continue;
    }
    if (filter.uuid !== undefined && filter.uuid !== uuid) continue;
    const info = listed?.get(name) ?? loadActiveOrWarn(env, name);
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

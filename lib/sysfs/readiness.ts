/**
 * Readiness levels (monitor.md §3.1), decided in this one place: whether a
 * parent is registered, offers a type and has capacity, and whether a
 * device is active and usable. `start` (createMdev), `wait`, `start --wait`,
 * autostart and the monitor all ask here; what is missing comes with the
 * 1.x top line `start` fails with and the path waited for (§3.2).
 */
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { isAbsent, isDir, readDirOrNull, unreadable } from "../fs_probe.ts";
import { loadRunning } from "./active.ts";
import { quoted, shower, typeDir, typesDir } from "./layout.ts";
import { parseI32 } from "./types.ts";
import { vfioGroup } from "./vfio.ts";

/** What keeps a level from being reached. */
export interface Missing {
  /** The error's top line: 1.x wording where 1.x has one. */
  top: string;
  /** The file or directory waited for. */
  path: string;
  /** Which level failed: the parent entry, its types directory, the type, or capacity. */
  level?: "parent" | "registered" | "type" | "capacity";
  /**
   * For capacity: why the count could not be had (its file not there, or
   * garbled), as `start` reports it; unset when the count is merely <= 0.
   */
  error?: MdevError;
}

/**
 * `available_instances` of a type: the count, or the error `start` reports
 * when the file is not there or garbled; unreadable for another reason, an
 * error naming it.
 */
function readCapacity(env: Environment, file: string): number | MdevError {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (!isAbsent(e)) throw unreadable(file, e, shower(env));
    // Upstream's top line (the bare I/O error), and which file (mdevctl.md §16.28).
    return new MdevError(describeError(e), [`while reading ${quoted(env, file)}`]);
  }
  try {
    return parseI32(text.trim());
  } catch (e) {
    return new MdevError(describeError(e), [`while reading ${quoted(env, file)}`]);
  }
}

/**
 * parent-registered, then type-ready with `type`, then capacity with
 * `capacity`; null when reached.
 */
export function checkParent(
  env: Environment,
  parent: string,
  type?: string,
  capacity = false,
): Missing | null {
  const show = shower(env);
  const link = env.parentPath(parent);
  if (!isDir(link, show)) {
    return { top: `Unable to find parent device '${parent}'`, path: link, level: "parent" };
  }
  const types = typesDir(env, parent);
  if (!isDir(types, show)) {
    const top = `Parent ${parent} is not currently registered for mdev support`;
    return { top, path: types, level: "registered" };
  }
  if (type === undefined) return null;
  const dir = typeDir(env, parent, type);
  if (!isDir(dir, show)) {
    const top = `Parent ${parent} does not support mdev type ${type}`;
    return { top, path: dir, level: "type" };
  }
  if (!capacity) return null;
  const file = `${dir}/available_instances`;
  const available = readCapacity(env, file);
  const top = `No available instances of ${type} on ${parent}`;
  if (available instanceof MdevError) {
    return { top, path: file, level: "capacity", error: available };
  }
  // Negative counts mean none too (mdevctl.md §0.8; upstream only refused 0).
  if (available <= 0) return { top, path: file, level: "capacity" };
  return null;
}

/** The type ids of a registered parent (sorted), or null when it is not registered. */
export function registeredTypeIds(env: Environment, parent: string): string[] | null {
  if (checkParent(env, parent) !== null) return null;
  const dir = typesDir(env, parent);
  const show = shower(env);
  // Gone since the check: not registered (any other failure throws).
  const entries = readDirOrNull(dir, show);
  if (entries === null) return null;
  const ids: string[] = [];
  for (const t of entries) {
    if (t.isDirectory || (t.isSymlink && isDir(`${dir}/${t.name}`, show))) ids.push(t.name);
  }
  return ids.sort();
}

/** Where a device is expected to run (its definition). */
export interface Placement {
  parent: string;
  type: string;
}

/**
 * device-active: the device exists, its `mdev_type` leads to the expected
 * parent and type (any of `expected`, or any at all when empty), and its
 * IOMMU group and `/dev/vfio/<group>` exist.
 */
export function checkDevice(
  env: Environment,
  uuid: string,
  expected: readonly Placement[] = [],
): Missing | null {
  const dev = env.devicePath(uuid);
  const running = loadRunning(env, uuid);
  if (running === null) {
    // While the parent or type is missing, that is what start would say.
    if (expected.length === 1) {
      const why = checkParent(env, expected[0]!.parent, expected[0]!.type);
      if (why !== null) return why;
    }
    return { top: `Mediated device ${uuid} is not active`, path: dev };
  }
  if (running.type === null) {
    // Created, but its mdev_type link is not there yet (it lags the add uevent).
    return { top: `Mediated device ${uuid} is not active`, path: `${dev}/mdev_type` };
  }
  if (
    expected.length > 0 &&
    !expected.some((p) => p.parent === running.parent && p.type === running.type)
  ) {
    const top = expected.some((p) => p.parent === running.parent)
      ? "Device exists with different type"
      : "Device exists under different parent";
    return { top, path: dev };
  }
  const group = vfioGroup(env, uuid, false);
  if (group.state !== "present") {
    return { top: `Mediated device ${uuid} is not ready`, path: group.path };
  }
  return null;
}

/**
 * Readiness levels (spec monitor.md §3.1) read from sysfs, and what is
 * missing when a level is not reached: the 1.x top line `start` would fail
 * with and the path being waited for (§3.2).
 */
import type { Environment } from "../environment.ts";
import {
  existsSync,
  isDirectory,
  loadActive,
  readAvailableInstances,
  readIommuGroup,
  SUPPORTED_TYPES,
} from "../sysfs.ts";

/** What keeps a level from being reached. */
export interface Missing {
  /** The error's top line: 1.x wording where 1.x has one. */
  top: string;
  /** The file or directory waited for. */
  path: string;
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
  const link = env.parentPath(parent);
  if (!isDirectory(link)) return { top: `Unable to find parent device '${parent}'`, path: link };
  const types = `${link}/${SUPPORTED_TYPES}`;
  if (!isDirectory(types)) {
    return { top: `Parent ${parent} is not currently registered for mdev support`, path: types };
  }
  if (type === undefined) return null;
  const typeDir = `${types}/${type}`;
  if (!isDirectory(typeDir)) {
    return { top: `Parent ${parent} does not support mdev type ${type}`, path: typeDir };
  }
  if (!capacity) return null;
  const file = `${typeDir}/available_instances`;
  const available = readAvailableInstances(file);
  // Negative counts mean none (decision §0.8).
  if (available <= 0) return { top: `No available instances of ${type} on ${parent}`, path: file };
  return null;
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
  let info;
  try {
    info = loadActive(env, uuid);
  } catch {
    // Created, but its mdev_type link is not there yet (it lags the add uevent).
    return { top: `Mediated device ${uuid} is not active`, path: `${dev}/mdev_type` };
  }
  if (info === null) {
    // While the parent or type is missing, that is what start would say.
    if (expected.length === 1) {
      const why = checkParent(env, expected[0]!.parent, expected[0]!.type);
      if (why !== null) return why;
    }
    return { top: `Mediated device ${uuid} is not active`, path: dev };
  }
  const running = info;
  if (
    expected.length > 0 &&
    !expected.some((p) => p.parent === running.parent && p.type === running.type)
  ) {
    const top = expected.some((p) => p.parent === running.parent)
      ? "Device exists with different type"
      : "Device exists under different parent";
    return { top, path: dev };
  }
  const groupLink = `${dev}/iommu_group`;
  const group = readIommuGroup(env, uuid);
  if (group === null) return { top: `Mediated device ${uuid} is not ready`, path: groupLink };
  const vfio = env.vfioGroupPath(group);
  if (!existsSync(vfio)) return { top: `Mediated device ${uuid} is not ready`, path: vfio };
  return null;
}

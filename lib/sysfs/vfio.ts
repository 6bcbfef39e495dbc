/**
 * A running device's VFIO group (monitor.md §3.1 device-active; hostfile.md
 * §7 "in use"): its `iommu_group` link and `/dev/vfio/<group>` node, read in
 * one place.
 */
import type { Environment } from "../environment.ts";
import { describeError } from "../errors.ts";
import { exists, openProbe, readLinkOrNull } from "../fs_probe.ts";
import { basename } from "../paths.ts";
import { quoted, shower } from "./layout.ts";

/** What a device's VFIO group looks like. */
export interface VfioGroup {
  /**
   * `no-group`: no `iommu_group` link; `no-node`: no `/dev/vfio/<group>`;
   * `present`: the node exists (not opened); `free` / `busy`: opening it
   * read-write succeeded / failed with EBUSY (open elsewhere); `unknown`:
   * opening it failed otherwise (warned).
   */
  state: "no-group" | "no-node" | "present" | "free" | "busy" | "unknown";
  /** The path the state is about: the link for `no-group`, else the node. */
  path: string;
}

/**
 * The VFIO group of running device `uuid`. With `open`, the node is opened
 * read-write and closed again, as libvirt checks before it destroys a node
 * device; without, only its existence is looked at (a readiness poll must
 * not hold the group even briefly).
 */
export function vfioGroup(env: Environment, uuid: string, open: boolean): VfioGroup {
  const link = `${env.devicePath(uuid)}/iommu_group`;
  const target = readLinkOrNull(link, shower(env));
  if (target === null) return { state: "no-group", path: link };
  const path = env.vfioGroupPath(basename(target));
  if (!open) return { state: exists(path, shower(env)) ? "present" : "no-node", path };
  const probe = openProbe(path);
  if (probe === "free" || probe === "busy") return { state: probe, path };
  if (probe === "absent") return { state: "no-node", path };
  // The check is advisory (the caller stops the device anyway, as it would
  // without it): said on stderr, not fatal.
  env.logger.warn(
    `cannot tell whether ${uuid} is in use: ${quoted(env, path)}: ${describeError(probe.error)}`,
  );
  return { state: "unknown", path };
}

/**
 * True when the running device's VFIO group is open elsewhere (hostfile.md
 * §7). No group, or no VFIO node for it: not in use.
 */
export function vfioGroupInUse(env: Environment, uuid: string): boolean {
  const group = vfioGroup(env, uuid, true);
  if (group.state === "no-node") {
    env.logger.debug(`VFIO group of ${uuid}: no ${quoted(env, group.path)}`);
  }
  return group.state === "busy";
}

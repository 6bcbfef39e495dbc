/**
 * Where things are in sysfs (mdevctl.md §1.2, §5.7) and how its paths are
 * named in messages: the pieces every lib/sysfs/ module shares.
 */
import type { Environment } from "../environment.ts";
import { isAbsent, readDirOrNull, unreadable } from "../fs_probe.ts";
import { dirname, quotePath, resolvePath } from "../paths.ts";

/** A parent's directory of the types it supports (mdevctl.md §5.7). */
export const SUPPORTED_TYPES = "mdev_supported_types";

/** A sysfs path quoted for a message, where it is (not the sandbox's view of it). */
export function quoted(env: Environment, path: string): string {
  return quotePath(env.shownPath(path));
}

/** How a sysfs path is named in messages (for lib/fs_probe.ts). */
export function shower(env: Environment): (path: string) => string {
  return (path) => env.shownPath(path);
}

/** A parent's `mdev_supported_types` directory, through its class entry. */
export function typesDir(env: Environment, parent: string): string {
  return `${env.parentPath(parent)}/${SUPPORTED_TYPES}`;
}

/** One supported type's directory, through the parent's class entry. */
export function typeDir(env: Environment, parent: string, type: string): string {
  return `${typesDir(env, parent)}/${type}`;
}

/**
 * Where the symlink `path` leads (lexically), or `path` itself when it is no
 * link (EINVAL) or not there; any other failure throws naming the path.
 */
export function linkTarget(env: Environment, path: string): string {
  try {
    return resolvePath(dirname(path), Deno.readLinkSync(path));
  } catch (e) {
    if (isAbsent(e) || (e as { code?: unknown }).code === "EINVAL") return path;
    throw unreadable(path, e, shower(env));
  }
}

/** Entry names of a directory under sysfs; none when it is not there. */
export function sysfsNames(env: Environment, path: string): string[] {
  return (readDirOrNull(path, shower(env)) ?? []).map((e) => e.name);
}

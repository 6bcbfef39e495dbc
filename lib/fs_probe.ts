/**
 * The one rule for "is it there?" (docs/behaviour.md, "Unreadable paths"):
 * only a path that is not there counts as absent; any other failure to look
 * (permission, I/O, a sandbox refusal) surfaces as an error naming the path,
 * so an unreadable host gives an error, never a shorter answer.
 *
 * "Not there" is NotFound (ENOENT), and ENODEV, which sysfs returns for a
 * device that went away between listing and reading it. ENOTDIR is not: a
 * directory listing of a file is a broken host, reported as such.
 */
import { describeError, MdevError } from "./errors.ts";
import { quotePath } from "./paths.ts";

/** How a path is named in messages (the sandbox's view of sysfs is shown as /sys). */
export type ShowPath = (path: string) => string;

const asIs: ShowPath = (path) => path;

/**
 * True when `error` means the path is not there (see the module comment).
 *
 * @example
 * ```ts
 * import { isAbsent } from "./fs_probe.ts";
 *
 * console.assert(isAbsent(new Deno.errors.NotFound("x")));
 * console.assert(!isAbsent(new Deno.errors.PermissionDenied("x")));
 * ```
 */
export function isAbsent(error: unknown): boolean {
  if (error instanceof Deno.errors.NotFound) return true;
  return (error as { code?: unknown } | null)?.code === "ENODEV";
}

/**
 * The error for a path that could not be read: one line,
 * `Unable to read "<path>": <reason>`.
 */
export function unreadable(path: string, error: unknown, show: ShowPath = asIs): MdevError {
  return new MdevError(`Unable to read ${quotePath(show(path))}: ${describeError(error)}`);
}

/** `read(path)`, or null when the path is not there; any other failure throws `unreadable`. */
function orNull<T>(read: (path: string) => T, path: string, show: ShowPath): T | null {
  try {
    return read(path);
  } catch (e) {
    if (isAbsent(e)) return null;
    throw unreadable(path, e, show);
  }
}

/** Metadata of `path` (following symlinks), or null when it is not there. */
export function statOrNull(path: string, show: ShowPath = asIs): Deno.FileInfo | null {
  return orNull(Deno.statSync, path, show);
}

/** Metadata of `path` itself (a symlink is not followed), or null when it is not there. */
export function lstatOrNull(path: string, show: ShowPath = asIs): Deno.FileInfo | null {
  return orNull(Deno.lstatSync, path, show);
}

/** True when `path` exists, following symlinks (a dangling link is absent). */
export function exists(path: string, show: ShowPath = asIs): boolean {
  return statOrNull(path, show) !== null;
}

/** True when `path` is a directory, following symlinks. */
export function isDir(path: string, show: ShowPath = asIs): boolean {
  return statOrNull(path, show)?.isDirectory ?? false;
}

/** The entries of directory `path`, or null when it is not there. */
export function readDirOrNull(path: string, show: ShowPath = asIs): Deno.DirEntry[] | null {
  return orNull((p) => [...Deno.readDirSync(p)], path, show);
}

/** The text of file `path`, or null when it is not there. */
export function readTextOrNull(path: string, show: ShowPath = asIs): string | null {
  return orNull(Deno.readTextFileSync, path, show);
}

/** The target of symlink `path` as written, or null when it is not there. */
export function readLinkOrNull(path: string, show: ShowPath = asIs): string | null {
  return orNull(Deno.readLinkSync, path, show);
}

/**
 * Opens `path` read-write and closes it again, as libvirt checks a VFIO
 * device or group before it takes it away: `free`, `busy` (EBUSY: held open
 * elsewhere) or `absent`; any other failure is handed back for the caller
 * to judge (the in-use checks only warn).
 *
 * @example
 * ```ts
 * import { openProbe } from "./fs_probe.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/group`, "");
 * console.assert(openProbe(`${dir}/group`) === "free");
 * console.assert(openProbe(`${dir}/none`) === "absent");
 * ```
 */
export function openProbe(path: string): "free" | "busy" | "absent" | { error: unknown } {
  try {
    Deno.openSync(path, { read: true, write: true }).close();
    return "free";
  } catch (e) {
    // Deno reports EBUSY from open(2) as a plain Error with code "EBUSY"
    // (checked on Deno 2.9), not as Deno.errors.Busy.
    if (e instanceof Deno.errors.Busy || (e as { code?: unknown }).code === "EBUSY") return "busy";
    if (isAbsent(e)) return "absent";
    return { error: e };
  }
}

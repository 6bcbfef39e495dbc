/**
 * Replacing a file so that readers see the old or the new bytes, never a part
 * (mdevctl.md §0.5), and clearing what killed writers left behind.
 */

const encoder = new TextEncoder();

/**
 * Replaces a file atomically: temporary file flushed, renamed over the
 * target, directory synced (mdevctl.md §0.5).
 *
 * The temporary file goes into `staging` when given: a directory beside the
 * target's tree on the same filesystem, created when missing and removed
 * again when empty, so that a watcher of the target's directory (libvirt
 * watches /etc/mdevctl.d and every directory below it) sees only the finished
 * file arrive: one event to act on instead of two (docs/behaviour.md).
 * Staging is only an optimisation: when it cannot be used (not creatable or
 * not permitted, another filesystem or mount, so the rename fails), the
 * temporary file goes beside the target.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { writeFileAtomic } from "../mod.ts";
 *
 * const path = `${Deno.makeTempDirSync()}/file`;
 * writeFileAtomic(path, "old");
 * writeFileAtomic(path, "new");
 * deepEqual(Deno.readTextFileSync(path), "new");
 * ```
 */
export function writeFileAtomic(path: string, data: string, staging?: string): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const name = path.slice(dir.length + 1);
  if (staging === undefined || !writeStaged(path, name, data, staging)) {
    writeAndRename(`${dir}/.${name}.${crypto.randomUUID()}.tmp`, path, data);
  }
  syncDir(dir);
}

/**
 * Creates the directory `dir`, which must not exist, with its first file
 * `name` (holding `data`) already inside: built in `staging` (see
 * writeFileAtomic), renamed into place whole, the parent directory synced. A
 * watcher then sees one directory arrive instead of an empty one and, a moment
 * later, a file in it (two refreshes for libvirt when the gap exceeds its
 * 100 ms coalescing). False, with nothing left behind, when staging cannot be
 * used here: the caller then creates the directory and writes the file.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { writeNewDirAtomic } from "../mod.ts";
 *
 * const root = Deno.makeTempDirSync();
 * deepEqual(writeNewDirAtomic(`${root}/parent`, "file", "data", `${root}/.staging`), true);
 * deepEqual(Deno.readTextFileSync(`${root}/parent/file`), "data");
 * ```
 */
export function writeNewDirAtomic(
  dir: string,
  name: string,
  data: string,
  staging: string,
): boolean {
  if (!openStaging(staging)) return false;
  const tmpDir = `${staging}/.${dir.slice(dir.lastIndexOf("/") + 1)}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(tmpDir);
    writeWhole(`${tmpDir}/${name}`, data);
    syncDir(tmpDir);
    Deno.renameSync(tmpDir, dir);
  } catch {
    // The caller falls back to the in-place write, which reports its own errors.
    try {
      Deno.removeSync(tmpDir, { recursive: true });
    } catch {
      // never created
    }
    return false;
  } finally {
    closeStaging(staging);
  }
  syncDir(dir.slice(0, dir.lastIndexOf("/")) || ".");
  return true;
}

/** Writes through `staging`; false (nothing left behind) when that cannot work here. */
function writeStaged(path: string, name: string, data: string, staging: string): boolean {
  if (!openStaging(staging)) return false;
  try {
    writeAndRename(`${staging}/.${name}.${crypto.randomUUID()}.tmp`, path, data);
    return true;
  } catch {
    return false; // the caller falls back to writing beside the file, which reports errors
  } finally {
    closeStaging(staging);
  }
}

/**
 * Makes sure `staging` is a directory and clears what killed writers left
 * there (called under the lock: no writer can be midway).
 */
function openStaging(staging: string): boolean {
  try {
    Deno.mkdirSync(staging, { mode: 0o755 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) return false;
    try {
      if (!Deno.lstatSync(staging).isDirectory) return false; // not ours: leave it alone
    } catch {
      return false; // cannot use the staging directory: the caller writes beside the file
    }
    try {
      for (const entry of Deno.readDirSync(staging)) {
        if (!isTempName(entry.name)) continue;
        Deno.removeSync(`${staging}/${entry.name}`, { recursive: entry.isDirectory });
      }
    } catch {
      // best effort: nothing there is ever read
    }
  }
  return true;
}

function closeStaging(staging: string): void {
  try {
    Deno.removeSync(staging); // only when empty: no litter beside the config base
  } catch {
    // not empty (someone else's file) or already gone
  }
}

function writeAndRename(tmp: string, path: string, data: string): void {
  try {
    writeWhole(tmp, data);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
}

/** Creates `path` (which must not exist) with `data`, flushed to disk. */
function writeWhole(path: string, data: string): void {
  const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o666 });
  try {
    const bytes = encoder.encode(data);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    file.syncDataSync();
  } finally {
    file.close();
  }
}

const TEMP_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The name writeFileAtomic gives its temporary file (`.<name>.<uuid>.tmp`). */
export function isTempName(name: string): boolean {
  // Every definition file of a listing is asked: the dot decides most without the regex.
  return name.charCodeAt(0) === 0x2e && TEMP_NAME.test(name);
}

/**
 * Removes temporary files that killed writers left in `dir`. Only called
 * under the lock (withLock): no other writer can be midway then.
 */
export function removeStaleTemps(dir: string): void {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && isTempName(entry.name)) Deno.removeSync(`${dir}/${entry.name}`);
    }
  } catch {
    // best effort: a leftover is skipped by every scan anyway
  }
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

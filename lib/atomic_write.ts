/**
 * Replacing a file so that readers see the old or the new bytes, never a part
 * (mdevctl.md §0.5), and clearing what killed writers left behind.
 */

const encoder = new TextEncoder();

/**
 * Replaces a file atomically: temporary file in the same directory, flushed,
 * renamed over the target, directory synced (mdevctl.md §0.5).
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
export function writeFileAtomic(path: string, data: string): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const tmp = `${dir}/.${path.slice(dir.length + 1)}.${crypto.randomUUID()}.tmp`;
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o666 });
  try {
    try {
      const bytes = encoder.encode(data);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncDataSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
  syncDir(dir);
}

const TEMP_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The name writeFileAtomic gives its temporary file (`.<name>.<uuid>.tmp`). */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
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

/**
 * The host-wide lock (mdevctl.md §0.5): one exclusive lock on
 * `run/lock/mdevctl.lock` serialises every read-modify-write.
 */
import type { Environment } from "./environment.ts";
import { isNotFound, MdevError } from "./errors.ts";
import { quotePath } from "./paths.ts";

/**
 * Runs `action` holding the host-wide exclusive lock, so that concurrent
 * invocations (udev, libvirt, a person) never interleave read-modify-write.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, withLock } from "../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * deepEqual(await withLock(env, () => 42), 42);
 * ```
 */
export async function withLock<T>(env: Environment, action: () => T | Promise<T>): Promise<T> {
  const path = env.lockFile;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (e) {
    if (!isNotFound(e)) throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e);
    try {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e2) {
      throw MdevError.wrap(`Unable to open lock file ${quotePath(path)}`, e2);
    }
  }
  try {
    // Blocking is right here: there is nothing else to do until it is ours.
    file.lockSync(true);
    return await action();
  } finally {
    file.close();
  }
}

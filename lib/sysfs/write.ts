/**
 * Writing the kernel's control files (mdevctl.md §1.2, §5.5, §7): creating
 * a device, setting its attributes, removing it.
 */
import type { Environment } from "../environment.ts";
import { MdevError } from "../errors.ts";
import { statOrNull } from "../fs_probe.ts";
import { shower, typeDir } from "./layout.ts";
import { resolveParentDir } from "./parents.ts";
import { checkParent } from "./readiness.ts";

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

/**
 * Asks the kernel to create device `uuid` of `type` on `parent` (mdevctl.md §7
 * steps 3–5): the parent must be registered, support the type and have an
 * instance available (lib/sysfs/readiness.ts decides); then the uuid is
 * written to the type's `create`.
 */
export function createMdev(env: Environment, parent: string, type: string, uuid: string): void {
  const missing = checkParent(env, parent, type, true);
  if (missing !== null) {
    // A parent that is not there: with the case hint of mdevctl.md §1.8.
    if (missing.level === "parent") resolveParentDir(env, parent);
    throw missing.error ?? new MdevError(missing.top);
  }
  try {
    writeSysfs(`${typeDir(env, parent, type)}/create`, uuid);
  } catch (e) {
    throw MdevError.wrap(`Failed to create mdev ${uuid}, type ${type} on ${parent}`, e);
  }
}

/** Writes one attribute of a running device (mdevctl.md §7 step 6); it must exist. */
export function writeMdevAttribute(env: Environment, uuid: string, name: string, value: string) {
  const path = `${env.devicePath(uuid)}/${name}`;
  if (statOrNull(path, shower(env)) === null) throw new MdevError(`Invalid attribute '${name}'`);
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

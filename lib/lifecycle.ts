/**
 * The steps the commands share (mdevctl.md §5, §7): looking devices up
 * (§1.7), starting a device and writing a definition inside their callout
 * brackets, stopping, undefining.
 */
import { runBracket } from "./callouts/bracket.ts";
import type { Attr, MdevDevice } from "./config.ts";
import { deviceConfig, newDevice } from "./config.ts";
import { definitionReader, removeConfig, scanDefined, writeConfig } from "./config_store.ts";
import type { Environment } from "./environment.ts";
import { causeChain, MdevError } from "./errors.ts";
import { checkAttrNames, checkName } from "./names.ts";
import { quotePath } from "./paths.ts";
import { loadActive, loadRunning, scanActive } from "./sysfs/active.ts";
import { createMdev, removeMdev, writeMdevAttribute } from "./sysfs/write.ts";

/** The one definition of a uuid (mdevctl.md §1.7 "defined lookup"). */
export function lookupDefined(
  env: Environment,
  uuid: string,
  parent: string | undefined,
): MdevDevice {
  const groups = scanDefined(env, { uuid, parent }, { includeInvalid: true });
  const where = parent === undefined ? uuid : `${parent}/${uuid}`;
  if (groups.size === 0) throw new MdevError(`Mediated device ${where} is not defined`);
  if (groups.size > 1) {
    throw new MdevError(
      parent === undefined
        ? `Multiple definitions found for ${uuid}, specify a parent`
        : `Multiple definitions found for ${where}`,
    );
  }
  const [found, devices] = [...groups][0]!;
  if (devices.length > 1) throw new MdevError(`Multiple definitions found for ${found}/${uuid}`);
  const device = devices[0]!;
  if (device.invalid !== undefined) {
    throw new MdevError(`Invalid config file ${quotePath(device.configPath ?? "")}`, [
      device.invalid,
    ]);
  }
  return device;
}

/** The one running device of a uuid (mdevctl.md §1.7 "active lookup"). */
export function lookupActive(
  env: Environment,
  uuid: string,
  parent: string | undefined,
): MdevDevice {
  const groups = scanActive(env, { uuid, parent }, definitionReader(env));
  const where = parent === undefined ? uuid : `${parent}/${uuid}`;
  if (groups.size === 0) throw new MdevError(`Mediated device ${where} is not active`);
  if (groups.size > 1) throw new MdevError(`Multiple parents found for ${uuid}. System error?`);
  const [found, devices] = [...groups][0]!;
  if (devices.length > 1) throw new MdevError(`Multiple definitions found for ${found}/${uuid}`);
  return devices[0]!;
}

/**
 * Creates a fully specified device and applies its attributes in order,
 * removing it again when an attribute fails (mdevctl.md §7).
 */
export function createDevice(env: Environment, device: MdevDevice): void {
  const { uuid, parent, type } = device;
  if (parent === undefined) throw new MdevError(`Device ${uuid} is missing a parent`);
  if (type === undefined) throw new MdevError(`Device ${uuid} is missing a mdev_type`);
  // Stored configs are written by hand too: nothing unchecked is joined onto a path.
  checkName("parent", parent);
  checkName("type", type);
  checkAttrNames(device.attrs);

  // A half-created device (no type yet) is left to the kernel to refuse.
  const running = loadRunning(env, uuid);
  if (running !== null && running.type !== null) {
    if (running.parent !== parent) throw new MdevError("Device exists under different parent");
    if (running.type !== type) throw new MdevError("Device exists with different type");
    throw new MdevError("Device already exists");
  }

  createMdev(env, parent, type, uuid);

  try {
    applyAttributes(env, uuid, device.attrs);
  } catch (attrError) {
    try {
      removeMdev(env, uuid);
    } catch (removeError) {
      // Both matter: why the start failed and why the device is still there.
      const chain = causeChain(attrError);
      throw new MdevError(chain[0]!, [
        ...chain.slice(1),
        ...causeChain(removeError).map((m, i) => i === 0 ? `rollback failed as well: ${m}` : m),
      ]);
    }
    throw attrError;
  }
}

function applyAttributes(env: Environment, uuid: string, attrs: readonly Attr[]): void {
  for (const [name, value] of attrs) writeMdevAttribute(env, uuid, name, value);
}

/**
 * Stops a running device through the stop bracket (mdevctl.md §5.5). `false`, with
 * nothing done, when no device with that uuid is running.
 */
export async function stopActive(env: Environment, uuid: string, force: boolean): Promise<boolean> {
  const running = loadActive(env, uuid);
  if (running === null) return false;
  const device = newDevice(uuid, { parent: running.parent, type: running.type, active: true });
  await runBracket(env, device, "stop", force, () => removeMdev(env, uuid));
  return true;
}

/**
 * Removes one definition through the undefine bracket (mdevctl.md §5.2). A config
 * that cannot be read has no type to tell callouts about: it is removed
 * directly, with a warning.
 */
export async function undefineDevice(
  env: Environment,
  device: MdevDevice,
  force: boolean,
): Promise<void> {
  if (device.invalid !== undefined) {
    env.logger.warn(`Removing unreadable config ${device.configPath}: ${device.invalid}`);
    removeConfig(env, device);
    return;
  }
  await runBracket(env, device, "undefine", force, () => removeConfig(env, device));
}

/**
 * Starts a fully specified device inside the start bracket (mdevctl.md §5.4, §7):
 * the one start step of start, start-parent-mdevs, create-mdev and start-mdev.
 */
export async function startDevice(env: Environment, device: MdevDevice, force: boolean) {
  await runBracket(env, device, "start", force, () => createDevice(env, device));
}

/**
 * Writes a device's definition inside the `define` or `modify` bracket
 * (mdevctl.md §5.1, §5.3): the one write step of define, modify and create-mdev.
 * With `activeAttributes`, a running device's attributes reported by its
 * callout are added to the definition first (define of a running device).
 */
export async function writeDefinition(
  env: Environment,
  device: MdevDevice,
  action: "define" | "modify",
  force: boolean,
  options: { activeAttributes?: boolean } = {},
): Promise<void> {
  await runBracket(env, device, action, force, async (bracket) => {
    if (options.activeAttributes && device.active) {
      device.attrs = [...device.attrs, ...await bracket.getAttributes(device)];
    }
    writeConfig(env, device, deviceConfig(device));
  });
}

/**
 * Starts one auto-start device through the start bracket unless it already
 * runs; says which on stderr. Call it holding the lock. Used by
 * `start-parent-mdevs` and `wait --all-auto --start-missing`.
 */
export async function startAutostart(env: Environment, device: MdevDevice): Promise<void> {
  const what = `mdev ${device.uuid} (type ${device.type}) on parent ${device.parent}`;
  try {
    // A device whose state cannot be read fails alone; the others still start (§0.6).
    const running = loadRunning(env, device.uuid);
    if (running !== null && running.parent === device.parent && running.type === device.type) {
      env.stderr(`Already running: ${what}\n`);
      return;
    }
    await startDevice(env, device, false);
    env.stderr(`Started ${what}\n`);
  } catch (e) {
    env.stderr(`Failed to start ${what}\n`);
    for (const message of causeChain(e)) env.logger.warn(message);
  }
}

/**
 * Creating and removing running devices (spec §7, §5.5) and looking devices
 * up (§1.7, §1.8): the steps the lifecycle commands share.
 */
import { runBracket } from "./callouts.ts";
import type { Attr, MdevConfig, MdevDevice } from "./config.ts";
import { newDevice, parseConfig } from "./config.ts";
import { definitionReader, removeConfig, scanDefined } from "./config_store.ts";
import type { Environment } from "./environment.ts";
import { causeChain, describeError, MdevError } from "./errors.ts";
import { checkName } from "./names.ts";
import { warn } from "./logger.ts";
import { quotePath } from "./paths.ts";
import type { ActiveInfo } from "./sysfs.ts";
import { isDirectory, loadActive, parseI32, scanActive, writeSysfs } from "./sysfs.ts";

/** Checks every attribute name of a config before anything is written (decision §0.4). */
export function checkAttrNames(attrs: readonly Attr[]): void {
  for (const [name] of attrs) checkName("attribute", name);
}

/** What a `--jsonfile` is read from: a file, or our own stdin. */
export type JsonSource = { readable: ReadableStream<Uint8Array> };

/**
 * `/dev/stdin` is read from the standard input we already hold (libvirt pipes
 * the config in): no second open, and read exactly once.
 */
function isStdin(path: string): boolean {
  return path === "/dev/stdin" || path === "/proc/self/fd/0";
}

/** Opens a `--jsonfile` (the open check of define/modify, spec §5.1 A.1). */
export async function openJsonFile(path: string): Promise<JsonSource> {
  if (isStdin(path)) return Deno.stdin;
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    throw MdevError.wrap(`Unable to read file ${quotePath(path)}`, e);
  }
}

/** Reads and validates a `--jsonfile` from an open handle (read exactly once). */
export async function readJsonConfig(file: JsonSource, path: string): Promise<MdevConfig> {
  let text: string;
  try {
    const bytes = await new Response(file.readable).bytes();
    // A byte order mark is kept, so it is refused as in stored configs and upstream.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw MdevError.wrap(`Unable to read jsonfile ${quotePath(path)}`, e);
  }
  const config = parseConfig(text);
  checkName("type", config.type);
  checkAttrNames(config.attrs);
  return config;
}

/** Opens and reads a `--jsonfile` in one go (start, spec §5.4 A). */
export async function loadJsonConfig(path: string): Promise<MdevConfig> {
  if (isStdin(path)) return await readJsonConfig(Deno.stdin, path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw MdevError.wrap(`Unable to read jsonfile ${quotePath(path)}`, e);
  }
  return await readJsonConfig(file, path);
}

/** The one definition of a uuid (spec §1.7 "defined lookup"). */
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

/** The one running device of a uuid (spec §1.7 "active lookup"). */
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

/** The parent's sysfs directory (spec §1.8), with the case hint. */
export function resolveParentDir(env: Environment, parent: string): string {
  const path = env.parentPath(parent);
  if (isDirectory(path)) return path;
  let names: string[];
  try {
    names = [...Deno.readDirSync(env.parentBase)].map((e) => e.name);
  } catch (e) {
    throw new MdevError(`Unable to find parent device '${parent}'`, [describeError(e)]);
  }
  if (names.includes(parent)) {
    // The entry is there but leads nowhere: say so rather than suggest itself.
    throw new MdevError(`Unable to find parent device '${parent}'`, [
      `${quotePath(path)} is not a directory`,
    ]);
  }
  const lower = parent.toLowerCase();
  const similar = names.find((n) => n.toLowerCase() === lower);
  if (similar !== undefined) {
    throw new MdevError(`Unable to find parent device '${parent}'. Did you mean '${similar}'?`);
  }
  throw new MdevError(`Unable to find parent device '${parent}'`);
}

/** Writes `1` to the device's `remove` file (spec §5.5). */
export function removeDevice(env: Environment, uuid: string): void {
  try {
    writeSysfs(`${env.devicePath(uuid)}/remove`, "1");
  } catch (e) {
    throw MdevError.wrap(`Error removing device ${uuid}`, e);
  }
}

/**
 * Creates a fully specified device and applies its attributes in order,
 * removing it again when an attribute fails (spec §7).
 */
export function createDevice(env: Environment, device: MdevDevice): void {
  const { uuid, parent, type } = device;
  if (parent === undefined) throw new MdevError(`Device ${uuid} is missing a parent`);
  if (type === undefined) throw new MdevError(`Device ${uuid} is missing a mdev_type`);
  // Stored configs are written by hand too: nothing unchecked is joined onto a path.
  checkName("parent", parent);
  checkName("type", type);
  checkAttrNames(device.attrs);

  let running: ActiveInfo | null;
  try {
    running = loadActive(env, uuid);
  } catch {
    running = null;
  }
  if (running !== null) {
    if (running.parent !== parent) throw new MdevError("Device exists under different parent");
    if (running.type !== type) throw new MdevError("Device exists with different type");
    throw new MdevError("Device already exists");
  }

  const parentDir = resolveParentDir(env, parent);
  if (!isDirectory(`${parentDir}/mdev_supported_types`)) {
    throw new MdevError(`Parent ${parent} is not currently registered for mdev support`);
  }
  const typeDir = `${parentDir}/mdev_supported_types/${type}`;
  if (!isDirectory(typeDir)) {
    throw new MdevError(`Parent ${parent} does not support mdev type ${type}`);
  }
  let available: number;
  const instancesPath = `${typeDir}/available_instances`;
  try {
    available = parseI32(Deno.readTextFileSync(instancesPath).trim());
  } catch (e) {
    // Upstream's top line (the bare I/O or parse error), and which file (spec §16.28).
    throw new MdevError(describeError(e), [`while reading ${quotePath(instancesPath)}`]);
  }
  // Negative counts mean none too (decision §0.8; upstream only refused 0).
  if (available <= 0) throw new MdevError(`No available instances of ${type} on ${parent}`);

  try {
    writeSysfs(`${typeDir}/create`, uuid);
  } catch (e) {
    throw MdevError.wrap(`Failed to create mdev ${uuid}, type ${type} on ${parent}`, e);
  }

  try {
    applyAttributes(env, uuid, device.attrs);
  } catch (attrError) {
    try {
      removeDevice(env, uuid);
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
  for (const [name, value] of attrs) {
    const path = `${env.devicePath(uuid)}/${name}`;
    try {
      Deno.statSync(path);
    } catch {
      throw new MdevError(`Invalid attribute '${name}'`);
    }
    try {
      writeSysfs(path, value);
    } catch (e) {
      throw MdevError.wrap(`Failed to write ${value} to attribute ${name}`, e);
    }
  }
}

/**
 * Stops a running device through the stop bracket (spec §5.5). `false`, with
 * nothing done, when no device with that uuid is running.
 */
export async function stopActive(env: Environment, uuid: string, force: boolean): Promise<boolean> {
  const running = loadActive(env, uuid);
  if (running === null) return false;
  const device = newDevice(uuid, { parent: running.parent, type: running.type, active: true });
  await runBracket(env, device, "stop", force, () => removeDevice(env, uuid));
  return true;
}

/**
 * Removes one definition through the undefine bracket (spec §5.2). A config
 * that cannot be read has no type to tell callouts about: it is removed
 * directly, with a warning.
 */
export async function undefineDevice(
  env: Environment,
  device: MdevDevice,
  force: boolean,
): Promise<void> {
  if (device.invalid !== undefined) {
    warn(`Removing unreadable config ${device.configPath}: ${device.invalid}`);
    removeConfig(env, device);
    return;
  }
  await runBracket(env, device, "undefine", force, () => removeConfig(env, device));
}

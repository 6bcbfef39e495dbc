/**
 * The types parents offer (mdevctl.md §5.7): each type directory's files,
 * read and parsed.
 */
import type { MdevType } from "../config.ts";
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { isAbsent, type ShowPath, unreadable } from "../fs_probe.ts";
import { compareBytes } from "../order.ts";
import { quotePath } from "../paths.ts";
import { linkTarget, quoted, shower, sysfsNames, typesDir } from "./layout.ts";

const I32 = /^[+-]?\d+$/;

/** Parses a decimal i32 the way Rust's `str::parse::<i32>` does. */
export function parseI32(text: string): number {
  if (text === "") throw new MdevError("cannot parse integer from empty string");
  if (!I32.test(text)) throw new MdevError("invalid digit found in string");
  const n = Number(text);
  if (n > 2147483647) throw new MdevError("number too large to fit in target type");
  if (n < -2147483648) throw new MdevError("number too small to fit in target type");
  return n;
}

/**
 * A type directory that is there but garbled: a required file missing or
 * unparsable (mdevctl.md §0.6 skips it with a warning). Anything unreadable
 * for another reason is no such thing: it throws naming the path.
 */
export class GarbledType extends MdevError {}

/**
 * Reads one type directory; throws GarbledType on a missing or garbled
 * required file, `unreadable` when a file cannot be read. `shown` names a
 * path for messages (the sandbox's view as /sys).
 */
export function readType(dir: string, name: string, shown: ShowPath = (path) => path): MdevType {
  const read = (file: string, required: boolean): string | undefined => {
    const path = `${dir}/${file}`;
    try {
      return Deno.readTextFileSync(path);
    } catch (e) {
      if (!isAbsent(e)) throw unreadable(path, e, shown);
      if (!required) return undefined;
      throw new GarbledType(`${describeError(e)}: ${quotePath(shown(path))}`);
    }
  };
  const instances = read("available_instances", true)!;
  const api = read("device_api", true)!;
  const displayName = read("name", false);
  const description = read("description", false);
  const nameText = displayName?.trim();
  const descText = description?.trim().replaceAll("\n", ", ");
  let availableInstances: number;
  try {
    availableInstances = parseI32(instances.trim());
  } catch (e) {
    throw new GarbledType(describeError(e));
  }
  return {
    name,
    availableInstances,
    deviceApi: api.trim(),
    displayName: nameText ? nameText : undefined,
    description: descText ? descText : undefined,
    rawDescription: description,
  };
}

/** The types of one parent in byte order; null (warned) when it has no types directory. */
function parentTypes(env: Environment, parent: string): MdevType[] | null {
  const dir = typesDir(env, parent);
  // The files are read under the parent's own directory, its class link
  // read once: without all permissions Deno resolves every component of
  // each path it opens, and the link's three are then spared per file.
  // Messages still name the class path.
  const readDir = `${linkTarget(env, env.parentPath(parent))}/mdev_supported_types`;
  const shown = (path: string) => env.shownPath(dir + path.slice(readDir.length));
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (!isAbsent(e)) throw unreadable(dir, e, shower(env));
    env.logger.warn(`Skipping parent ${parent}: ${describeError(e)}: ${quoted(env, dir)}`);
    return null;
  }
  const types: MdevType[] = [];
  for (const t of entries) {
    if (!t.isDirectory) continue;
    try {
      types.push(readType(`${readDir}/${t.name}`, t.name, shown));
    } catch (e) {
      if (!(e instanceof GarbledType)) throw e;
      env.logger.warn(`Skipping mdev type ${quoted(env, `${dir}/${t.name}`)}: ${e.message}`);
    }
  }
  return types.sort((a, b) => compareBytes(a.name, b.name));
}

/**
 * Every parent and its supported types (mdevctl.md §5.7); parents and types in byte
 * order. A parent without `mdev_supported_types` or a garbled type is skipped
 * with a warning (mdevctl.md §0.6); an unreadable one is an error naming it.
 *
 * @example A parent with one type
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, scanTypes } from "../../mod.ts";
 *
 * const env = new Environment(Deno.makeTempDirSync());
 * const dir = env.path("sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4");
 * Deno.mkdirSync(dir, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/available_instances`, "2\n");
 * Deno.writeTextFileSync(`${dir}/device_api`, "vfio-pci\n");
 * const types = scanTypes(env, undefined).get("0000:00:02.0")!;
 * deepEqual([types[0]!.name, types[0]!.availableInstances], ["i915-GVTg_V5_4", 2]);
 * ```
 */
export function scanTypes(
  env: Environment,
  parentFilter: string | undefined,
): Map<string, MdevType[]> {
  const parents = sysfsNames(env, env.parentBase)
    .filter((name) => parentFilter === undefined || name === parentFilter)
    .sort(compareBytes);
  const result = new Map<string, MdevType[]>();
  for (const parent of parents) {
    const types = parentTypes(env, parent);
    if (types !== null) result.set(parent, types);
  }
  return result;
}

/**
 * Parent devices as the kernel shows them (mdevctl.md §1.8; hostfile.md §2
 * `parents`): their names, how a name given by a user is resolved, and the
 * facts a host file selects them by.
 */
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { isDir, readLinkOrNull, readTextOrNull } from "../fs_probe.ts";
import { basename, dirname } from "../paths.ts";
import { quoted, shower, sysfsNames } from "./layout.ts";

/** The registered parent names (entries of `sys/class/mdev_bus`); none when it is not there. */
export function parentNames(env: Environment): string[] {
  return sysfsNames(env, env.parentBase);
}

/** The parent's sysfs directory (mdevctl.md §1.8), with the case hint. */
export function resolveParentDir(env: Environment, parent: string): string {
  const path = env.parentPath(parent);
  if (isDir(path, shower(env))) return path;
  let names: string[];
  try {
    names = [...Deno.readDirSync(env.parentBase)].map((e) => e.name);
  } catch (e) {
    throw new MdevError(`Unable to find parent device '${parent}'`, [describeError(e)]);
  }
  if (names.includes(parent)) {
    // The entry is there but leads nowhere: say so rather than suggest itself.
    throw new MdevError(`Unable to find parent device '${parent}'`, [
      `${quoted(env, path)} is not a directory`,
    ]);
  }
  const lower = parent.toLowerCase();
  const similar = names.find((n) => n.toLowerCase() === lower);
  if (similar !== undefined) {
    throw new MdevError(`Unable to find parent device '${parent}'. Did you mean '${similar}'?`);
  }
  throw new MdevError(`Unable to find parent device '${parent}'`);
}

/** What a host file's parent selector looks at (hostfile.md §2 `parents`). */
export interface ParentFacts {
  /** Basename of the `driver` link. */
  driver: string | undefined;
  /** `vendor` and `device` (PCI parents), trimmed. */
  vendor: string | undefined;
  device: string | undefined;
  /** Basename of the `physfn` link: the PF of an SR-IOV VF. */
  physfn: string | undefined;
  /**
   * True when the parent's `subsystem` link leads into a `bus/` directory
   * (a device on a bus such as PCI or CCW, not a class or virtual device).
   */
  onBus: boolean;
}

/**
 * The selector facts of a registered parent; files and links that are not
 * there are `undefined`; one that cannot be read throws naming it.
 */
export function parentFacts(env: Environment, parent: string): ParentFacts {
  const dir = env.parentPath(parent);
  const show = shower(env);
  const link = (name: string) => {
    const target = readLinkOrNull(`${dir}/${name}`, show);
    return target === null ? undefined : target;
  };
  const text = (name: string) => readTextOrNull(`${dir}/${name}`, show)?.trim();
  const subsystem = link("subsystem");
  return {
    driver: mapDefined(link("driver"), basename),
    vendor: text("vendor"),
    device: text("device"),
    physfn: mapDefined(link("physfn"), basename),
    onBus: subsystem !== undefined && basename(dirname(subsystem)) === "bus",
  };
}

function mapDefined<T, U>(value: T | undefined, f: (value: T) => U): U | undefined {
  return value === undefined ? undefined : f(value);
}

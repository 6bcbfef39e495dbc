/**
 * The host snapshot a plan rests on (hostfile.md §6): definitions, running
 * devices and every parent with its types and PCI facts. Read through the
 * modules that own sysfs and the config store.
 */
import type { MdevConfig } from "../config.ts";
import { definitionReader, scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { basename } from "../paths.ts";
import { readDirEntries, scanActive, scanTypes } from "../sysfs.ts";

export interface TypeInfo {
  /** The trimmed `name` file; absent on old kernels. */
  name: string | undefined;
  available: number;
}

export interface ParentInfo {
  name: string;
  driver: string | undefined;
  vendor: string | undefined;
  device: string | undefined;
  physfn: string | undefined;
  types: Map<string, TypeInfo>;
}

export interface Definition {
  parent: string;
  uuid: string;
  config: MdevConfig;
  configPath: string | undefined;
}

export interface Snapshot {
  /** Registered parents (entries of sys/class/mdev_bus). */
  parents: Map<string, ParentInfo>;
  definitions: Definition[];
  /** Running devices by uuid. */
  active: Map<string, { parent: string; type: string }>;
}

function readTrimmed(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

function linkName(path: string): string | undefined {
  try {
    return basename(Deno.readLinkSync(path));
  } catch {
    return undefined;
  }
}

/** Reads the snapshot. Bad config files are skipped with a warning (§0.6). */
export async function readSnapshot(env: Environment): Promise<Snapshot> {
  const types = await scanTypes(env, undefined);
  const parents = new Map<string, ParentInfo>();
  for (const entry of readDirEntries(env.parentBase) ?? []) {
    const dir = env.parentPath(entry.name);
    const info: ParentInfo = {
      name: entry.name,
      driver: linkName(`${dir}/driver`),
      vendor: readTrimmed(`${dir}/vendor`),
      device: readTrimmed(`${dir}/device`),
      physfn: linkName(`${dir}/physfn`),
      types: new Map(),
    };
    for (const t of types.get(entry.name) ?? []) {
      info.types.set(t.name, { name: t.displayName, available: t.availableInstances });
    }
    parents.set(entry.name, info);
  }
  const definitions: Definition[] = [];
  for (const [parent, devices] of await scanDefined(env, {})) {
    for (const d of devices) {
      definitions.push({
        parent,
        uuid: d.uuid,
        config: { type: d.type!, autostart: d.autostart, attrs: d.attrs },
        configPath: d.configPath,
      });
    }
  }
  const active = new Map<string, { parent: string; type: string }>();
  for (const [parent, devices] of await scanActive(env, {}, definitionReader(env))) {
    for (const d of devices) active.set(d.uuid, { parent, type: d.type! });
  }
  return { parents, definitions, active };
}

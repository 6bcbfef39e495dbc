/**
 * The host snapshot a plan rests on (hostfile.md §6): definitions, running
 * devices and every parent with its types and PCI facts. Read through the
 * modules that own sysfs and the config store.
 */
import type { Environment } from "../environment.ts";
import { type ActiveInfo, type Definition, readDefinitions } from "../host_model.ts";
import { loadActiveOrWarn, runningOnParent } from "../sysfs/active.ts";
import { parentFacts, parentNames } from "../sysfs/parents.ts";
import { scanTypes } from "../sysfs/types.ts";
import { readVfioGpus, type VfioGpu } from "../vfio/gpus.ts";

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
  /** A bus device (PCI, css, ap): it has a `driver` link when it is bound. */
  onBus: boolean;
  types: Map<string, TypeInfo>;
}

// The shared read model (lib/host_model.ts), importable from here as before.
export type { ActiveInfo, Definition } from "../host_model.ts";

/**
 * Running devices, looked up on demand: a plan needs only the few it names
 * (wanted and managed uuids, and the parents of exclusive pools), and a
 * large host runs tens of thousands (two link reads each).
 */
export interface ActiveView {
  get(uuid: string): ActiveInfo | undefined;
  /** The running devices under a parent: uuid -> type. */
  onParent(parent: string): ReadonlyMap<string, string>;
}

export interface Snapshot {
  /** Registered parents (entries of sys/class/mdev_bus). */
  parents: Map<string, ParentInfo>;
  definitions: Definition[];
  active: ActiveView;
  /** Vendor-VFIO GPUs (docs/vfio-vgpu.md); absent in hand-built snapshots: none. */
  gpus?: VfioGpu[];
}

/** An ActiveView over a fixed list (tests, and callers that scanned already). */
export function activeFromMap(devices: ReadonlyMap<string, ActiveInfo>): ActiveView {
  const byParent = new Map<string, Map<string, string>>();
  for (const [uuid, a] of devices) {
    (byParent.get(a.parent) ?? byParent.set(a.parent, new Map()).get(a.parent)!).set(uuid, a.type);
  }
  return {
    get: (uuid) => devices.get(uuid),
    onParent: (parent) => byParent.get(parent) ?? new Map(),
  };
}

/** The live ActiveView of a host: each uuid or parent read once, when first asked. */
function liveActive(env: Environment): ActiveView {
  const byUuid = new Map<string, ActiveInfo | undefined>();
  const byParent = new Map<string, Map<string, string>>();
  return {
    get(uuid) {
      if (!byUuid.has(uuid)) byUuid.set(uuid, loadActiveOrWarn(env, uuid) ?? undefined);
      return byUuid.get(uuid);
    },
    onParent(parent) {
      let found = byParent.get(parent);
      if (found === undefined) {
        found = runningOnParent(env, parent);
        byParent.set(parent, found);
      }
      return found;
    },
  };
}

/** Reads the snapshot. Bad config files are skipped with a warning (§0.6). */
export function readSnapshot(env: Environment): Snapshot {
  const types = scanTypes(env, undefined);
  const parents = new Map<string, ParentInfo>();
  for (const name of parentNames(env)) {
    const info: ParentInfo = { name, ...parentFacts(env, name), types: new Map() };
    for (const t of types.get(name) ?? []) {
      info.types.set(t.name, { name: t.displayName, available: t.availableInstances });
    }
    parents.set(name, info);
  }
  return {
    parents,
    definitions: readDefinitions(env),
    active: liveActive(env),
    gpus: readVfioGpus(env),
  };
}

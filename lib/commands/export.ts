/** `mdevctl export` (hostfile.md §9): the host's definitions as a host file. */
import { activeAttributes } from "../callouts/attributes.ts";
import type { CommandContext } from "../cli/context.ts";
import { newDevice } from "../config.ts";
import { MdevError } from "../errors.ts";
import {
  type ExportedDevice,
  type ExportedPool,
  exportedPools,
  exportOwner,
  renderExport,
} from "../hostfile/export.ts";
import { namerOf } from "../hostfile/vfio_names.ts";
import type { Environment } from "../environment.ts";
import type { Ledger } from "../hostfile/ledger.ts";
import { readVfioGpus } from "../vfio/gpus.ts";
import { typeOf } from "../vfio/names.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadYaml } from "../hostfile/load.ts";
import { NAME_PATTERN } from "../hostfile/schema.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";
import { scanActive } from "../sysfs/active.ts";

export async function run(ctx: CommandContext<"export">): Promise<void> {
  const { env, options } = ctx;
  if (options.owner !== undefined && !NAME_PATTERN.test(options.owner)) {
    throw new MdevError(`Invalid owner name '${options.owner}' ([a-z0-9][a-z0-9._-]{0,62})`);
  }
  const parent = options.parent;
  const snap = readSnapshot(env);
  if (
    parent !== undefined && !snap.parents.has(parent) &&
    !snap.definitions.some((d) => d.parent === parent) &&
    !(snap.gpus ?? []).some((g) => g.address === parent)
  ) {
    throw new MdevError(`parent ${parent} not found: it is not registered and has no definitions`);
  }
  const ledgers = readLedgers(env, null);
  // One owner per file: devices another owner manages would conflict when
  // the file is applied, so they are left out, and stderr says so.
  const choice = exportOwner(options.owner, ledgers);
  const owner = choice.owner;
  if (choice.inferred) env.stderr(`export: owner ${owner} (the only owner with a ledger)\n`);
  const ownerOf = (uuid: string) => {
    for (const [name, l] of ledgers) if (l.devices.has(uuid)) return name;
    return undefined;
  };
  const leftOut = new Map<string, number>();
  const keep = (uuid: string) => {
    const managedBy = ownerOf(uuid);
    if (managedBy !== undefined && managedBy !== owner) {
      leftOut.set(managedBy, (leftOut.get(managedBy) ?? 0) + 1);
      return false;
    }
    if (options.managed) return managedBy === owner;
    if (options.unmanaged) return managedBy === undefined;
    return true;
  };
  const devices: ExportedDevice[] = [];
  const defined = new Set<string>();
  for (const d of snap.definitions) {
    defined.add(d.uuid);
    if (parent !== undefined && d.parent !== parent) continue;
    if (keep(d.uuid)) devices.push({ parent: d.parent, uuid: d.uuid, config: d.config });
  }
  if (options.active) {
    // Running transient devices, with attributes from callouts, as define -u takes them.
    const running = scanActive(env, {}, () => ({ defined: false, autostart: false }));
    for (const a of [...running.values()].flat()) {
      const uuid = a.uuid;
      if (defined.has(uuid) || (parent !== undefined && a.parent !== parent) || !keep(uuid)) {
        continue;
      }
      const attrs = await activeAttributes(
        env,
        newDevice(uuid, { parent: a.parent, type: a.type, active: true }),
      );
      devices.push({
        parent: a.parent!,
        uuid,
        config: { type: a.type!, autostart: false, attrs },
      });
    }
  }
  for (const [other, n] of leftOut) {
    env.stderr(
      `export: left out ${n} ${
        n === 1 ? "device" : "devices"
      } managed by owner ${other} (export them with --owner ${other})\n`,
    );
  }
  const pools = options.unmanaged ? [] : vfioPools(env, ledgers, owner, parent);
  ctx.stdout(renderExport(await loadYaml(), owner, devices, pools));
}

/** The owner's VFIO pools as they stand (docs/vfio-vgpu.md "Export"). */
function vfioPools(
  env: Environment,
  ledgers: ReadonlyMap<string, Ledger>,
  owner: string,
  parent: string | undefined,
): ExportedPool[] {
  const vfs = ledgers.get(owner)?.vfs;
  if (vfs === undefined || vfs.size === 0) return [];
  const gpus = readVfioGpus(env);
  const current = new Map(gpus.flatMap((g) => g.vfs.map((vf) => [vf.address, vf.currentType])));
  const names = namerOf(gpus, ledgers);
  const byPf = new Map(gpus.map((g) => [g.address, g]));
  const short = (pf: string, id: number) => {
    const g = byPf.get(pf);
    return g === undefined ? undefined : typeOf(names(g), id)?.short;
  };
  const r = exportedPools(vfs, (vf) => current.get(vf), short, parent);
  if (r.leftOut > 0) {
    env.stderr(
      `export: left out ${r.leftOut} ${
        r.leftOut === 1 ? "VF" : "VFs"
      } of owner ${owner} that do not hold their recorded type now (diff shows them)\n`,
    );
  }
  return r.pools;
}

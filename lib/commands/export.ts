/** `mdevctl export` (hostfile.md §9): the host's definitions as a host file. */
import { activeAttributes } from "../callouts/attributes.ts";
import type { CommandContext } from "../cli/context.ts";
import { newDevice } from "../config.ts";
import { MdevError } from "../errors.ts";
import { type ExportedDevice, renderExport } from "../hostfile/export.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadYaml } from "../hostfile/load.ts";
import { NAME_PATTERN } from "../hostfile/schema.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";
import { scanActive } from "../sysfs/active.ts";

export async function run(ctx: CommandContext<"export">): Promise<void> {
  const { env, options } = ctx;
  const owner = options.owner ?? "default";
  if (!NAME_PATTERN.test(owner)) {
    throw new MdevError(`Invalid owner name '${owner}' ([a-z0-9][a-z0-9._-]{0,62})`);
  }
  const parent = options.parent;
  const snap = readSnapshot(env);
  const ledgers = readLedgers(env, null);
  const ownLedger = ledgers.get(owner);
  const inAnyLedger = (uuid: string) => [...ledgers.values()].some((l) => l.devices.has(uuid));
  const keep = (uuid: string) => {
    if (options.managed) return ownLedger?.devices.has(uuid) ?? false;
    if (options.unmanaged) return !inAnyLedger(uuid);
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
  ctx.stdout(renderExport(await loadYaml(), owner, devices));
}

/** `mdevctl list` and `lsmdev` (mdevctl.md §5.6, §6.1–6.3). */
import { listAttributes } from "../callouts/attributes.ts";
import type { CommandContext } from "../cli/context.ts";
import { definitionReader, scanDefined } from "../config_store.ts";
import type { MdevDevice } from "../config.ts";
import { listJsonChunks, listTextChunks } from "../format.ts";
import { scanActive } from "../sysfs/active.ts";
import { hostNamer } from "../hostfile/vfio_names.ts";
import { readVfioGpus } from "../vfio/gpus.ts";
import { listVfioText, vfioJson } from "../vfio/listing.ts";

export async function run(ctx: CommandContext<"list">): Promise<void> {
  const { env } = ctx;
  if (ctx.options.vfio) return listVfio(ctx);
  const filter = { uuid: ctx.options.uuid, parent: ctx.options.parent };
  const defined = ctx.options.defined;
  const groups = defined
    ? scanDefined(env, filter)
    : scanActive(env, filter, definitionReader(env));
  if (!defined) await listAttributes(env, [...groups.values()].flat());
  if (ctx.options.dumpjson) {
    for (const chunk of listJsonChunks(groups, filter.uuid !== undefined)) ctx.stdout(chunk);
    return;
  }
  const suffix = defined
    ? (d: MdevDevice) => d.active ? " (active)" : ""
    : (d: MdevDevice) => d.defined ? " (defined)" : "";
  for (const chunk of listTextChunks(groups, (d) => d, suffix, ctx.options.verbose)) {
    ctx.stdout(chunk);
  }
}

/** `list --vfio` (docs/vfio-vgpu.md): GPUs and the vGPU on each VF; never mdev devices. */
function listVfio(ctx: CommandContext<"list">): void {
  const all = readVfioGpus(ctx.env);
  const p = ctx.options.parent;
  const shown = all.filter((g) => p === undefined || g.address === p);
  const names = hostNamer(ctx.env, all);
  ctx.stdout(ctx.options.dumpjson ? vfioJson(shown, names, false) : listVfioText(shown, names));
}

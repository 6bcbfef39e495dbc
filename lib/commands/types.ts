/** `mdevctl types` (mdevctl.md §5.7, §6.4); `--vfio`: docs/vfio-vgpu.md. */
import type { CommandContext } from "../cli/context.ts";
import { formatTypesJson, formatTypesText } from "../format.ts";
import { hostNamer } from "../hostfile/vfio_names.ts";
import { scanTypes } from "../sysfs/types.ts";
import { readVfioGpus } from "../vfio/gpus.ts";
import { typesVfioText, vfioJson } from "../vfio/listing.ts";

export function run(ctx: CommandContext<"types">): void {
  if (ctx.options.vfio) {
    const all = readVfioGpus(ctx.env);
    const shown = all.filter((g) =>
      ctx.options.parent === undefined || g.address === ctx.options.parent
    );
    const names = hostNamer(ctx.env, all);
    ctx.stdout(ctx.options.dumpjson ? vfioJson(shown, names, true) : typesVfioText(shown, names));
    return;
  }
  const groups = scanTypes(ctx.env, ctx.options.parent);
  ctx.stdout(ctx.options.dumpjson ? formatTypesJson(groups) : formatTypesText(groups));
}

/** `mdevctl types` (mdevctl.md §5.7, §6.4). */
import type { CommandContext } from "../cli/context.ts";
import { formatTypesJson, formatTypesText } from "../format.ts";
import { scanTypes } from "../sysfs/types.ts";

export function run(ctx: CommandContext<"types">): void {
  const groups = scanTypes(ctx.env, ctx.options.parent);
  ctx.stdout(ctx.options.dumpjson ? formatTypesJson(groups) : formatTypesText(groups));
}

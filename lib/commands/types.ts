/** `mdevctl types` (spec §5.7, §6.4). */
import { flag, value } from "../cli/context.ts";
import type { CommandContext } from "../cli/context.ts";
import { formatTypesJson, formatTypesText } from "../format.ts";
import { scanTypes } from "../sysfs.ts";

export function run(ctx: CommandContext): void {
  const groups = scanTypes(ctx.env, value(ctx.args, "parent"));
  ctx.stdout(flag(ctx.args, "dumpjson") ? formatTypesJson(groups) : formatTypesText(groups));
}

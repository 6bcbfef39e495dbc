/** `mdevctl list-available`, an original (2019) command: types with instances left. */
import type { CommandContext } from "../cli/context.ts";
import { formatLegacyTypes } from "../format.ts";
import { scanTypes } from "../sysfs/types.ts";

export function run(ctx: CommandContext<"list-available">): void {
  ctx.stdout(formatLegacyTypes(scanTypes(ctx.env, undefined), true));
}

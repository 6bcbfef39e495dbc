/** `mdevctl list-all`, an original (2019) command (seed-interface.md): every type. */
import type { CommandContext } from "../cli/context.ts";
import { formatLegacyTypes } from "../format.ts";
import { scanTypes } from "../sysfs/types.ts";

export function run(ctx: CommandContext<"list-all">): void {
  ctx.stdout(formatLegacyTypes(scanTypes(ctx.env, undefined), false));
}

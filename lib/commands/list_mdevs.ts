/** `mdevctl list-mdevs`, an original (2019) command: running devices. */
import type { CommandContext } from "../cli/context.ts";
import { definitionReader } from "../config_store.ts";
import { formatDeviceColumns } from "../format.ts";
import { scanActive } from "../sysfs/active.ts";

export function run(ctx: CommandContext<"list-mdevs">): void {
  ctx.stdout(formatDeviceColumns(scanActive(ctx.env, {}, definitionReader(ctx.env))));
}

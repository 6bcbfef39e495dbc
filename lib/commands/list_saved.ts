/** `mdevctl list-saved`, an original (2019) command: defined devices. */
import type { CommandContext } from "../cli/context.ts";
import { scanDefined } from "../config_store.ts";
import { formatDeviceColumns } from "../format.ts";

export function run(ctx: CommandContext<"list-saved">): void {
  ctx.stdout(formatDeviceColumns(scanDefined(ctx.env, {})));
}

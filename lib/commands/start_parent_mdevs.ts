/**
 * `mdevctl start-parent-mdevs PARENT` (mdevctl.md §5.8, mdevctl.md §0.9): run by udev
 * when a parent registers; starts its auto-start devices in sorted order.
 */
import type { CommandContext } from "../cli/context.ts";
import { scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { startAutostart } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { waitUntil } from "../monitor/waiter.ts";
import { checkParent } from "../sysfs/readiness.ts";

export async function run(ctx: CommandContext<"start-parent-mdevs">): Promise<void> {
  const { env } = ctx;
  const parent = ctx.positionals.PARENT;
  // Whether each runs is asked per device by startAutostart, where a device that
  // cannot be read fails alone: the scan need not look at sysfs.
  const devices = scanDefined(env, { parent }, { skipActive: true }).get(parent) ?? [];
  const auto = devices.filter((d) => d.autostart);
  if (auto.length === 0) return;
  await waitForTypes(env, parent, new Set(auto.map((d) => d.type!)));
  await withLock(env, async () => {
    for (const device of auto) await startAutostart(env, device);
  });
}

/**
 * Polls until the parent offers every needed type (type-ready), or the wait
 * runs out; then the starts say what is still missing, device by device.
 */
async function waitForTypes(env: Environment, parent: string, types: Set<string>) {
  const check = () => {
    for (const type of types) {
      const missing = checkParent(env, parent, type);
      if (missing !== null) return missing;
    }
    return null;
  };
  await waitUntil(check, env.autostartWaitSeconds * 1000, { uevents: false });
}

/**
 * `mdevctl start-parent-mdevs PARENT` (mdevctl.md §5.8, mdevctl.md §0.9): run by udev
 * when a parent registers; starts its auto-start devices in sorted order.
 */
import type { CommandContext } from "../cli/context.ts";
import { scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { startAutostart } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { supportsTypes } from "../sysfs.ts";

export async function run(ctx: CommandContext<"start-parent-mdevs">): Promise<void> {
  const { env } = ctx;
  const parent = ctx.positionals.PARENT;
  const devices = scanDefined(env, { parent }).get(parent) ?? [];
  const auto = devices.filter((d) => d.autostart);
  if (auto.length === 0) return;
  await waitForTypes(env, parent, new Set(auto.map((d) => d.type!)));
  await withLock(env, async () => {
    for (const device of auto) await startAutostart(env, device);
  });
}

/** Polls until the parent lists every needed type, or the wait runs out. */
async function waitForTypes(env: Environment, parent: string, types: Set<string>) {
  const deadline = Date.now() + env.autostartWaitSeconds * 1000;
  for (;;) {
    if (supportsTypes(env, parent, types) || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

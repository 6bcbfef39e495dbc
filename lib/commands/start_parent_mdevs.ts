/**
 * `mdevctl start-parent-mdevs PARENT` (mdevctl.md §5.8, mdevctl.md §0.9): run by udev
 * when a parent registers; starts its auto-start devices in sorted order.
 */
import type { CommandContext } from "../cli/context.ts";
import type { MdevDevice } from "../config.ts";
import { scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { causeChain } from "../errors.ts";
import { startDevice } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { waitUntil } from "../monitor/waiter.ts";
import { loadRunning } from "../sysfs/active.ts";
import { checkParent } from "../sysfs/readiness.ts";

export async function run(ctx: CommandContext<"start-parent-mdevs">): Promise<void> {
  const { env } = ctx;
  const parent = ctx.positionals.PARENT;
  // Whether each runs is asked per device by startOne, where a device that
  // cannot be read fails alone: the scan need not look at sysfs.
  const devices = scanDefined(env, { parent }, { skipActive: true }).get(parent) ?? [];
  const auto = devices.filter((d) => d.autostart);
  if (auto.length === 0) return;
  await waitForTypes(env, parent, new Set(auto.map((d) => d.type!)));
  await withLock(env, async () => {
    for (const device of auto) await startOne(env, device);
  });
}

/**
 * Starts one auto-start device through the start bracket unless it already
 * runs; says which on stderr. Call it holding the lock. Also used by
 * `wait --all-auto --start-missing`.
 */
export async function startOne(env: Environment, device: MdevDevice): Promise<void> {
  const what = `mdev ${device.uuid} (type ${device.type}) on parent ${device.parent}`;
  try {
    // A device whose state cannot be read fails alone; the others still start (§0.6).
    const running = loadRunning(env, device.uuid);
    if (running !== null && running.parent === device.parent && running.type === device.type) {
      env.stderr(`Already running: ${what}\n`);
      return;
    }
    await startDevice(env, device, false);
    env.stderr(`Started ${what}\n`);
  } catch (e) {
    env.stderr(`Failed to start ${what}\n`);
    for (const message of causeChain(e)) env.logger.warn(message);
  }
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

/**
 * `mdevctl wait` (spec monitor.md §3.2): exit 0 once the parent, type,
 * capacity or device is ready, else 1 with start's top line and the path
 * waited for.
 */
import type { CommandContext } from "../cli/context.ts";
import type { MdevDevice } from "../config.ts";
import { scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { startAutostart } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { seconds } from "../monitor/options.ts";
import { checkVfio } from "../monitor/vfio_readiness.ts";
import { timeoutError, waitUntil } from "../monitor/waiter.ts";
import { DEFAULT_WAIT_SECONDS } from "../settings.ts";
import { loadRunning } from "../sysfs/active.ts";
import { checkDevice, checkParent } from "../sysfs/readiness.ts";
import type { Missing, Placement } from "../sysfs/readiness.ts";

export async function run(ctx: CommandContext<"wait">): Promise<void> {
  const { env, options } = ctx;
  const timeout = seconds(options.timeout, DEFAULT_WAIT_SECONDS);
  const { parent, uuid } = options;
  let check: () => Promise<Missing | null> | Missing | null;
  if (options.vfio) {
    check = () => checkVfio(env, parent);
  } else if (parent !== undefined) {
    const { type, capacity } = options;
    check = () => checkParent(env, parent, type, capacity);
  } else if (uuid !== undefined) {
    check = () => checkDevice(env, uuid, placements(env, uuid));
  } else {
    check = allAuto(env, options["start-missing"]);
  }
  const missing = await waitUntil(check, timeout.ms);
  if (missing !== null) throw timeoutError(env, missing, timeout.text);
}

/** Where the definitions of `uuid` put it; none when it is not defined. */
function placements(env: Environment, uuid: string): Placement[] {
  const groups = scanDefined(env, { uuid });
  return [...groups.values()].flat().map((d) => ({ parent: d.parent!, type: d.type! }));
}

/** Do not try a device that failed to start again sooner than this. */
const RETRY_MS = 5000;

/**
 * Every auto-start definition device-active; with `startMissing`, those
 * whose parent offers their type but that do not run are started first
 * (idempotently: startAutostart skips a running device, under the lock).
 */
function allAuto(env: Environment, startMissing: boolean): () => Promise<Missing | null> {
  const tried = new Map<string, number>();
  return async () => {
    const auto = [...scanDefined(env, {}).values()].flat().filter((d) => d.autostart);
    if (startMissing) {
      const now = Date.now();
      const startable: MdevDevice[] = [];
      for (const d of auto) {
        if ((tried.get(d.uuid) ?? -Infinity) + RETRY_MS > now) continue;
        // Runs or half-runs (created, `mdev_type` not there yet): not ours to start.
        if (loadRunning(env, d.uuid) !== null) continue;
        if (checkParent(env, d.parent!, d.type!) !== null) continue;
        startable.push(d);
      }
      if (startable.length > 0) {
        await withLock(env, async () => {
          for (const d of startable) {
            tried.set(d.uuid, now);
            await startAutostart(env, d);
          }
        });
      }
    }
    for (const d of auto) {
      const missing = checkDevice(env, d.uuid, [{ parent: d.parent!, type: d.type! }]);
      if (missing !== null) return missing;
    }
    return null;
  };
}

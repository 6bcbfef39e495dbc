/**
 * `start --wait[=S]` (spec monitor.md §3.2): before creating, wait until the
 * parent offers the device's type (type-ready), or is registered when only
 * the parent is known yet (a --jsonfile device).
 */
import { scanDefined } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import type { Seconds } from "./options.ts";
import { checkParent } from "../sysfs/readiness.ts";
import { timeoutError, waitUntil } from "./waiter.ts";

export interface StartTarget {
  uuid: string | undefined;
  parent: string | undefined;
  type: string | undefined;
}

/** Waits, or throws start's own top line with the path as cause on timeout. */
export async function waitBeforeStart(
  env: Environment,
  target: StartTarget,
  wait: Seconds,
): Promise<void> {
  let { parent, type } = target;
  if (type === undefined && target.uuid !== undefined) {
    // A defined device: where its (one) definition puts it. Several or none
    // are left to start to report, as it does without --wait.
    const found = [...scanDefined(env, { uuid: target.uuid, parent }).values()].flat();
    if (found.length === 1) ({ parent, type } = found[0]!);
  }
  if (parent === undefined) return;
  const where = parent;
  const missing = await waitUntil(() => checkParent(env, where, type), wait.ms);
  if (missing !== null) throw timeoutError(env, missing, wait.text);
}

/**
 * Callout and notifier scripts (spec §8). Placeholder seam until the callout
 * protocol lands: with no scripts installed every bracket simply runs its
 * primary step, which is exactly upstream's behaviour in that case.
 */
import type { MdevDevice } from "./config.ts";
import type { Environment } from "./environment.ts";

export type Action = "define" | "undefine" | "modify" | "start" | "stop";

/** Fills in the attributes of running devices reported by callouts (§1.6 step 5). */
export async function listAttributes(_env: Environment, _devices: MdevDevice[]): Promise<void> {}

/** Runs `primary` inside the pre/post/notify bracket for `action` (§8.4). */
export async function runBracket<T>(
  _env: Environment,
  _device: MdevDevice,
  _action: Action,
  _force: boolean,
  primary: () => Promise<T>,
): Promise<T> {
  return await primary();
}

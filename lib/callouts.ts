/**
 * Callout and notifier scripts (spec §8). Placeholder seam until the callout
 * protocol lands: with no scripts installed every bracket simply runs its
 * primary step, which is exactly upstream's behaviour in that case.
 */
import type { Attr, MdevConfig, MdevDevice } from "./config.ts";
import type { Environment } from "./environment.ts";
import { MdevError } from "./errors.ts";

export type Action = "define" | "undefine" | "modify" | "start" | "stop";

/** Given to a bracket's primary step (spec §8.4). */
export interface Bracket {
  /** Get-attributes of a running device (§8.6); failures throw. */
  getAttributes(device: MdevDevice): Promise<Attr[]>;
}

/** Fills in the attributes of running devices reported by callouts (§1.6 step 5). */
export async function listAttributes(_env: Environment, _devices: MdevDevice[]): Promise<void> {}

/** Attributes of one running device; failures are ignored (`[]`). */
export async function activeAttributes(
  _env: Environment,
  _device: MdevDevice,
): Promise<Attr[]> {
  return [];
}

/** Runs `primary` inside the pre/post/notify bracket for `action` (§8.4). */
export async function runBracket<T>(
  _env: Environment,
  _device: MdevDevice,
  _action: Action,
  _force: boolean,
  primary: (bracket: Bracket) => Promise<T>,
): Promise<T> {
  return await primary({ getAttributes: () => Promise.resolve([]) });
}

/** The live-modify callout (§8.7): the script applies `config` to the running device. */
export function runLive(
  _env: Environment,
  _device: MdevDevice,
  _config: MdevConfig,
): Promise<void> {
  return Promise.reject(
    new MdevError("No callout script with version support found that supports live modify"),
  );
}

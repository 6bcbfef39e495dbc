/**
 * The pre/post/notify bracket around a command's primary step (mdevctl.md
 * §8.4): pre may refuse, post and the notifiers always hear the outcome.
 */
import type { Attr, MdevDevice } from "../config.ts";
import { compactConfig, deviceConfig } from "../config.ts";
import type { Environment } from "../environment.ts";
import { causeChain, MdevError } from "../errors.ts";
import type { Action, Invocation, State } from "./protocol.ts";
import {
  asMdevError,
  callout,
  findVersioned,
  MODULE,
  notify,
  queryAttributes,
  runSelected,
  type Selected,
  targetOf,
} from "./scripts.ts";

export type { Action } from "./protocol.ts";

/** Given to a bracket's primary step (mdevctl.md §8.4). */
export interface Bracket {
  /** Get-attributes of a running device (mdevctl.md §8.6); failures throw. */
  getAttributes(device: MdevDevice): Promise<Attr[]>;
}

/**
 * Runs `primary` inside the pre/post/notify bracket for `action` (mdevctl.md §8.4).
 * Once pre has passed (or was forced), post always runs, whatever the
 * primary step does: scripts such as s390's ap-check hold a lock from pre
 * to post.
 */
export async function runBracket<T>(
  env: Environment,
  device: MdevDevice,
  action: Action,
  force: boolean,
  primary: (bracket: Bracket) => T | Promise<T>,
): Promise<T> {
  if (device.type === undefined) throw new MdevError("Device must have a defined mdev_type");
  // Computed once, before the primary step: pre and post see the same bytes.
  const stdin = compactConfig(deviceConfig(device));
  const target = targetOf(device);
  let script: Selected | null = null;
  let preError: MdevError | null = null;
  try {
    script = await findVersioned(env, target);
    script = (await callout(env, script, target, { event: "pre", action, state: "none", stdin }))
      .script;
  } catch (e) {
    preError = asMdevError(e);
  }
  if (preError) {
    if (!force) {
      await notify(env, target, action, "none");
      throw preError;
    }
    env.logger.warn(
      `Forcing operation '${action}' despite callout failure. Error was: ${preError.message}`,
      MODULE,
    );
  }

  const bracket: Bracket = {
    getAttributes: async (dev) => {
      const found = await queryAttributes(env, targetOf(dev));
      script = found.script;
      return found.attrs;
    },
  };
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await primary(bracket) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const state: State = outcome.ok ? "success" : "failure";

  try {
    const inv: Invocation = { event: "post", action, state, stdin };
    if (script) await runSelected(env, script, target, inv);
    else await callout(env, null, target, inv);
  } catch (e) {
    env.logger.debug(`Ignoring post callout failure: ${causeChain(e).join(": ")}`, MODULE);
  }
  await notify(env, target, action, state);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

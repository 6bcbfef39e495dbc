/**
 * Get-attributes (mdevctl.md §8.6) for listings: the attributes a running
 * device's callout reports; a failure is logged and counts as none.
 */
import type { Attr, MdevDevice } from "../config.ts";
import type { Environment } from "../environment.ts";
import { causeChain } from "../errors.ts";
import { haveCallouts, MODULE, queryAttributes, targetOf } from "./scripts.ts";

/** Fills in the attributes of running devices reported by callouts (mdevctl.md §1.6 step 5). */
export async function listAttributes(env: Environment, devices: MdevDevice[]): Promise<void> {
  if (devices.length === 0 || !haveCallouts(env)) return;
  for (const device of devices) {
    try {
      const { attrs } = await queryAttributes(env, targetOf(device));
      device.attrs = [...device.attrs, ...attrs];
    } catch (e) {
      env.logger.debug(
        `Ignoring attributes of ${device.uuid}: ${causeChain(e).join(": ")}`,
        MODULE,
      );
    }
  }
}

/** Attributes of one running device; failures are ignored (`[]`). */
export async function activeAttributes(env: Environment, device: MdevDevice): Promise<Attr[]> {
  if (!haveCallouts(env)) return [];
  try {
    return (await queryAttributes(env, targetOf(device))).attrs;
  } catch (e) {
    env.logger.debug(`Ignoring attributes of ${device.uuid}: ${causeChain(e).join(": ")}`, MODULE);
    return [];
  }
}

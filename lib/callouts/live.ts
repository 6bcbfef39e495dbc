/** Live modify (mdevctl.md §8.7): the callout applies a config to the running device. */
import type { MdevConfig, MdevDevice } from "../config.ts";
import { compactConfig } from "../config.ts";
import type { Environment } from "../environment.ts";
import { MdevError } from "../errors.ts";
import { loadActive } from "../sysfs/active.ts";
import { type Invocation, liveNotSupported, supportError, type Target } from "./protocol.ts";
import { findVersioned, notify, runSelected } from "./scripts.ts";

/** The live-modify callout (mdevctl.md §8.7): the script applies `config` to the running device. */
export async function runLive(
  env: Environment,
  device: MdevDevice,
  config: MdevConfig,
): Promise<void> {
  const target: Target = { uuid: device.uuid, parent: device.parent, type: config.type };
  const script = await findVersioned(env, target);
  if (script === null) {
    throw new MdevError("No callout script with version support found that supports live modify");
  }
  // The device may have gone or changed since the caller looked it up.
  const active = loadActive(env, device.uuid);
  if (active === null) return;
  if (active.parent !== target.parent) {
    throw new MdevError("Device exists under different parent - cannot run live update");
  }
  if (active.type !== target.type) {
    throw new MdevError("Device exists with different type - cannot run live update");
  }
  const inv: Invocation = {
    event: "live",
    action: "modify",
    state: "none",
    stdin: compactConfig(config),
  };
  const unsupported = supportError(script.path, script.caps, inv);
  if (unsupported) throw unsupported;
  try {
    await runSelected(
      env,
      script,
      target,
      inv,
      (code) => code === 2 ? new MdevError(liveNotSupported(script.path)) : null,
    );
  } finally {
    await notify(env, target, "modify", "none");
  }
}

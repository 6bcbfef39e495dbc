/**
 * `mdevctl create-mdev UUID PARENT TYPE`, an original (2019) command
 * (seed-interface.md): define the device with start mode auto, then start it.
 */
import type { CommandContext } from "../cli/context.ts";
import { newDevice } from "../config.ts";
import { isDefined } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { startDevice, writeDefinition } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { checkName } from "../names.ts";
import { legacyUuid } from "../uuid.ts";

export async function run(ctx: CommandContext<"create-mdev">): Promise<void> {
  const { env } = ctx;
  const uuid = legacyUuid(ctx.positionals.UUID);
  const parent = checkName("parent", ctx.positionals.PARENT);
  const type = checkName("type", ctx.positionals.TYPE);
  await withLock(env, async () => {
    if (isDefined(env, parent, uuid)) {
      throw new MdevError(`Device ${uuid} on ${parent} already defined`);
    }
    const device = newDevice(uuid, { parent, type, autostart: true });
    await writeDefinition(env, device, "define", false);
    await startDevice(env, device, false);
  });
}

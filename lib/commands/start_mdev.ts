/** `mdevctl start-mdev UUID`, an original (2019) command: start a defined device. */
import type { CommandContext } from "../cli/context.ts";
import { lookupDefined, startDevice } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { legacyUuid } from "../uuid.ts";

export async function run(ctx: CommandContext<"start-mdev">): Promise<void> {
  const { env } = ctx;
  const uuid = legacyUuid(ctx.positionals.UUID);
  await withLock(env, async () => {
    await startDevice(env, lookupDefined(env, uuid, undefined), false);
  });
}

/**
 * `mdevctl remove-mdev UUID`, an original (2019) command: stop the device if
 * it runs, then remove every definition of it.
 */
import type { CommandContext } from "../cli/context.ts";
import { scanDefined } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { stopActive, undefineDevice } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { legacyUuid } from "../uuid.ts";

export async function run(ctx: CommandContext<"remove-mdev">): Promise<void> {
  const { env } = ctx;
  const uuid = legacyUuid(ctx.positionals.UUID);
  await withLock(env, async () => {
    const running = await stopActive(env, uuid, false);
    const groups = scanDefined(env, { uuid }, { includeInvalid: true });
    if (groups.size === 0 && !running) {
      throw new MdevError(`Mediated device ${uuid} is neither running nor defined`);
    }
    for (const device of [...groups.values()].flat()) {
      await undefineDevice(env, device, false);
    }
  });
}

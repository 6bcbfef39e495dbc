/** `mdevctl stop-mdev UUID`, an original (2019) command: stop, keeping the definition. */
import type { CommandContext } from "../cli/context.ts";
import { MdevError } from "../errors.ts";
import { stopActive } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { legacyUuid } from "../uuid.ts";

export async function run(ctx: CommandContext<"stop-mdev">): Promise<void> {
  const { env } = ctx;
  const uuid = legacyUuid(ctx.positionals.UUID);
  await withLock(env, async () => {
    if (!(await stopActive(env, uuid, false))) {
      throw new MdevError(`Mediated device ${uuid} is not active`);
    }
  });
}

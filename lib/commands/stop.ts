/** `mdevctl stop` (mdevctl.md §5.5). */
import type { CommandContext } from "../cli/context.ts";
import { MdevError } from "../errors.ts";
import { stopActive } from "../lifecycle.ts";
import { withLock } from "../lock.ts";

export async function run(ctx: CommandContext<"stop">): Promise<void> {
  const { env } = ctx;
  const uuid = ctx.options.uuid;
  await withLock(env, async () => {
    if (!(await stopActive(env, uuid, ctx.options.force))) {
      // Upstream's top line for this case, with the plain reason below it.
      throw new MdevError("Device must have a defined mdev_type", [
        `Mediated device ${uuid} is not active`,
      ]);
    }
  });
}

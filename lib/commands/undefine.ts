/** `mdevctl undefine` (mdevctl.md §5.2). */
import type { CommandContext } from "../cli/context.ts";
import { scanDefined } from "../config_store.ts";
import { causeChain, MdevError } from "../errors.ts";
import { undefineDevice } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { warnIfManaged } from "../hostfile/warn_managed.ts";

export async function run(ctx: CommandContext<"undefine">): Promise<void> {
  const { env } = ctx;
  const uuid = ctx.options.uuid;
  await withLock(env, async () => {
    const groups = scanDefined(env, { uuid, parent: ctx.options.parent }, {
      includeInvalid: true,
    });
    if (groups.size === 0) throw new MdevError("No devices match the specified uuid");
    await warnIfManaged(env, uuid);
    let failed = false;
    for (const [parent, devices] of groups) {
      for (const device of devices) {
        try {
          await undefineDevice(env, device, ctx.options.force);
        } catch (e) {
          failed = true;
          for (const message of causeChain(e)) {
            env.logger.warn(
              `Undefine of ${uuid} on parent ${parent} failed with error: ${message}`,
            );
          }
        }
      }
    }
    if (failed) throw new MdevError("Undefine failed");
  });
}

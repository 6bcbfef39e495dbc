/** `mdevctl undefine` (spec §5.2). */
import { flag, value } from "../cli/context.ts";
import type { CommandContext } from "../cli/context.ts";
import { scanDefined, withLock } from "../config_store.ts";
import { causeChain, MdevError } from "../errors.ts";
import { undefineDevice } from "../lifecycle.ts";
import { warn } from "../logger.ts";
import { warnIfManaged } from "./hostfile_warning.ts";

export async function run(ctx: CommandContext): Promise<void> {
  const { env, args } = ctx;
  const uuid = value(args, "uuid")!;
  await withLock(env, async () => {
    const groups = await scanDefined(env, { uuid, parent: value(args, "parent") }, {
      includeInvalid: true,
    });
    if (groups.size === 0) throw new MdevError("No devices match the specified uuid");
    await warnIfManaged(env, uuid);
    let failed = false;
    for (const [parent, devices] of groups) {
      for (const device of devices) {
        try {
          await undefineDevice(env, device, flag(args, "force"));
        } catch (e) {
          failed = true;
          for (const message of causeChain(e)) {
            warn(`Undefine of ${uuid} on parent ${parent} failed with error: ${message}`);
          }
        }
      }
    }
    if (failed) throw new MdevError("Undefine failed");
  });
}

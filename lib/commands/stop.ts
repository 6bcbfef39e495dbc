/** `mdevctl stop` (spec §5.5). */
import { runBracket } from "../callouts.ts";
import { flag, value } from "../cli/context.ts";
import type { CommandContext } from "../cli/context.ts";
import { newDevice } from "../config.ts";
import { withLock } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { removeDevice } from "../lifecycle.ts";
import { loadActive } from "../sysfs.ts";

export async function run(ctx: CommandContext): Promise<void> {
  const { env, args } = ctx;
  const uuid = value(args, "uuid")!;
  await withLock(env, async () => {
    const running = await loadActive(env, uuid);
    if (running === null) {
      // Upstream's top line for this case, with the plain reason below it.
      throw new MdevError("Device must have a defined mdev_type", [
        `Mediated device ${uuid} is not active`,
      ]);
    }
    const device = newDevice(uuid, { parent: running.parent, type: running.type, active: true });
    await runBracket(env, device, "stop", flag(args, "force"), () => removeDevice(env, uuid));
  });
}

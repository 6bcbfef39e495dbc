/** `mdevctl start` (mdevctl.md §5.4). */
import type { CommandContext } from "../cli/context.ts";
import { MdevDevice, newDevice } from "../config.ts";
import { scanDefined } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { readJsonfile } from "../jsonfile.ts";
import { startDevice } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { newUuid } from "../uuid.ts";
import { startWait } from "../monitor/options.ts";
import { waitBeforeStart } from "../monitor/start_wait.ts";

export async function run(ctx: CommandContext<"start">): Promise<void> {
  const { env } = ctx;
  const givenUuid = ctx.options.uuid;
  const uuid = givenUuid ?? newUuid();
  const parent = ctx.options.parent;
  const type = ctx.options.type;
  const jsonfile = ctx.options.jsonfile;
  const wait = startWait(env, ctx.options.wait);
  // Outside the lock: waiting must not hold up every other mdevctl.
  if (wait !== undefined) await waitBeforeStart(env, { uuid: givenUuid, parent, type }, wait);

  await withLock(env, async () => {
    let device: MdevDevice | undefined;
    if (jsonfile !== undefined) {
      const config = await readJsonfile(jsonfile, "Unable to read jsonfile");
      if (parent === undefined) {
        throw new MdevError("Parent device required to start device via json file");
      }
      device = newDevice(uuid, { parent, ...config });
    } else {
      if (givenUuid !== undefined) {
        const groups = scanDefined(env, { uuid, parent });
        const matches = [...groups.values()].flat();
        if (matches.length > 1) {
          throw new MdevError(
            `Multiple definitions found for device ${uuid}. Please specify a parent.`,
          );
        }
        const found = matches[0];
        if (found !== undefined) {
          if (type !== undefined && type !== found.type) {
            throw new MdevError(
              `Device ${uuid} already exists on parent ${found.parent} with type ${found.type}`,
            );
          }
          device = found;
        }
      }
      device ??= newDevice(uuid, { parent, type });
      if (device.type !== undefined && device.parent === undefined) {
        throw new MdevError("can't provide type without parent");
      }
      if (device.type === undefined || device.parent === undefined) {
        throw new MdevError("Device is insufficiently specified");
      }
    }
    await startDevice(env, device, ctx.options.force);
  });
  if (givenUuid === undefined) ctx.stdout(`${uuid}\n`);
}

/** `mdevctl define` (mdevctl.md §5.1). */
import type { CommandContext } from "../cli/context.ts";
import { MdevDevice, newDevice } from "../config.ts";
import { isDefined, scanDefined } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { openJsonfile } from "../jsonfile.ts";
import { writeDefinition } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { quotePath } from "../paths.ts";
import { loadActive } from "../sysfs/active.ts";
import { newUuid } from "../uuid.ts";

export async function run(ctx: CommandContext<"define">): Promise<void> {
  const { env } = ctx;
  const givenUuid = ctx.options.uuid;
  const uuid = givenUuid ?? newUuid();
  const parent = ctx.options.parent;
  const type = ctx.options.type;
  const jsonfile = ctx.options.jsonfile;

  await withLock(env, async () => {
    let device: MdevDevice;
    if (jsonfile !== undefined) {
      const file = await openJsonfile(jsonfile);
      try {
        if (parent === undefined) {
          throw new MdevError(`Parent device required to define device via ${quotePath(jsonfile)}`);
        }
        if (alreadyDefined(ctx, parent, uuid)) {
          throw new MdevError(
            `Cowardly refusing to overwrite existing config for ${parent}/${uuid}`,
          );
        }
        device = newDevice(uuid, { parent, ...await file.read() });
      } finally {
        file.close();
      }
    } else {
      const running = givenUuid === undefined ? null : loadActive(env, uuid);
      if (parent === undefined && (running === null || type !== undefined)) {
        throw new MdevError("No parent specified");
      }
      const p = parent ?? running?.parent;
      const t = type ?? running?.type;
      if (p === undefined) throw new MdevError("No parent specified");
      if (t === undefined) throw new MdevError("No type specified");
      if (alreadyDefined(ctx, p, uuid)) {
        throw new MdevError(`Device ${uuid} on ${p} already defined`);
      }
      device = newDevice(uuid, {
        parent: p,
        type: t,
        autostart: ctx.options.auto,
        // Attributes are taken from the running device only when it is this one.
        active: running !== null && running.parent === p && running.type === t,
      });
    }
    await writeDefinition(env, device, "define", ctx.options.force, { activeAttributes: true });
  });
  if (givenUuid === undefined) ctx.stdout(`${uuid}\n`);
}

/** A definition exists under the canonical name or any other spelling. */
function alreadyDefined(ctx: CommandContext<"define">, parent: string, uuid: string): boolean {
  if (isDefined(ctx.env, parent, uuid)) return true;
  const groups = scanDefined(ctx.env, { uuid, parent }, { includeInvalid: true });
  return groups.size > 0;
}

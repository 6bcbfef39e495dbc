/** `mdevctl modify` (mdevctl.md §5.3): stored definitions, and running devices with --live. */
import { activeAttributes } from "../callouts/attributes.ts";
import { runLive } from "../callouts/live.ts";
import type { CommandContext } from "../cli/context.ts";
import { Attr, MdevDevice, newDevice } from "../config.ts";
import { scanDefined } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { formatAttrs } from "../format.ts";
import { readJsonfile } from "../jsonfile.ts";
import { lookupActive, lookupDefined, writeDefinition } from "../lifecycle.ts";
import { withLock } from "../lock.ts";
import { warnIfManaged } from "../hostfile/warn_managed.ts";

export async function run(ctx: CommandContext<"modify">): Promise<void> {
  await warnIfManaged(ctx.env, ctx.options.uuid);
  await withLock(ctx.env, () => ctx.options.live ? modifyLive(ctx) : modifyDefined(ctx));
}

async function modifyDefined(ctx: CommandContext<"modify">): Promise<void> {
  const { env } = ctx;
  const uuid = ctx.options.uuid;
  const parent = ctx.options.parent;
  const jsonfile = ctx.options.jsonfile;
  let device: MdevDevice;
  if (jsonfile !== undefined) {
    if (parent === undefined) {
      throw new MdevError("Parent device required to modify device via json file");
    }
    const config = await readJsonfile(jsonfile);
    // Upstream creates the definition when there is none; keep a
    // differently spelled existing file in place rather than adding a twin.
    const existing = (scanDefined(env, { uuid, parent }, { includeInvalid: true }))
      .get(parent)?.[0];
    device = newDevice(uuid, { parent, ...config, configPath: existing?.configPath });
  } else {
    device = lookupDefined(env, uuid, parent);
    device = { ...device, attrs: [...device.attrs] };
    const type = ctx.options.type;
    if (type !== undefined) device.type = type;
    if (ctx.options.auto) device.autostart = true;
    if (ctx.options.manual) device.autostart = false;
    const indexText = ctx.options.index;
    const index = indexText === undefined ? undefined : Number(indexText);
    const name = ctx.options.addattr;
    if (name !== undefined) {
      // The table makes --addattr require --value.
      device.attrs = addAttr(device, name, ctx.options.value!, index);
    } else if (ctx.options.delattr) {
      device.attrs = deleteAttr(device, index);
    }
  }
  await writeDefinition(env, device, "modify", ctx.options.force);
}

function invalidIndex(device: MdevDevice, index: number): MdevError {
  const hint = device.attrs.length === 0
    ? `Device ${device.uuid} has no attributes`
    : formatAttrs(device.attrs);
  return new MdevError(`Attribute index ${index} is invalid\n${hint}`);
}

/** Inserts at `index` (0..count) or appends (mdevctl.md §5.3 A.2). */
export function addAttr(
  device: MdevDevice,
  name: string,
  value: string,
  index: number | undefined,
): Attr[] {
  const attrs = [...device.attrs];
  if (index === undefined) attrs.push([name, value]);
  else if (index > attrs.length) throw invalidIndex(device, index);
  else attrs.splice(index, 0, [name, value]);
  return attrs;
}

/** Removes element `index` (0..count-1) or the last one (mdevctl.md §5.3 A.2). */
export function deleteAttr(device: MdevDevice, index: number | undefined): Attr[] {
  const attrs = [...device.attrs];
  if (index === undefined) attrs.pop();
  else if (index >= attrs.length) throw invalidIndex(device, index);
  else attrs.splice(index, 1);
  return attrs;
}

async function modifyLive(ctx: CommandContext<"modify">): Promise<void> {
  const { env } = ctx;
  const uuid = ctx.options.uuid;
  // The table makes --live require --jsonfile.
  const jsonfile = ctx.options.jsonfile!;
  const active = lookupActive(env, uuid, ctx.options.parent);
  active.attrs = await activeAttributes(env, active);
  const config = await readJsonfile(jsonfile);
  if (config.type !== active.type) throw new MdevError("'type' cannot be changed on active mdev");
  let defined: MdevDevice | undefined;
  if (ctx.options.defined) {
    defined = lookupDefined(env, uuid, active.parent);
    if (defined.type !== active.type) {
      throw new MdevError("'type' of active and defined mdev does not match");
    }
  }
  const live = newDevice(uuid, { parent: active.parent, ...config, active: true });
  await runLive(env, live, config);
  if (defined !== undefined) {
    const stored = newDevice(uuid, {
      parent: active.parent,
      ...config,
      configPath: defined.configPath,
    });
    await writeDefinition(env, stored, "modify", ctx.options.force);
  }
}

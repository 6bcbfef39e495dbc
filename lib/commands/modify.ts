/** `mdevctl modify` (spec §5.3): stored definitions, and running devices with --live. */
import { activeAttributes, runBracket, runLive } from "../callouts.ts";
import { flag, value } from "../cli/context.ts";
import type { CommandContext } from "../cli/context.ts";
import { Attr, MdevConfig, MdevDevice, newDevice } from "../config.ts";
import { scanDefined, withLock, writeConfig } from "../config_store.ts";
import { MdevError } from "../errors.ts";
import { formatAttrs } from "../format.ts";
import { warnIfManaged } from "./hostfile_warning.ts";
import { lookupActive, lookupDefined, openJsonFile, readJsonConfig } from "../lifecycle.ts";

export async function run(ctx: CommandContext): Promise<void> {
  await warnIfManaged(ctx.env, value(ctx.args, "uuid")!);
  await withLock(ctx.env, () => flag(ctx.args, "live") ? modifyLive(ctx) : modifyDefined(ctx));
}

async function readJsonfile(path: string): Promise<MdevConfig> {
  const file = await openJsonFile(path);
  return await readJsonConfig(file, path);
}

async function modifyDefined(ctx: CommandContext): Promise<void> {
  const { env, args } = ctx;
  const uuid = value(args, "uuid")!;
  const parent = value(args, "parent");
  const jsonfile = value(args, "jsonfile");
  let device: MdevDevice;
  if (jsonfile !== undefined) {
    if (parent === undefined) {
      throw new MdevError("Parent device required to modify device via json file");
    }
    const config = await readJsonfile(jsonfile);
    // Upstream creates the definition when there is none; keep a
    // differently spelled existing file in place rather than adding a twin.
    const existing = (await scanDefined(env, { uuid, parent }, { includeInvalid: true }))
      .get(parent)?.[0];
    device = newDevice(uuid, { parent, ...config, configPath: existing?.configPath });
  } else {
    device = await lookupDefined(env, uuid, parent);
    device = { ...device, attrs: [...device.attrs] };
    const type = value(args, "type");
    if (type !== undefined) device.type = type;
    if (flag(args, "auto")) device.autostart = true;
    if (flag(args, "manual")) device.autostart = false;
    const indexText = value(args, "index");
    const index = indexText === undefined ? undefined : Number(indexText);
    const name = value(args, "addattr");
    if (name !== undefined) {
      device.attrs = addAttr(device, name, value(args, "value")!, index);
    } else if (flag(args, "delattr")) {
      device.attrs = deleteAttr(device, index);
    }
  }
  await runBracket(env, device, "modify", flag(args, "force"), () =>
    writeConfig(env, device, {
      type: device.type!,
      autostart: device.autostart,
      attrs: device.attrs,
    }));
}

function invalidIndex(device: MdevDevice, index: number): MdevError {
  const hint = device.attrs.length === 0
    ? `Device ${device.uuid} has no attributes`
    : formatAttrs(device.attrs);
  return new MdevError(`Attribute index ${index} is invalid\n${hint}`);
}

/** Inserts at `index` (0..count) or appends (spec §5.3 A.2). */
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

/** Removes element `index` (0..count-1) or the last one (spec §5.3 A.2). */
export function deleteAttr(device: MdevDevice, index: number | undefined): Attr[] {
  const attrs = [...device.attrs];
  if (index === undefined) attrs.pop();
  else if (index >= attrs.length) throw invalidIndex(device, index);
  else attrs.splice(index, 1);
  return attrs;
}

async function modifyLive(ctx: CommandContext): Promise<void> {
  const { env, args } = ctx;
  const uuid = value(args, "uuid")!;
  const jsonfile = value(args, "jsonfile")!;
  const active = await lookupActive(env, uuid, value(args, "parent"));
  active.attrs = await activeAttributes(env, active);
  const config = await readJsonfile(jsonfile);
  if (config.type !== active.type) throw new MdevError("'type' cannot be changed on active mdev");
  let defined: MdevDevice | undefined;
  if (flag(args, "defined")) {
    defined = await lookupDefined(env, uuid, active.parent);
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
    await runBracket(
      env,
      stored,
      "modify",
      flag(args, "force"),
      () => writeConfig(env, stored, config),
    );
  }
}

/**
 * The original (2019) command set (seed-interface.md), mapped onto today's
 * model: list-all, list-available, create-mdev, list-mdevs, stop-mdev,
 * start-mdev, list-saved, remove-mdev.
 */
import { runBracket } from "../callouts.ts";
import type { CommandContext } from "../cli/context.ts";
import { deviceConfig, MdevDevice, newDevice } from "../config.ts";
import {
  definitionReader,
  isDefined,
  scanDefined,
  withLock,
  writeConfig,
} from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { MdevError } from "../errors.ts";
import { createDevice, lookupDefined, stopActive, undefineDevice } from "../lifecycle.ts";
import { checkName } from "../names.ts";
import { MdevType, scanActive, scanTypes } from "../sysfs.ts";

/** The original tool accepted `8-4-4-4-12` hex, optionally in braces. */
const LEGACY_UUID =
  /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

function legacyUuid(text: string): string {
  const m = LEGACY_UUID.exec(text);
  if (!m || (text.startsWith("{") !== text.endsWith("}"))) {
    throw new MdevError(`Invalid uuid '${text}'`);
  }
  return m[1]!.toLowerCase();
}

/** The original `list-all` layout: no Name line, description newlines as spaces. */
export function formatLegacyTypes(groups: Map<string, MdevType[]>, onlyAvailable: boolean): string {
  const out: string[] = [];
  for (const [parent, types] of groups) {
    out.push(`${parent}\n`);
    for (const t of types) {
      if (onlyAvailable && t.availableInstances <= 0) continue;
      out.push(`  ${t.name}\n`);
      out.push(`    Available instances: ${t.availableInstances}\n`);
      out.push(`    Device API: ${t.deviceApi}\n`);
      if (t.rawDescription !== undefined) {
        out.push(`    Description: ${t.rawDescription.replaceAll("\n", " ")}\n`);
      }
    }
  }
  return out.join("");
}

function threeColumns(groups: Map<string, MdevDevice[]>): string {
  return [...groups.values()].flat().map((d) => `${d.uuid} ${d.parent} ${d.type}\n`).join("");
}

async function stopRunning(env: Environment, uuid: string): Promise<void> {
  if (!(await stopActive(env, uuid, false))) {
    throw new MdevError(`Mediated device ${uuid} is not active`);
  }
}

export async function run(ctx: CommandContext): Promise<void> {
  const { env } = ctx;
  const [first, second, third] = ctx.args.positionals;
  switch (ctx.command) {
    case "list-all":
    case "list-available":
      ctx.stdout(
        formatLegacyTypes(scanTypes(env, undefined), ctx.command === "list-available"),
      );
      return;
    case "list-mdevs":
      ctx.stdout(threeColumns(scanActive(env, {}, definitionReader(env))));
      return;
    case "list-saved":
      ctx.stdout(threeColumns(scanDefined(env, {})));
      return;
    case "create-mdev": {
      const uuid = legacyUuid(first!);
      const parent = checkName("parent", second!);
      const type = checkName("type", third!);
      await withLock(env, async () => {
        if (isDefined(env, parent, uuid)) {
          throw new MdevError(`Device ${uuid} on ${parent} already defined`);
        }
        const device = newDevice(uuid, { parent, type, autostart: true });
        await runBracket(
          env,
          device,
          "define",
          false,
          () => writeConfig(env, device, deviceConfig(device)),
        );
        await runBracket(env, device, "start", false, () => createDevice(env, device));
      });
      return;
    }
    case "start-mdev": {
      const uuid = legacyUuid(first!);
      await withLock(env, async () => {
        const device = lookupDefined(env, uuid, undefined);
        await runBracket(env, device, "start", false, () => createDevice(env, device));
      });
      return;
    }
    case "stop-mdev": {
      const uuid = legacyUuid(first!);
      await withLock(env, () => stopRunning(env, uuid));
      return;
    }
    case "remove-mdev": {
      const uuid = legacyUuid(first!);
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
      return;
    }
  }
  throw new MdevError(`Unknown original command '${ctx.command}'`);
}

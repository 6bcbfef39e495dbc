/**
 * `mdevctl start-parent-mdevs PARENT` (spec §5.8, decision §0.9): run by udev
 * when a parent registers; starts its auto-start devices in sorted order.
 */
import { runBracket } from "../callouts.ts";
import type { CommandContext } from "../cli/context.ts";
import type { MdevDevice } from "../config.ts";
import { scanDefined, withLock } from "../config_store.ts";
import type { Environment } from "../environment.ts";
import { causeChain } from "../errors.ts";
import { warn } from "../logger.ts";
import { writeStderr } from "../output.ts";
import { isDirectory, loadActive } from "../sysfs.ts";
import { createDevice } from "../lifecycle.ts";

/** Seconds to wait for a late parent and its types (MDEVCTL_AUTOSTART_WAIT). */
export const DEFAULT_AUTOSTART_WAIT = 10;

export async function run(ctx: CommandContext): Promise<void> {
  const { env } = ctx;
  const parent = ctx.args.positionals[0]!;
  const devices = (await scanDefined(env, { parent })).get(parent) ?? [];
  const auto = devices.filter((d) => d.autostart);
  if (auto.length === 0) return;
  await waitForTypes(env, parent, new Set(auto.map((d) => d.type!)));
  await withLock(env, async () => {
    for (const device of auto) await startOne(env, device);
  });
}

/**
 * Starts one auto-start device through the start bracket unless it already
 * runs; says which on stderr. Call it holding the lock. Also used by
 * `wait --all-auto --start-missing`.
 */
export async function startOne(env: Environment, device: MdevDevice): Promise<void> {
  const what = `mdev ${device.uuid} (type ${device.type}) on parent ${device.parent}`;
  const running = await loadActive(env, device.uuid).catch(() => null);
  if (running !== null && running.parent === device.parent && running.type === device.type) {
    writeStderr(`Already running: ${what}\n`);
    return;
  }
  try {
    await runBracket(env, device, "start", false, () => createDevice(env, device));
    writeStderr(`Started ${what}\n`);
  } catch (e) {
    writeStderr(`Failed to start ${what}\n`);
    for (const message of causeChain(e)) warn(message);
  }
}

function waitSeconds(): number {
  const text = Deno.env.get("MDEVCTL_AUTOSTART_WAIT");
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_AUTOSTART_WAIT;
}

/** Polls until the parent lists every needed type, or the wait runs out. */
async function waitForTypes(env: Environment, parent: string, types: Set<string>) {
  const deadline = Date.now() + waitSeconds() * 1000;
  const base = `${env.parentPath(parent)}/mdev_supported_types`;
  for (;;) {
    const present = await Promise.all([...types].map((t) => isDirectory(`${base}/${t}`)));
    if (present.every(Boolean) || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `mdevctl monitor` (spec monitor.md §2): the shell around lib/monitor. */
import { flag, value } from "../cli/context.ts";
import type { CommandContext } from "../cli/context.ts";
import { runMonitor } from "../monitor/monitor.ts";
import type { SourceChoice } from "../monitor/monitor.ts";
import { choiceOption, countOption, secondsOption } from "../monitor/options.ts";

const encoder = new TextEncoder();

/** Writes in full without blocking the loop: sources are read meanwhile. */
async function writeAsync(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

export async function run(ctx: CommandContext): Promise<number> {
  const { env, args } = ctx;
  const source = choiceOption<SourceChoice>(
    "monitor",
    args,
    "source",
    ["auto", "udevadm", "poll"],
    "auto",
  );
  const pollMs = countOption("monitor", args, "poll-interval") ?? 1000;
  const hooks = new Set(
    (Deno.env.get("MDEVCTL_MONITOR_TEST_HOOKS") ?? "").split(",").filter((h) => h !== ""),
  );
  return await runMonitor(env, {
    json: flag(args, "dumpjson"),
    source,
    pollMs,
    snapshot: flag(args, "snapshot"),
    filter: { uuid: value(args, "uuid"), parent: value(args, "parent") },
    count: countOption("monitor", args, "count"),
    timeoutMs: secondsOption("monitor", args, "timeout", undefined)?.ms,
    hooks,
    write: writeAsync,
  });
}

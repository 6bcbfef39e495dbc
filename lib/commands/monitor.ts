/** `mdevctl monitor` (spec monitor.md §2): the shell around lib/monitor. */
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

export async function run(ctx: CommandContext<"monitor">): Promise<number> {
  const { env, options } = ctx;
  const source = choiceOption<SourceChoice>(
    "monitor",
    "source",
    options.source,
    ["auto", "udevadm", "poll"],
    "auto",
  );
  return await runMonitor(env, {
    json: options.dumpjson,
    source,
    pollMs: countOption("monitor", "poll-interval", options["poll-interval"]) ?? 1000,
    snapshot: options.snapshot,
    filter: { uuid: options.uuid, parent: options.parent },
    count: countOption("monitor", "count", options.count),
    timeoutMs: secondsOption("monitor", "timeout", options.timeout, undefined)?.ms,
    hooks: env.monitorTestHooks,
    write: writeAsync,
  });
}

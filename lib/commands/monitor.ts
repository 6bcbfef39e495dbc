/** `mdevctl monitor` (spec monitor.md §2): the shell around lib/monitor. */
import type { CommandContext } from "../cli/context.ts";
import { runMonitor } from "../monitor/monitor.ts";
import type { MonitorFaults, SourceChoice } from "../monitor/monitor.ts";
import { seconds } from "../monitor/options.ts";
import { DEFAULT_POLL_INTERVAL_MS } from "../settings.ts";

/** Runs the monitor; `faults` only from tests (tests/monitor/faulty_monitor.ts). */
export async function run(ctx: CommandContext<"monitor">, faults?: MonitorFaults): Promise<number> {
  const { env, options } = ctx;
  const count = options.count;
  return await runMonitor(env, {
    json: options.dumpjson,
    source: (options.source ?? "auto") as SourceChoice,
    pollMs: Number(options["poll-interval"] ?? DEFAULT_POLL_INTERVAL_MS),
    snapshot: options.snapshot,
    filter: { uuid: options.uuid, parent: options.parent },
    count: count === undefined ? undefined : Number(count),
    timeoutMs: seconds(options.timeout)?.ms,
    faults,
    write: env.stdoutAsync,
  });
}

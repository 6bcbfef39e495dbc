/**
 * `mdevctl monitor` with faults injected in-process, for the tests of lost
 * events and a dying source (lib/monitor/monitor.ts, MonitorFaults). The
 * program itself has no way to switch them on; this test-only entry runs the
 * same command module as cli.ts, with the faults given first:
 *
 *   deno run ... tests/monitor/faulty_monitor.ts FAULTS MONITOR_ARGS...
 *
 * FAULTS, comma separated (or "-" for none):
 *   drop-config-events       inotify events are dropped, as past max_queued_events
 *   rescan-on-sigusr1        SIGUSR1 injects an inotify `rescan` event
 *   kill-udevadm-on-sigusr2  SIGUSR2 ends the `udevadm monitor` child
 *   stats                    at exit, `monitor-stats {...}` on stderr: the
 *                            monitor's counters and the process's RSS
 */
import { parseCommandLine } from "../../lib/cli/parse_args.ts";
import { commandContext } from "../../lib/cli/context.ts";
import { run } from "../../lib/commands/monitor.ts";
import { Environment } from "../../lib/environment.ts";
import type { MonitorControls, MonitorFaults } from "../../lib/monitor/monitor.ts";

const KNOWN = ["drop-config-events", "rescan-on-sigusr1", "kill-udevadm-on-sigusr2", "stats"];

const [list = "", ...args] = Deno.args;
const wanted = new Set(list === "-" ? [] : list.split(","));
for (const fault of wanted) {
  if (!KNOWN.includes(fault)) throw new Error(`faulty_monitor: unknown fault '${fault}'`);
}

let controls: MonitorControls | undefined;
if (wanted.has("rescan-on-sigusr1")) Deno.addSignalListener("SIGUSR1", () => controls?.rescan());
if (wanted.has("kill-udevadm-on-sigusr2")) {
  Deno.addSignalListener("SIGUSR2", () => controls?.killUdevadm());
}
const faults: MonitorFaults = {
  dropConfigEvents: wanted.has("drop-config-events"),
  started: (given) => controls = given,
  ended: (stats) => {
    if (!wanted.has("stats")) return;
    console.error(`monitor-stats ${JSON.stringify({ ...stats, rss: Deno.memoryUsage().rss })}`);
  },
};

const outcome = parseCommandLine(["monitor", ...args], "mdevctl");
if (outcome.kind !== "run") throw new Error(`faulty_monitor: not a monitor command: ${args}`);
const env = Environment.fromProcess();
const ctx = commandContext(env, outcome.command, outcome.args) as Parameters<typeof run>[0];
Deno.exit(await run(ctx, faults));

/**
 * The `MDEVCTL_LOG` filter (spec mdevctl.md §10.2, lib/logger.ts): one run of
 * `list` that has something to say at two levels and from two modules — a
 * warning about a stray sysfs entry (`mdevctl`), a warning about an invalid
 * MDEVCTL_CALLOUT_TIMEOUT and debug lines about the scripts it runs
 * (`mdevctl::callouts`) — under each filter; stderr must carry exactly the
 * lines the filter lets through, and stdout never changes.
 */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, U1, withHost } from "../helpers/fake_host.ts";
import { GOOD_ATTRS, script } from "../helpers/scripts.ts";

const T = "typeA";
const WARN_MAIN = "WARN mdevctl";
const WARN_CALLOUTS = "WARN mdevctl::callouts";
const DEBUG_CALLOUTS = "DEBUG mdevctl::callouts";
const WARNINGS = [WARN_MAIN, WARN_CALLOUTS];
const EVERYTHING = [...WARNINGS, DEBUG_CALLOUTS];

/** MDEVCTL_LOG value (undefined: unset) → the `LEVEL module` pairs on stderr. */
const CASES: [string | undefined, string[]][] = [
  [undefined, WARNINGS], // the default is warn
  ["", WARNINGS],
  ["off", []],
  ["error", []], // nothing here is logged at error level
  ["warn", WARNINGS],
  ["WARN", WARNINGS], // level names are case-insensitive
  ["info", WARNINGS],
  ["debug", EVERYTHING],
  ["trace", EVERYTHING],
  ["mdevctl::callouts=debug", EVERYTHING],
  ["mdevctl::callouts=off", [WARN_MAIN]],
  ["off,mdevctl::callouts=warn", [WARN_CALLOUTS]],
  ["error,mdevctl=debug", EVERYTHING], // a module directive covers its submodules
  ["mdevctl", EVERYTHING], // a bare module name means all its levels
  ["error,mdevctl::call=debug", []], // a prefix must end at a `::`
  ["debug,mdevctl::callouts=error", [WARN_MAIN]], // the longest module match wins
  ["loud", WARNINGS], // an unknown word is a module name; the default stays warn
  ["mdevctl=loud", WARNINGS], // an unknown level drops the directive
];

async function setup(host: FakeHost): Promise<void> {
  await host.addParent(P1, { [T]: {} });
  await host.addActive(U1, P1, T);
  // A stray entry on the mdev bus: a warning of the `mdevctl` module.
  await Deno.mkdir(host.path("sys/bus/mdev/devices/not-a-uuid"));
  // A script that answers get/attributes: the callouts module logs its runs at debug.
  await host.addScript("attrs.sh", script({ log: host.path("calls.log"), attrs: GOOD_ATTRS }));
}

/** `LEVEL module` of each log line, in first-seen order, without repeats. */
function sources(stderr: string): string[] {
  const seen: string[] = [];
  for (const line of stderr.split("\n").filter((l) => l !== "")) {
    const m = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (ERROR|WARN |INFO |DEBUG|TRACE) (\S+)\] ./
      .exec(line);
    if (m === null) throw new Error(`not a log line: ${JSON.stringify(line)}`);
    const source = `${m[1]!.trim()} ${m[2]}`;
    if (!seen.includes(source)) seen.push(source);
  }
  return seen;
}

for (const [filter, expected] of CASES) {
  Deno.test(`MDEVCTL_LOG=${filter === undefined ? "(unset)" : JSON.stringify(filter)}`, () =>
    withHost(async (host) => {
      await setup(host);
      const env: Record<string, string> = { MDEVCTL_CALLOUT_TIMEOUT: "soon" };
      if (filter !== undefined) env.MDEVCTL_LOG = filter;
      const r = await host.run(["list"], { env });
      assertEquals([r.code, r.stdout], [0, `${U1} ${P1} ${T} manual\n`]);
      assertEquals(sources(r.stderr).sort(), [...expected].sort(), r.stderr);
      if (expected.includes(WARN_MAIN)) {
        match(r.stderr, /Can't determine uuid for file 'not-a-uuid'/);
      }
      if (expected.includes(WARN_CALLOUTS)) {
        match(r.stderr, /Ignoring invalid MDEVCTL_CALLOUT_TIMEOUT 'soon'/);
      }
      if (expected.includes(DEBUG_CALLOUTS)) match(r.stderr, /attrs\.sh/);
    }));
}

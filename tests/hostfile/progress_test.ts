/**
 * apply's progress and interruption (hostfile.md §7, §8): each action's
 * line appears when the action completes, not at the end; SIGINT/SIGTERM
 * let the action under way finish, report the rest as skipped, print
 * `interrupted: <d> of <n> changes applied`, exit 130/143 and leave the
 * ledger matching the definitions.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, withHost } from "../helpers/fake_host.ts";
import { definitions, ledgerUuids, writeHostFile } from "./host_setup.ts";

const PARENT = "0000:00:02.0";
const FILE = "version: 1\npools: [{name: p, type: t, perParent: 4}]\n";
/** Each define's notifier takes this long, as a slow site script would. */
const NOTIFIER_SECONDS = 0.7;

async function slowHost(host: FakeHost): Promise<string> {
  await host.addParent(PARENT, { t: { available: 8 } });
  await host.addScript(
    "slow",
    `#!/bin/bash\ncat >/dev/null\nsleep ${NOTIFIER_SECONDS}\n`,
    "notifiers",
  );
  return await writeHostFile(host, FILE);
}

/** Reads a child's stdout line by line, with the time each line arrived (ms since start). */
async function* timedLines(
  child: Deno.ChildProcess,
  start: number,
): AsyncGenerator<{ line: string; at: number }> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield { line: pending.slice(0, nl), at: performance.now() - start };
      pending = pending.slice(nl + 1);
    }
  }
}

Deno.test("apply prints each action's line as it completes", () =>
  withHost(async (host) => {
    const file = await slowHost(host);
    const start = performance.now();
    const child = await host.spawn(["apply", "-f", file]);
    const seen: { line: string; at: number }[] = [];
    for await (const l of timedLines(child, start)) seen.push(l);
    const status = await child.status;
    assertEquals(status.code, 0);
    assertEquals(seen.map((l) => l.line.split(" ").at(-1)), [
      "status=done",
      "status=done",
      "status=done",
      "status=done",
      "4)",
    ]);
    assertEquals(seen.at(-1)!.line, "applied: 4 changes (define 4)");
    // The first line came while three more notifiers were still to run.
    const first = seen[0]!.at;
    const last = seen.at(-1)!.at;
    assertEquals(last - first >= 2 * NOTIFIER_SECONDS * 1000, true, `${first} ms, ${last} ms`);
  }));

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} mid-apply: the current action finishes, the rest is skipped, exit ${code}`, () =>
    withHost(async (host) => {
      const file = await slowHost(host);
      const child = await host.spawn(["apply", "-f", file]);
      const lines: string[] = [];
      for await (const { line } of timedLines(child, performance.now())) {
        if (lines.length === 0) child.kill(signal);
        lines.push(line);
      }
      const status = await child.status;
      assertEquals(status.code, code, lines.join("\n"));
      const done = lines.filter((l) => l.endsWith(" status=done")).length;
      const skipped = lines.filter((l) => l.endsWith(" status=skipped (interrupted)")).length;
      assertEquals(done >= 1 && done < 4 && done + skipped === 4, true, lines.join("\n"));
      assertEquals(lines.at(-1), `interrupted: ${done} of 4 changes applied`);
      // The ledger holds exactly what was defined: nothing owned is missing from it.
      const defined = Object.keys(await definitions(host)).map((k) => k.split("/")[1]!).sort();
      assertEquals(defined.length, done);
      assertEquals(await ledgerUuids(host), defined);
      // Running apply again finishes the job.
      const again = await host.run(["apply", "-f", file]);
      assertEquals(again.code, 0, again.stderr);
      assertEquals((await host.run(["diff", "-f", file])).code, 0);
    }));
}

/**
 * Host-file apply through the callout brackets (hostfile.md §7, §12.8): a
 * `pre` veto stops the run, --keep-going, post always after pre, --force,
 * notifiers once per action, no new action names.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, withHost } from "../helpers/fake_host.ts";
import { readCalls, shq } from "../helpers/scripts.ts";
import { definitions, ledgerUuids, writeHostFile } from "./host_setup.ts";
import { DEFAULT_NAMESPACE, poolInstanceName, uuid5 } from "../../lib/hostfile/uuid5.ts";

const PARENT = "0000:00:02.0";
const FILE = `version: 1
pools: [{name: p, type: t, perParent: 4}]
`;
const uuids = [0, 1, 2, 3].map((s) =>
  uuid5(DEFAULT_NAMESPACE, poolInstanceName("default", "p", PARENT, "t", s))
).sort();
// Execution order inside the define phase is by uuid; veto the second one.
const VETOED = uuids[1]!;

/** A versioned callout logging every call; `pre` of VETOED's define fails. */
function vetoScript(log: string): string {
  return `#!/bin/bash
in=$(cat; printf x); in=\${in%x}
printf '%s\\t%s\\t%s\\n' "\${0##*/}" "$*" "$in" >> ${shq(log)}
if [ "$6" = capabilities ]; then
  printf '%s' '{"supports":{"version":2,"actions":["start","stop","define","undefine","modify","attributes"],"events":["pre","post","notify","get"]}}'
  exit 0
fi
[ "$4" = pre ] && [ "$6" = define ] && [ "\${10}" = ${VETOED} ] && { echo "veto for \${10}" >&2; exit 1; }
exit 0
`;
}

async function setup(host: FakeHost): Promise<{ file: string; log: string }> {
  await host.addParent(PARENT, { t: { available: 8 } });
  const log = host.path("calls.log");
  await host.addScript("veto", vetoScript(log));
  await host.addScript(
    "notes",
    `#!/bin/bash\nprintf '%s\\t%s\\t-\\n' "\${0##*/}" "$*" >> ${shq(log)}\n`,
    "notifiers",
  );
  return { file: await writeHostFile(host, FILE), log };
}

Deno.test("a pre veto stops the run: exit 1, the rest skipped, nothing of theirs in the ledger", () =>
  withHost(async (host) => {
    const { file, log } = await setup(host);
    const r = await host.run(["apply", "-f", file, "--dumpjson"]);
    assertEquals(r.code, 1);
    const out = JSON.parse(r.stdout);
    assertEquals(out.result, "partial");
    assertEquals(
      out.changes.map((c: { uuid: string; status: string }) => [c.uuid, c.status]),
      [[uuids[0], "done"], [uuids[1], "failed"], [uuids[2], "skipped"], [uuids[3], "skipped"]],
    );
    assertEquals(out.changes[1].error.message.includes("veto"), true, out.changes[1].error.message);
    assertEquals(r.stderr.includes(`veto: veto for ${VETOED}`), true, r.stderr);
    assertEquals(r.stderr.includes(`Error: define of ${PARENT}/${VETOED} failed`), true, r.stderr);
    assertEquals(Object.keys(await definitions(host)), [`${PARENT}/${uuids[0]}`]);
    assertEquals(await ledgerUuids(host), [uuids[0]]);
    // Only the 1.x action names; post follows every pre that passed; one notify per action.
    const calls = (await readCalls(log)).filter((c) => c.action !== "capabilities");
    assertEquals(
      calls.map((c) => `${c.script} ${c.event}/${c.action} ${c.state} ${c.uuid.slice(0, 8)}`),
      [
        `veto pre/define none ${uuids[0]!.slice(0, 8)}`,
        `veto post/define success ${uuids[0]!.slice(0, 8)}`,
        `notes notify/define success ${uuids[0]!.slice(0, 8)}`,
        `veto pre/define none ${VETOED.slice(0, 8)}`,
        `notes notify/define none ${VETOED.slice(0, 8)}`,
      ],
    );
    // The callout saw the config apply writes.
    assertEquals(calls[0]!.stdin, '{"mdev_type":"t","start":"auto","attrs":[]}');

    // Re-running converges once the veto is gone.
    await Deno.remove(host.path("usr/lib/mdevctl/scripts.d/callouts/veto"));
    const again = await host.run(["apply", "-f", file]);
    assertEquals(again.code, 0);
    assertEquals(await ledgerUuids(host), uuids);
    assertEquals((await host.run(["diff", "-f", file])).code, 0);
  }));

Deno.test("--keep-going runs the independent changes after a failure", () =>
  withHost(async (host) => {
    const { file } = await setup(host);
    const r = await host.run(["apply", "-f", file, "--keep-going"]);
    assertEquals(r.code, 1);
    const all = r.stdout.trimEnd().split("\n");
    // The failure's cause follows its line, indented.
    const causes = all.filter((l) => l.startsWith("  cause: "));
    assertEquals(causes.length > 0, true, r.stdout);
    const lines = all.filter((l) => !l.startsWith("  cause: "));
    assertEquals(lines.slice(0, 4).map((l) => l.split(" ").at(-1)), [
      "status=done",
      "status=failed",
      "status=done",
      "status=done",
    ]);
    assertEquals(lines[1]!.includes(VETOED), true);
    assertEquals(all[all.indexOf(lines[1]!) + 1]!.startsWith("  cause: "), true);
    assertEquals(lines[4], "failed: 3 of 4 changes done, 1 failed, 0 skipped");
    assertEquals(await ledgerUuids(host), uuids.filter((u) => u !== VETOED));
    const diff = await host.run(["diff", "-f", file]);
    assertEquals(diff.code, 3);
    assertEquals(
      diff.stdout.split("\n")[0],
      `+ ${PARENT}/${VETOED} t define start=auto rule=p slot=${
        [0, 1, 2, 3].find((s) =>
          uuid5(DEFAULT_NAMESPACE, poolInstanceName("default", "p", PARENT, "t", s)) === VETOED
        )
      }`,
    );
  }));

Deno.test("--force overrides a failing pre, as in 1.x", () =>
  withHost(async (host) => {
    const { file, log } = await setup(host);
    const r = await host.run(["apply", "-f", file, "--force"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr.includes("Forcing operation 'define'"), true, r.stderr);
    assertEquals(Object.keys(await definitions(host)).length, 4);
    const posts = (await readCalls(log)).filter((c) => c.event === "post");
    assertEquals(posts.length, 4);
  }));

Deno.test("adopt runs no callout; --start starts through the start bracket and writes create", () =>
  withHost(async (host) => {
    const { file, log } = await setup(host);
    await Deno.remove(host.path("usr/lib/mdevctl/scripts.d/callouts/veto"));
    for (const u of uuids) {
      await host.define(PARENT, u, { mdev_type: "t", start: "auto", attrs: [] });
    }
    const r = await host.run(["apply", "-f", file, "--start"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.split("\n").filter((l) => l.startsWith("* ")).length, 4);
    assertEquals(r.stdout.split("\n").filter((l) => l.startsWith("> ")).length, 4);
    const notes = (await readCalls(log)).map((c) => `${c.event}/${c.action}`);
    assertEquals(notes, ["notify/start", "notify/start", "notify/start", "notify/start"]);
    // The fake `create` file keeps the last uuid written to it: the last in start order.
    assertEquals(
      await host.read(`sys/devices/pci0000:00/${PARENT}/mdev_supported_types/t/create`),
      uuids[3],
    );
  }));

/** `start-parent-mdevs` (spec §5.8, decision §0.9). */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";

async function created(host: FakeHost, parent: string, type: string): Promise<string> {
  return await Deno.readTextFile(`${host.typeDir(parent, type)}/create`);
}

Deno.test("start-parent-mdevs: starts exactly the auto devices of that parent, sorted", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: { available: 4 } });
    await host.addParent(P2, { typeA: {} });
    await host.define(P1, U3, { mdev_type: "typeA", start: "auto" });
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto" });
    await host.define(P1, U2, { mdev_type: "typeA", start: "manual" });
    await host.define(P2, U2, { mdev_type: "typeA", start: "auto" });
    // The fake create file keeps only the last write: log every write instead.
    const log = `${host.typeDir(P1, "typeA")}/create`;
    const r = await host.run(["start-parent-mdevs", P1]);
    assertEquals([r.code, r.stdout], [0, ""]);
    assertEquals(await created(host, P1, "typeA"), U3);
    assertEquals(await created(host, P2, "typeA"), "");
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines, [
      `Started mdev ${U1} (type typeA) on parent ${P1}`,
      `Started mdev ${U3} (type typeA) on parent ${P1}`,
    ]);
    void log;
  }));

Deno.test("start-parent-mdevs: idempotent — running devices are left alone", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto" });
    const r = await host.run(["start-parent-mdevs", P1]);
    assertEquals(r, {
      code: 0,
      stdout: "",
      stderr: `Already running: mdev ${U1} (type typeA) on parent ${P1}\n`,
    });
    assertEquals(await created(host, P1, "typeA"), "");
  }));

Deno.test("start-parent-mdevs: a failing device is logged; the others start; exit 0", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.define(P1, U1, { mdev_type: "typeC", start: "auto" });
    await host.define(P1, U2, { mdev_type: "typeA", start: "auto" });
    await host.define(P1, U3, "{ corrupt");
    const r = await host.run(["start-parent-mdevs", P1], { env: { MDEVCTL_AUTOSTART_WAIT: "0" } });
    assertEquals([r.code, r.stdout], [0, ""]);
    match(r.stderr, new RegExp(`Failed to start mdev ${U1} \\(type typeC\\) on parent ${P1}\n`));
    match(r.stderr, new RegExp(`WARN  mdevctl\\] Parent ${P1} does not support mdev type typeC\n`));
    match(r.stderr, new RegExp(`Started mdev ${U2} `));
    match(r.stderr, new RegExp(`WARN .*${U3}`));
    assertEquals(await created(host, P1, "typeA"), U2);
  }));

Deno.test("start-parent-mdevs: nothing defined or nothing auto → silent exit 0", () =>
  withHost(async (host) => {
    assertEquals(await host.run(["start-parent-mdevs", P1]), { code: 0, stdout: "", stderr: "" });
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual" });
    assertEquals(await host.run(["start-parent-mdevs", P1]), { code: 0, stdout: "", stderr: "" });
  }));

Deno.test("start-parent-mdevs: waits for a parent whose types appear late", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto" });
    const started = Date.now();
    const run = host.run(["start-parent-mdevs", P1], { env: { MDEVCTL_AUTOSTART_WAIT: "5" } });
    await new Promise((r) => setTimeout(r, 400));
    await host.addParent(P1, { typeA: {} });
    const r = await run;
    assertEquals([r.code, r.stderr], [0, `Started mdev ${U1} (type typeA) on parent ${P1}\n`]);
    assertEquals(await created(host, P1, "typeA"), U1);
    assertEquals(Date.now() - started < 5000, true);
  }));

Deno.test("start-parent-mdevs: gives up after the wait and reports", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto" });
    const r = await host.run(["start-parent-mdevs", P1], {
      env: { MDEVCTL_AUTOSTART_WAIT: "0.2" },
    });
    assertEquals(r.code, 0);
    match(r.stderr, new RegExp(`Unable to find parent device '${P1}'`));
  }));

Deno.test("start-parent-mdevs: needs exactly one parent argument; bad names refused", () =>
  withHost(async (host) => {
    assertEquals((await host.run(["start-parent-mdevs"])).code, 2);
    assertEquals((await host.run(["start-parent-mdevs", P1, P2])).code, 2);
    assertEquals(await host.run(["start-parent-mdevs", "../etc"]), {
      code: 1,
      stdout: "",
      stderr: "Error: Invalid parent name '../etc'\n",
    });
  }));

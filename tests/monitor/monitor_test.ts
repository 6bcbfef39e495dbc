/**
 * `mdevctl monitor` against fake hosts (spec monitor.md §2): config events
 * from the real config commands, kernel events from the poll source and
 * from a stand-in udevadm replaying a recorded session, batch order,
 * overflow, a stalled reader, filters and exit.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { fakeUdevadm, FAULTY_MONITOR, MonitorProcess, sleep, startMonitor } from "./helpers.ts";

type Ev = Record<string, unknown>;
const brief = (e: Ev) => [e.event, e.parent, e.uuid].filter((x) => x !== undefined).join(" ");
const after = (events: Ev[], n: number) => events.slice(n).filter((e) => e.event !== "resync");

Deno.test("monitor: define, modify and undefine give config events in order", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const m = await startMonitor(host);
    const start = m.events.length;
    equal((await host.run(["define", "-u", U1, "-p", P1, "-t", "typeA"])).code, 0);
    await m.untilEvent("defined", { uuid: U1 });
    equal((await host.run(["modify", "-u", U1, "--auto"])).code, 0);
    await m.untilEvent("modified", { uuid: U1 });
    equal((await host.run(["undefine", "-u", U1])).code, 0);
    await m.untilEvent("undefined", { uuid: U1 });
    equal(await m.stop(), 0);
    const events = after(m.events, start);
    deepEqual(events.map(brief), [
      `defined ${P1} ${U1}`,
      `modified ${P1} ${U1}`,
      `undefined ${P1} ${U1}`,
    ]);
    deepEqual(events[0], {
      ...events[0],
      type: "typeA",
      source: "config",
      config: { mdev_type: "typeA", start: "manual", attrs: [] },
    });
    deepEqual(events[1]!.before, { mdev_type: "typeA", start: "manual", attrs: [] });
    deepEqual(events[1]!.config, { mdev_type: "typeA", start: "auto", attrs: [] });
    // seq counts every line from 1.
    deepEqual(m.events.map((e) => e.seq), m.events.map((_, i) => i + 1));
    equal(await m.stderr, "");
  }));

Deno.test("monitor: start, stop and parent changes from the poll source", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto", attrs: [] });
    const m = await startMonitor(host);
    const start = m.events.length;
    await host.addActive(U1, P1, "typeA");
    await m.untilEvent("started", { uuid: U1 });
    await Deno.remove(host.path(`sys/bus/mdev/devices/${U1}`));
    await m.untilEvent("stopped", { uuid: U1 });
    await host.addParent(P2, { typeB: {} });
    await m.untilEvent("parent-registered", { parent: P2 });
    await Deno.remove(host.path(`sys/class/mdev_bus/${P2}`));
    await m.untilEvent("parent-unregistered", { parent: P2 });
    equal(await m.stop(), 0);
    const events = after(m.events, start);
    deepEqual(events.map(brief), [
      `started ${P1} ${U1}`,
      `stopped ${P1} ${U1}`,
      `parent-registered ${P2}`,
      `parent-unregistered ${P2}`,
    ]);
    deepEqual(
      [events[0]!.type, events[0]!.source, events[0]!.start, events[0]!.defined],
      ["typeA", "poll", "auto", true],
    );
    deepEqual(events[2]!.types, ["typeB"]);
  }));

Deno.test("monitor --snapshot: the current state as initial events, then synced", () =>
  withHost(async (host) => {
    await host.addParent(P2, { typeB: {} });
    await host.addParent(P1, { typeA: {} });
    await host.define(P1, U2, { mdev_type: "typeA", start: "manual", attrs: [] });
    await host.addActive(U1, P1, "typeA");
    const m = await startMonitor(host);
    equal(await m.stop(), 0);
    deepEqual(m.events.map(brief), [
      `parent-registered ${P1}`,
      `parent-registered ${P2}`,
      `defined ${P1} ${U2}`,
      `started ${P1} ${U1}`,
      "synced",
    ]);
    ok(m.events.slice(0, 4).every((e) => e.initial === true && e.source === "snapshot"));
    deepEqual(m.events[3], {
      v: 1,
      seq: 4,
      time: m.events[3]!.time,
      event: "started",
      uuid: U1,
      parent: P1,
      type: "typeA",
      source: "snapshot",
      start: "manual",
      defined: false,
      initial: true,
    });
  }));

Deno.test("monitor: an injected inotify overflow gives resync, then one batch in order", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addParent(P2, { typeB: {} });
    await host.define(P2, U3, { mdev_type: "typeB", start: "manual", attrs: [] });
    await host.define(P1, U2, { mdev_type: "typeA", start: "manual", attrs: [] });
    await host.addActive(U3, P2, "typeB");
    // Config events are dropped, as past max_queued_events, and polling is
    // too slow to matter: only the injected rescan can reveal the changes.
    const m = await startMonitor(
      host,
      ["--source", "poll", "--poll-interval", "600000"],
      {},
      [],
      "drop-config-events,rescan-on-sigusr1",
    );
    const start = m.events.length;
    await Deno.remove(host.path(`sys/bus/mdev/devices/${U3}`));
    await Deno.remove(host.path(`etc/mdevctl.d/${P2}/${U3}`));
    await Deno.remove(host.path(`sys/class/mdev_bus/${P2}`));
    await host.define(P1, U2, { mdev_type: "typeA", start: "auto", attrs: [] });
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual", attrs: [] });
    await host.addActive(U1, P1, "typeA");
    await host.addParent("css0", { typeC: {} });
    await sleep(400);
    equal(m.events.length, start, "nothing seen before the rescan");
    m.child.kill("SIGUSR1");
    await m.untilEvent("parent-unregistered");
    equal(await m.stop(), 0);
    const events = m.events.slice(start);
    deepEqual(events.map(brief), [
      "resync",
      "parent-registered css0",
      `defined ${P1} ${U1}`,
      `modified ${P1} ${U2}`,
      `started ${P1} ${U1}`,
      `stopped ${P2} ${U3}`,
      `undefined ${P2} ${U3}`,
      `parent-unregistered ${P2}`,
    ]);
    equal(events[0]!.reason, "inotify-overflow");
  }));

Deno.test("monitor: -u and -p filter, --count ends after N events", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addParent(P2, { typeA: {} });
    const m = new MonitorProcess(
      await host.spawn([
        "monitor",
        "--source=poll",
        "--poll-interval=100",
        "-p",
        P1,
        "--count",
        "2",
      ]),
    );
    await sleep(1500); // started and watching
    await host.define(P2, U2, { mdev_type: "typeA", start: "manual", attrs: [] });
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual", attrs: [] });
    await host.addActive(U1, P1, "typeA");
    const { code } = await m.child.status;
    await m.finished;
    equal(code, 0);
    deepEqual(m.lines.map((l) => l.replace(/^\S+ /, "")), [
      `defined ${P1}/${U1} typeA`,
      `started ${P1}/${U1} typeA`,
    ]);
  }));

Deno.test("monitor: watching starts even when /etc/mdevctl.d does not exist yet", () =>
  withHost(async (host) => {
    await Deno.remove(host.path("etc"), { recursive: true });
    await host.addParent(P1, { typeA: {} });
    const m = await startMonitor(host);
    equal((await host.run(["define", "-u", U1, "-p", P1, "-t", "typeA"])).code, 0);
    await m.untilEvent("defined", { uuid: U1 });
    equal((await host.run(["define", "-u", U2, "-p", P1, "-t", "typeA"])).code, 0);
    await m.untilEvent("defined", { uuid: U2 });
    equal(await m.stop(), 0);
  }));

Deno.test("monitor: --timeout ends with status 0; bad values are usage errors", () =>
  withHost(async (host) => {
    const t0 = Date.now();
    const r = await host.run(["monitor", "--source", "poll", "--timeout", "0.5"]);
    deepEqual(r, { code: 0, stdout: "", stderr: "" });
    ok(Date.now() - t0 < 5000);
    const bad = await host.run(["monitor", "--source", "netlink"]);
    equal(bad.code, 2);
    equal(
      bad.stderr.split("\n")[0],
      "error: invalid value 'netlink' for '--source <SOURCE>': one of auto, udevadm, poll",
    );
    equal((await host.run(["monitor", "--count", "0"])).code, 2);
    equal((await host.run(["monitor", "--poll-interval", "fast"])).code, 2);
  }));

/** Lines per changed device in the stall test. */
const STALL_DEVICES = 400;

Deno.test("monitor: a stalled reader keeps memory bounded and ends with the right state", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    const m = new MonitorProcess(
      await host.spawn(["stats", "--dumpjson", "--source=poll", "--poll-interval=50"], {
        entry: FAULTY_MONITOR,
      }),
      false,
    );
    await sleep(1500);
    const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
    const dir = host.path(`etc/mdevctl.d/${P1}`);
    await Deno.mkdir(dir, { recursive: true });
    // Many more changes than the pipe holds lines (nobody reads stdout).
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < STALL_DEVICES; i++) {
        await Deno.writeTextFile(
          `${dir}/${uuid(i)}`,
          JSON.stringify({ mdev_type: "typeA", start: round % 2 ? "auto" : "manual", attrs: [] }),
        );
      }
      await sleep(300);
      for (let i = 0; i < STALL_DEVICES; i += 2) await Deno.remove(`${dir}/${uuid(i)}`);
      await sleep(300);
    }
    // The final state: the odd ones defined (manual after round 2), plus U1.
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto", attrs: [] });
    await sleep(500);
    // Now read everything and replay it.
    const lines: string[] = [];
    let buffer = "";
    const reader = (async () => {
      for await (const chunk of m.child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
      }
    })();
    await sleep(2000);
    m.child.kill("SIGTERM");
    await reader;
    const { code } = await m.child.status;
    equal(code, 0);
    lines.push(...buffer.split("\n").filter((l) => l !== ""));
    const model = new Map<string, string>();
    for (const e of lines.map((l) => JSON.parse(l))) {
      const config = e.config as { start: string } | undefined;
      if (e.event === "defined") {
        ok(!model.has(e.uuid), `defined twice: ${e.uuid}`);
        model.set(e.uuid, config!.start);
      } else if (e.event === "modified") {
        ok(model.has(e.uuid), `modified before defined: ${e.uuid}`);
        model.set(e.uuid, config!.start);
      } else if (e.event === "undefined") {
        ok(model.delete(e.uuid), `undefined while not defined: ${e.uuid}`);
      }
    }
    const expected = new Map<string, string>();
    for (let i = 1; i < STALL_DEVICES; i += 2) expected.set(uuid(i), "manual");
    expected.set(U1, "auto");
    deepEqual(new Map([...model].sort()), new Map([...expected].sort()));
    // Far fewer lines than changes: the stalled part was coalesced.
    ok(lines.length < 3 * STALL_DEVICES * 1.5, `${lines.length} lines`);
    const stats = JSON.parse((await m.stderr).match(/monitor-stats (.*)/)![1]!);
    ok(stats.maxBatch <= STALL_DEVICES + 2, `batch of ${stats.maxBatch}`);
    ok(stats.rss < 400 * 1024 * 1024, `rss ${stats.rss}`);
  }));

/** The recorded uevent blocks, by SEQNUM. */
async function recordedBlocks(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(new URL("./fixtures/udevadm_mtty.txt", import.meta.url));
  const blocks = new Map<string, string>();
  for (const block of text.split("\n\n")) {
    const seq = /SEQNUM=(\d+)/.exec(block)?.[1];
    if (seq) blocks.set(seq, `${block}\n\n`);
  }
  return blocks;
}

Deno.test("monitor --source udevadm: recorded uevents drive the rescans, in order", () =>
  withHost(async (host) => {
    const { env, feed } = await fakeUdevadm(host);
    const blocks = await recordedBlocks();
    const send = (from: number, to: number) => {
      let text = "";
      for (let seq = from; seq <= to; seq++) text += blocks.get(String(seq))!;
      return Deno.writeTextFile(feed, text, { append: true });
    };
    // The recording (kernel suite, mtty): start and stop of one device, rmmod, insmod.
    const mtty = "mtty";
    const U = "11111111-1111-4111-8111-000000000001";
    await host.addParent(mtty, { "mtty-1": {}, "mtty-2": {} });
    const m = await startMonitor(
      host,
      ["--source", "udevadm"],
      env,
      ["udevadm"],
      "kill-udevadm-on-sigusr2",
    );
    const start = m.events.length;
    await host.addActive(U, mtty, "mtty-2");
    await send(687, 690);
    await m.untilEvent("started", { uuid: U });
    await Deno.remove(host.path(`sys/bus/mdev/devices/${U}`));
    await send(691, 694);
    await m.untilEvent("stopped", { uuid: U });
    await Deno.remove(host.path(`sys/class/mdev_bus/${mtty}`));
    await send(695, 699);
    await m.untilEvent("parent-unregistered", { parent: mtty });
    await host.addParent(mtty, {});
    await send(700, 704);
    // (not the initial one of the snapshot)
    await m.until((es) =>
      es.slice(start).some((e) => e.event === "parent-registered" && e.parent === mtty)
    );
    // Without a uevent, a change is not seen (until the periodic resync).
    await host.addParent(P1, { typeA: {} });
    await sleep(500);
    equal(m.events.some((e) => e.parent === P1), false, m.lines.join("\n"));
    // A restarted source may have missed events: resync, and the diff.
    m.child.kill("SIGUSR2");
    await m.untilEvent("parent-registered", { parent: P1 });
    equal(await m.stop(), 0);
    const events = m.events.slice(start);
    deepEqual(events.map(brief), [
      `started ${mtty} ${U}`,
      `stopped ${mtty} ${U}`,
      `parent-unregistered ${mtty}`,
      `parent-registered ${mtty}`,
      "resync",
      `parent-registered ${P1}`,
    ]);
    equal(events[4]!.reason, "source-restart");
    ok(events.slice(0, 4).every((e) => e.source === "udevadm"));
  }));

/**
 * `mdevctl wait` and `start --wait` against fake hosts (spec monitor.md
 * §3.1–3.2): readiness levels, timing, the 1.x top lines with the path
 * waited for, and `--all-auto --start-missing`.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { FakeHost, P1, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { sleep } from "./helpers.ts";

function timeoutText(top: string, seconds: string, path: string): string {
  return `Error: ${top}\n\nCaused by:\n    timed out after ${seconds} s waiting for "${path}"\n`;
}

/** Runs mdevctl and measures when it exits. */
async function timed(host: FakeHost, args: string[], env: Record<string, string> = {}) {
  const child = await host.spawn(args, { env });
  const out = child.output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
    at: Date.now(),
  }));
  return out;
}

/** A device the kernel shows as ready: running, with an IOMMU group and its vfio node. */
async function addReady(host: FakeHost, uuid: string, parent: string, type: string, group: string) {
  await host.addActive(uuid, parent, type);
  const groupDir = host.path(`sys/kernel/iommu_groups/${group}`);
  await Deno.mkdir(groupDir, { recursive: true });
  await Deno.symlink(groupDir, `${host.parentDir(parent)}/${uuid}/iommu_group`);
  await Deno.mkdir(host.path("dev/vfio"), { recursive: true });
  await Deno.writeTextFile(host.path(`dev/vfio/${group}`), "");
}

Deno.test("wait -p -t: returns within 1 s of the type appearing 300 ms after it started", () =>
  withHost(async (host) => {
    await host.addParent(P1, {});
    const result = timed(host, ["wait", "-p", P1, "-t", "typeA", "--timeout", "20"]);
    // Deno's start-up is part of "after it started": let it be running first.
    await sleep(1500);
    await sleep(300);
    await host.addType(P1, "typeA"); // filled aside and renamed in, as the kernel's appears whole
    const appeared = Date.now();
    const r = await result;
    deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
    ok(r.at - appeared < 1000, `${r.at - appeared} ms after the type appeared`);
  }));

Deno.test("wait -p -t: times out within 2 s of --timeout with start's top line", () =>
  withHost(async (host) => {
    await host.addParent(P1, {});
    const t0 = Date.now();
    const r = await timed(host, ["wait", "-p", P1, "-t", "typeA", "--timeout", "1"]);
    ok(r.at - t0 < 1000 + 2000 + 1500, `${r.at - t0} ms`); // + Deno start-up
    ok(r.at - t0 >= 1000);
    deepEqual([r.code, r.stdout], [1, ""]);
    equal(
      r.stderr,
      timeoutText(
        `Parent ${P1} does not support mdev type typeA`,
        "1",
        host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/typeA`),
      ),
    );
  }));

Deno.test("wait -p: each level names what is missing", () =>
  withHost(async (host) => {
    const run = (args: string[]) => host.run(["wait", ...args, "--timeout=0"]);
    equal(
      (await run(["-p", P1])).stderr,
      timeoutText(
        `Unable to find parent device '${P1}'`,
        "0",
        host.path(`sys/class/mdev_bus/${P1}`),
      ),
    );
    // Present but not registered: no mdev_supported_types yet.
    await Deno.mkdir(host.parentDir(P1), { recursive: true });
    await Deno.symlink(host.parentDir(P1), host.path(`sys/class/mdev_bus/${P1}`));
    equal(
      (await run(["-p", P1])).stderr,
      timeoutText(
        `Parent ${P1} is not currently registered for mdev support`,
        "0",
        host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types`),
      ),
    );
    await host.addType(P1, "typeA", { available: -1 });
    deepEqual(await run(["-p", P1]), { code: 0, stdout: "", stderr: "" });
    deepEqual(await run(["-p", P1, "-t", "typeA"]), { code: 0, stdout: "", stderr: "" });
    const full = await run(["-p", P1, "-t", "typeA", "--capacity"]);
    equal(full.code, 1);
    equal(
      full.stderr,
      timeoutText(
        `No available instances of typeA on ${P1}`,
        "0",
        host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/typeA/available_instances`),
      ),
    );
    await Deno.writeTextFile(`${host.typeDir(P1, "typeA")}/available_instances`, "2\n");
    equal((await run(["-p", P1, "-t", "typeA", "--capacity"])).code, 0);
  }));

Deno.test("wait -u: device-active needs the type link, the IOMMU group and /dev/vfio", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual", attrs: [] });
    const run = () => host.run(["wait", "-u", U1, "--timeout", "0"]);
    equal(
      (await run()).stderr,
      timeoutText(
        `Mediated device ${U1} is not active`,
        "0",
        host.path(`sys/bus/mdev/devices/${U1}`),
      ),
    );
    await host.addActive(U1, P1, "typeA");
    equal(
      (await run()).stderr,
      timeoutText(
        `Mediated device ${U1} is not ready`,
        "0",
        host.path(`sys/bus/mdev/devices/${U1}/iommu_group`),
      ),
    );
    await Deno.remove(host.path(`sys/bus/mdev/devices/${U1}`));
    await Deno.remove(`${host.parentDir(P1)}/${U1}`, { recursive: true });
    await addReady(host, U1, P1, "typeA", "7");
    deepEqual(await run(), { code: 0, stdout: "", stderr: "" });
  }));

Deno.test("wait --all-auto --start-missing starts exactly the auto devices whose types exist", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: { available: 4 } });
    const log = host.path("callout.log");
    await host.addScript("log", `#!/bin/sh\necho "$@" >> '${log}'\n`);
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto", attrs: [] });
    await host.define(P1, U2, { mdev_type: "typeB", start: "auto", attrs: [] });
    await host.define(P1, U3, { mdev_type: "typeA", start: "manual", attrs: [] });
    const r = await host.run(["wait", "--all-auto", "--start-missing", "--timeout", "0.5"]);
    // The fake kernel creates nothing, so the wait itself runs out.
    equal(r.code, 1);
    equal(await host.read(`sys/devices/pci0000:00/${P1}/mdev_supported_types/typeA/create`), U1);
    ok(r.stderr.includes(`Started mdev ${U1} (type typeA) on parent ${P1}\n`), r.stderr);
    ok(!r.stderr.includes(U2 + " (type"), r.stderr);
    ok(!r.stderr.includes(U3), r.stderr);
    ok(
      r.stderr.endsWith(
        timeoutText(
          `Mediated device ${U1} is not active`,
          "0.5",
          host.path(`sys/bus/mdev/devices/${U1}`),
        ),
      ),
      r.stderr,
    );
    // Through the start bracket: pre and post callouts, for U1 only.
    const calls = (await host.read("callout.log")).trim().split("\n")
      .filter((c) => / -a start/.test(c));
    deepEqual(calls.map((c) => c.split(" ").slice(0, 6).join(" ")), [
      "-t typeA -e pre -a start",
      "-t typeA -e post -a start",
    ]);
    ok(calls.every((c) => c.includes(U1)), calls.join("\n"));
  }));

Deno.test("wait --all-auto: ready devices exit 0 at once; running ones are not started again", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.define(P1, U1, { mdev_type: "typeA", start: "auto", attrs: [] });
    await host.define(P1, U3, { mdev_type: "typeA", start: "manual", attrs: [] });
    await addReady(host, U1, P1, "typeA", "3");
    const r = await host.run(["wait", "--all-auto", "--start-missing"]);
    deepEqual(r, { code: 0, stdout: "", stderr: "" });
    equal(await host.read(`sys/devices/pci0000:00/${P1}/mdev_supported_types/typeA/create`), "");
  }));

Deno.test("start --wait: creates once the type appears; times out with start's top line", () =>
  withHost(async (host) => {
    await host.addParent(P1, {});
    await host.define(P1, U1, { mdev_type: "typeA", start: "manual", attrs: [] });
    const result = timed(host, ["start", "-u", U1, "--wait=20"]);
    await sleep(1500);
    await host.addType(P1, "typeA"); // filled aside and renamed in, as the kernel's appears whole
    const r = await result;
    deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
    equal(await host.read(`sys/devices/pci0000:00/${P1}/mdev_supported_types/typeA/create`), U1);

    const late = await host.run(["start", "-p", P1, "-t", "typeB", "--wait=0.3"]);
    deepEqual([late.code, late.stdout], [1, ""]);
    equal(
      late.stderr,
      timeoutText(
        `Parent ${P1} does not support mdev type typeB`,
        "0.3",
        host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/typeB`),
      ),
    );
    // A bare --wait takes MDEVCTL_START_WAIT.
    const bare = await host.run(["start", "-p", P1, "-t", "typeB", "--wait"], {
      env: { MDEVCTL_START_WAIT: "0.2" },
    });
    ok(bare.stderr.includes("timed out after 0.2 s"), bare.stderr);
    // Without --wait, start fails at once as in 1.x.
    deepEqual(await host.run(["start", "-p", P1, "-t", "typeB"]), {
      code: 1,
      stdout: "",
      stderr: `Error: Parent ${P1} does not support mdev type typeB\n`,
    });
  }));

Deno.test("wait: usage errors", () =>
  withHost(async (host) => {
    equal((await host.run(["wait"])).code, 2);
    equal((await host.run(["wait", "-p", P1, "-u", U1])).code, 2);
    equal((await host.run(["wait", "-t", "typeA", "--all-auto"])).code, 2);
    equal((await host.run(["wait", "--start-missing", "-p", P1])).code, 2);
    const bad = await host.run(["wait", "-p", P1, "--timeout", "soon"]);
    equal(bad.code, 2);
    equal(
      bad.stderr.split("\n")[0],
      "error: invalid value 'soon' for '--timeout <SECONDS>': not a number of seconds",
    );
  }));

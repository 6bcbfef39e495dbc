/**
 * Scripts such as s390's ap-check take a lock in `pre` and release it in
 * `post` (consumers.md §1.2): after a successful pre, post must follow
 * whatever the command's own step does. A fixture "lock" script creates a
 * file on pre and removes it on post; after every command it must be gone.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { FakeHost, P1, U1, U2, withHost } from "../helpers/fake_host.ts";
import { CAPS_V2, readCalls, script } from "../helpers/scripts.ts";

const T = "typeA";

async function addLockScript(host: FakeHost): Promise<void> {
  const lock = host.path("ap.lock");
  await host.addScript(
    "lock.sh",
    script({
      log: host.path("calls.log"),
      caps: CAPS_V2,
      epilogue: `case "$event" in pre) : > '${lock}' ;; post) rm -f '${lock}' ;; esac`,
    }),
  );
}

Deno.test("post follows every successful pre, whether the command succeeds or fails", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 1 } });
    await addLockScript(host);
    await host.define(P1, U2, { mdev_type: "typeZ", start: "manual", attrs: [] });
    const cases: [string[], number][] = [
      [["define", "-u", U1, "-p", P1, "-t", T], 0],
      [["define", "-u", U1, "-p", P1, "-t", T], 1], // already defined: fails before the bracket
      [["modify", "-u", U1, "--auto"], 0],
      [["start", "-u", U1], 0],
      // The fake kernel did not make U1 appear, so this stop fails in its primary step.
      [["stop", "-u", U1], 1],
      [["start", "-u", U2], 1], // the parent has no typeZ: create refused
      [["undefine", "-u", U1], 0],
    ];
    for (const [args, code] of cases) {
      await Deno.remove(host.path("calls.log")).catch(() => {});
      const r = await host.run(args);
      assertEquals([args.join(" "), r.code], [args.join(" "), code], r.stderr);
      assertEquals(await host.exists("ap.lock"), false, `lock leaked by ${args.join(" ")}`);
      const events = (await readCalls(host.path("calls.log"))).map((c) => c.event);
      assertEquals(
        events.filter((e) => e === "pre").length,
        events.filter((e) => e === "post").length,
        args.join(" "),
      );
    }
  }));

Deno.test("a failing attribute write after create: post(failure) still releases the lock", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 1 } });
    await addLockScript(host);
    // Play the kernel: the device directory exists, without the attribute file.
    const dev = `${host.parentDir(P1)}/${U1}`;
    await Deno.mkdir(dev, { recursive: true });
    await Deno.writeTextFile(`${dev}/remove`, "");
    await Deno.symlink(dev, host.path(`sys/bus/mdev/devices/${U1}`));
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [{ missing: "1" }] });
    const r = await host.run(["start", "-u", U1]);
    assertEquals([r.code, r.stderr.endsWith("Error: Invalid attribute 'missing'\n")], [1, true]);
    assertEquals(await host.exists("ap.lock"), false);
    const calls = await readCalls(host.path("calls.log"));
    assertEquals(calls.map((c) => `${c.event}/${c.action} ${c.state}`), [
      "get/capabilities none",
      "pre/start none",
      "post/start failure",
    ]);
  }));

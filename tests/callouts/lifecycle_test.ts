/**
 * What callouts and notifiers see per command (spec §8.9), through the real
 * program: each fixture script logs its argv and stdin, the tests assert the
 * exact sequences, payloads, files and messages.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { FakeHost, P1, P2, stripLogTimes, U1, U2, withHost } from "../helpers/fake_host.ts";
import {
  callSequence,
  CAPS_V2,
  CAPS_V3_LIVE,
  GOOD_ATTRS,
  readCalls,
  type ScriptSpec,
} from "../helpers/scripts.ts";

const T = "typeA";
const PROVIDES =
  '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}';

function logOf(host: FakeHost): string {
  return host.callLog;
}

function add(
  host: FakeHost,
  name: string,
  spec: Omit<ScriptSpec, "log">,
  where: Parameters<FakeHost["addScript"]>[2] = "callouts",
): Promise<string> {
  return host.addScript(name, spec, where);
}

const calls = (host: FakeHost) => callSequence(logOf(host));
const stripTimes = stripLogTimes;

function config(type: string, start: "auto" | "manual", attrs: Record<string, string>[] = []) {
  return JSON.stringify({ mdev_type: type, start, attrs });
}

Deno.test("define (not running): caps → pre → post(success) → notify; file written", () =>
  withHost(async (host) => {
    await add(host, "rc0.sh", {});
    await add(host, "notify.sh", {}, "notifiers");
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => [c.script, c.argv, c.stdin]), [
      ["rc0.sh", `-t ${T} -e get -a capabilities -s none -u ${U1} -p ${P1}`, PROVIDES],
      ["rc0.sh", `-t ${T} -e pre -a define -s none -u ${U1} -p ${P1}`, config(T, "manual")],
      ["rc0.sh", `-t ${T} -e post -a define -s success -u ${U1} -p ${P1}`, config(T, "manual")],
      ["notify.sh", `-t ${T} -e notify -a define -s success -u ${U1} -p ${P1}`, ""],
    ]);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), true);
  }));

Deno.test("define -u U (running): get/attributes inside the bracket; attrs stored", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.addActive(U1, P1, T);
    await add(host, "ver.sh", { caps: CAPS_V2, attrs: GOOD_ATTRS });
    await add(host, "notify.sh", {}, "notifiers");
    const r = await host.run(["define", "-u", U1]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await calls(host), [
      "ver.sh get/capabilities none",
      "ver.sh pre/define none",
      "ver.sh get/attributes none",
      "ver.sh post/define success",
      "notify.sh notify/define success",
    ]);
    // Pre and post got the config as it was before the attributes were added.
    const logged = await readCalls(logOf(host));
    assertEquals([logged[1]!.stdin, logged[3]!.stdin], [
      config(T, "manual"),
      config(T, "manual"),
    ]);
    assertEquals(
      JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)),
      { mdev_type: T, start: "manual", attrs: [{ attribute0: "VALUE" }] },
    );
  }));

Deno.test("define -u U (running) with bad JSON: fails after post(failure) and notify", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.addActive(U1, P1, T);
    await add(host, "bad.sh", { attrs: "not json" });
    await add(host, "notify.sh", {}, "notifiers");
    const r = await host.run(["define", "-u", U1]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: "Error: Invalid JSON received from callout script\n\nCaused by:\n" +
        "    expected ident at line 1 column 2\n",
    });
    assertEquals(await calls(host), [
      "bad.sh get/capabilities none",
      "bad.sh pre/define none",
      "bad.sh get/attributes none",
      "bad.sh post/define failure",
      "notify.sh notify/define failure",
    ]);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("modify: pre and post get the new config", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    await add(host, "rc0.sh", {});
    await add(host, "notify.sh", {}, "notifiers");
    const r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => `${c.script} ${c.event}/${c.action} ${c.state} ${c.stdin}`), [
      `rc0.sh get/capabilities none ${PROVIDES}`,
      `rc0.sh pre/modify none ${config(T, "auto")}`,
      `rc0.sh post/modify success ${config(T, "auto")}`,
      "notify.sh notify/modify success ",
    ]);
  }));

Deno.test("start, stop, undefine: caps → pre → post → notify", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 2 } });
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    await add(host, "rc0.sh", {});
    await add(host, "notify.sh", {}, "notifiers");
    for (
      const [args, action] of [
        [["start", "-u", U1], "start"],
        [["undefine", "-u", U1], "undefine"],
      ] as const
    ) {
      await Deno.remove(logOf(host)).catch(() => {});
      const r = await host.run([...args]);
      assertEquals(r, { code: 0, stdout: "", stderr: "" });
      assertEquals(await calls(host), [
        "rc0.sh get/capabilities none",
        `rc0.sh pre/${action} none`,
        `rc0.sh post/${action} success`,
        `notify.sh notify/${action} success`,
      ]);
      assertEquals((await readCalls(logOf(host))).slice(1).map((c) => c.argv), [
        `-t ${T} -e pre -a ${action} -s none -u ${U1} -p ${P1}`,
        `-t ${T} -e post -a ${action} -s success -u ${U1} -p ${P1}`,
        `-t ${T} -e notify -a ${action} -s success -u ${U1} -p ${P1}`,
      ]);
    }
    await host.addActive(U2, P2, T);
    await Deno.remove(logOf(host));
    assertEquals(await host.run(["stop", "-u", U2]), { code: 0, stdout: "", stderr: "" });
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => `${c.script} ${c.event}/${c.action} ${c.state} ${c.parent}`), [
      `rc0.sh get/capabilities none ${P2}`,
      `rc0.sh pre/stop none ${P2}`,
      `rc0.sh post/stop success ${P2}`,
      `notify.sh notify/stop success ${P2}`,
    ]);
    // stop's payload: the running type, manual, no attrs (spec §5.5).
    assertEquals(logged[1]!.stdin, config(T, "manual"));
    assertEquals(await host.read(`sys/devices/pci0000:00/${P2}/${U2}/remove`), "1");
  }));

Deno.test("start: a vetoing pre → notify(none), nothing created, exit 1; --force overrides", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    const rc1 = await add(host, "rc1.sh", { exits: { "*": 1 } });
    await add(host, "notify.sh", {}, "notifiers");
    const createFile = `sys/devices/pci0000:00/${P1}/mdev_supported_types/${T}/create`;
    const r = await host.run(["start", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script '"${rc1}"' failed with status '1'\n`,
    });
    assertEquals(await calls(host), [
      "rc1.sh get/capabilities none",
      "rc1.sh pre/start none",
      "notify.sh notify/start none",
    ]);
    assertEquals(await host.read(createFile), "");

    await Deno.remove(logOf(host));
    const forced = await host.run(["start", "-u", U1, "-p", P1, "-t", T, "--force"]);
    assertEquals([forced.code, forced.stdout], [0, ""]);
    assertEquals(
      stripTimes(forced.stderr),
      `[WARN  mdevctl::callouts] Forcing operation 'start' despite callout failure. ` +
        `Error was: Script '"${rc1}"' failed with status '1'\n`,
    );
    assertEquals(await calls(host), [
      "rc1.sh get/capabilities none",
      "rc1.sh pre/start none",
      "rc1.sh post/start success",
      "notify.sh notify/start success",
    ]);
    assertEquals(await host.read(createFile), U1);
  }));

Deno.test("start: a failing create still gets post(failure) after a successful pre", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 0 } });
    await add(host, "ver.sh", { caps: CAPS_V2 });
    const r = await host.run(["start", "-u", U1, "-p", P1, "-t", T]);
    assertEquals([r.code, r.stderr], [1, `Error: No available instances of ${T} on ${P1}\n`]);
    assertEquals(await calls(host), [
      "ver.sh get/capabilities none",
      "ver.sh pre/start none",
      "ver.sh post/start failure",
    ]);
  }));

Deno.test("start-parent-mdevs: one caps query per parent and type, a bracket per device", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 4 } });
    await host.define(P1, U1, { mdev_type: T, start: "auto", attrs: [] });
    await host.define(P1, U2, { mdev_type: T, start: "auto", attrs: [] });
    await add(host, "ver.sh", { caps: CAPS_V2 });
    await add(host, "notify.sh", {}, "notifiers");
    const r = await host.run(["start-parent-mdevs", P1]);
    assertEquals(r.code, 0);
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => `${c.script} ${c.event}/${c.action} ${c.state} ${c.uuid}`), [
      `ver.sh get/capabilities none ${U1}`,
      `ver.sh pre/start none ${U1}`,
      `ver.sh post/start success ${U1}`,
      `notify.sh notify/start success ${U1}`,
      `ver.sh pre/start none ${U2}`,
      `ver.sh post/start success ${U2}`,
      `notify.sh notify/start success ${U2}`,
    ]);
  }));

Deno.test("versioned script wins over legacy ones; rc1 fails, --force passes", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await add(host, "rc1.sh", { exits: { "*": 1 } });
    const ver = await add(host, "ver-rc1.sh", { caps: CAPS_V2, exits: { pre: 1, post: 1 } });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script '"${ver}"' failed with status '1'\n`,
    });
    assertEquals(await calls(host), [
      "rc1.sh get/capabilities none",
      "ver-rc1.sh get/capabilities none",
      "ver-rc1.sh pre/define none",
    ]);
    const forced = await host.run(["define", "-u", U1, "-p", P1, "-t", T, "--force"]);
    assertEquals(forced.code, 0);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), true);
  }));

Deno.test("versioned script without the action: `does not support action 'Modify'`", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    const ver = await add(host, "ver.sh", {
      caps: { actions: ["start", "stop", "define", "undefine", "attributes"] },
    });
    const r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script "${ver}" does not support action 'Modify'\n`,
    });
    const s = await host.run(["undefine", "-u", U1]);
    assertEquals(s.code, 0);
  }));

Deno.test("versioned script without the event: `does not support event 'Pre'`", () =>
  withHost(async (host) => {
    const ver = await add(host, "ver.sh", { caps: { events: ["post", "get"] } });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script "${ver}" does not support event 'Pre'\n`,
    });
  }));

Deno.test("a killed pre is a failure with status 'unknown' (decision §0.8)", () =>
  withHost(async (host) => {
    const ver = await add(host, "ver.sh", {
      caps: CAPS_V2,
      preamble: '[ "$4" = pre ] && kill -KILL $$',
    });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script '"${ver}"' failed with status 'unknown'\n\nCaused by:\n` +
        "    terminated by signal SIGKILL\n",
    });
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("a pre that hangs past MDEVCTL_CALLOUT_TIMEOUT is killed and vetoes; notify(none)", () =>
  withHost(async (host) => {
    const slow = await add(host, "slow.sh", {
      caps: CAPS_V2,
      preamble: '[ "$4" = pre ] && exec sleep 30',
    });
    await add(host, "notify.sh", {}, "notifiers");
    const started = Date.now();
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T], {
      env: { MDEVCTL_CALLOUT_TIMEOUT: "2" },
    });
    assertEquals(Date.now() - started < 10_000, true);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script '"${slow}"' timed out after 2 seconds\n\nCaused by:\n` +
        "    The script was killed. MDEVCTL_CALLOUT_TIMEOUT sets the limit in seconds (0: none).\n",
    });
    // The killed pre never logged its run (the preamble comes first).
    assertEquals(await calls(host), [
      "slow.sh get/capabilities none",
      "notify.sh notify/define none",
    ]);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("an invalid MDEVCTL_CALLOUT_TIMEOUT warns and keeps the default", () =>
  withHost(async (host) => {
    await add(host, "rc0.sh", {});
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T], {
      env: { MDEVCTL_CALLOUT_TIMEOUT: "soon" },
    });
    assertEquals(r.code, 0);
    assertEquals(
      stripTimes(r.stderr),
      "[WARN  mdevctl::callouts] Ignoring invalid MDEVCTL_CALLOUT_TIMEOUT 'soon': " +
        "expected seconds, using 30 seconds\n",
    );
  }));

Deno.test("capabilities: a killed script warns and is skipped; unknown names warn", () =>
  withHost(async (host) => {
    const killed = await add(host, "a-killed.sh", {
      preamble: '[ "$6" = capabilities ] && kill -KILL $$',
    });
    const ver = await add(host, "b-ver.sh", {
      caps: { actions: [...CAPS_V2.actions!, "dummy"], events: [...CAPS_V2.events!, "dummy"] },
    });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r.code, 0);
    assertEquals(
      stripTimes(r.stderr),
      `[WARN  mdevctl::callouts] callout script "${killed}" was terminated by a signal\n` +
        `[WARN  mdevctl::callouts] Callout script "${ver}" provides unknown Action type\n` +
        `[WARN  mdevctl::callouts] Callout script "${ver}" provides unknown Event type\n`,
    );
    // a-killed.sh dies before it logs anything.
    assertEquals(await calls(host), [
      "b-ver.sh get/capabilities none",
      "b-ver.sh pre/define none",
      "b-ver.sh post/define success",
    ]);
  }));

Deno.test("the used script's stderr is relayed as `<file name>: <bytes>`; others' is not", () =>
  withHost(async (host) => {
    const say = (tag: string) => `printf '${tag}:%s' "$4" >&2`;
    await add(host, "a-other.sh", { types: ["other"], preamble: say("a") });
    await add(host, "b-mine.sh", { preamble: say("b") });
    await add(host, "n.sh", { preamble: say("n") }, "notifiers");
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: "b-mine.sh: b:preb-mine.sh: b:post" });
  }));

Deno.test("deprecated callout and notifier dirs are used after the primary ones", () =>
  withHost(async (host) => {
    await add(host, "a.sh", { exits: { "*": 2 } });
    await add(host, "0-old.sh", {}, "deprecated-callouts");
    await add(host, "old-notify.sh", {}, "deprecated-notifiers");
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r.code, 0);
    assertEquals(await calls(host), [
      "a.sh get/capabilities none",
      "0-old.sh get/capabilities none",
      "a.sh pre/define none",
      "0-old.sh pre/define none",
      "0-old.sh post/define success",
      "old-notify.sh notify/define success",
    ]);
  }));

Deno.test("undefine on two parents: one bracket per definition, a veto fails that one", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    await host.define(P2, U1, { mdev_type: "typeB", start: "manual", attrs: [] });
    const rc1 = await add(host, "b-only.sh", { types: ["typeB"], exits: { pre: 1 } });
    const r = await host.run(["undefine", "-u", U1]);
    assertEquals(r.code, 1);
    assertEquals(
      stripTimes(r.stderr),
      `[WARN  mdevctl] Undefine of ${U1} on parent ${P2} failed with error: ` +
        `Script '"${rc1}"' failed with status '1'\nError: Undefine failed\n`,
    );
    assertEquals([
      await host.exists(`etc/mdevctl.d/${P1}/${U1}`),
      await host.exists(`etc/mdevctl.d/${P2}/${U1}`),
    ], [false, true]);
  }));

const LIVE_JSON = '{"mdev_type":"typeA","start":"manual","attrs":[{"x":"1"}]}';

Deno.test("modify --live: caps → get/attributes → live/modify → notify(modify, none)", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.addActive(U1, P1, T);
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    await add(host, "live.sh", { caps: CAPS_V3_LIVE });
    await add(host, "notify.sh", {}, "notifiers");
    const before = await host.read(`etc/mdevctl.d/${P1}/${U1}`);
    const r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", "/dev/stdin"], {
      stdin: LIVE_JSON,
    });
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => `${c.script} ${c.event}/${c.action} ${c.state} ${c.stdin}`), [
      `live.sh get/capabilities none ${PROVIDES}`,
      "live.sh get/attributes none ",
      `live.sh live/modify none ${LIVE_JSON}`,
      "notify.sh notify/modify none ",
    ]);
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), before);

    // With --defined the stored config is then written inside a modify bracket.
    await Deno.remove(logOf(host));
    const d = await host.run(
      ["modify", "-u", U1, "--live", "--defined", "--jsonfile", "/dev/stdin"],
      { stdin: LIVE_JSON },
    );
    assertEquals(d, { code: 0, stdout: "", stderr: "" });
    assertEquals(await calls(host), [
      "live.sh get/capabilities none",
      "live.sh get/attributes none",
      "live.sh live/modify none",
      "notify.sh notify/modify none",
      "live.sh pre/modify none",
      "live.sh post/modify success",
      "notify.sh notify/modify success",
    ]);
    assertEquals(JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)), JSON.parse(LIVE_JSON));
  }));

Deno.test("modify --live: the messages of §8.7, and which calls and notifications each makes", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.addActive(U1, P1, T);
    await add(host, "notify.sh", {}, "notifiers");
    const live = ["modify", "-u", U1, "--live", "--jsonfile", "/dev/stdin"];
    const legacy = await add(host, "legacy.sh", {});
    let r = await host.run(live, { stdin: LIVE_JSON });
    assertEquals(
      [r.code, r.stderr],
      [1, "Error: No callout script with version support found that supports live modify\n"],
    );
    await Deno.remove(legacy);

    // v2 without the live event: a support error, and no notification.
    const v2 = await add(host, "v2.sh", { caps: CAPS_V2 });
    await Deno.remove(logOf(host));
    r = await host.run(live, { stdin: LIVE_JSON });
    assertEquals(
      [r.code, r.stderr],
      [1, `Error: Script "${v2}" does not support event 'Live'\n`],
    );
    assertEquals(await calls(host), ["v2.sh get/capabilities none", "v2.sh get/attributes none"]);
    await Deno.remove(v2);

    // Exit 1 fails; exit 2 says "not supported"; both notify(modify, none).
    for (
      const [code, message] of [
        [1, (p: string) => `Script '"${p}"' failed with status '1'`],
        [
          2,
          (p: string) =>
            `Script "${p}" does not support live modify of this device (exit status 2)`,
        ],
      ] as const
    ) {
      const path = await add(host, `live${code}.sh`, { caps: CAPS_V3_LIVE, exits: { live: code } });
      await Deno.remove(logOf(host));
      r = await host.run(live, { stdin: LIVE_JSON });
      assertEquals([r.code, r.stderr], [1, `Error: ${message(path)}\n`]);
      assertEquals(await calls(host), [
        `live${code}.sh get/capabilities none`,
        `live${code}.sh get/attributes none`,
        `live${code}.sh live/modify none`,
        "notify.sh notify/modify none",
      ]);
      await Deno.remove(path);
    }
  }));

Deno.test("a pre whose background child keeps the pipes open times out too; we still exit", () =>
  withHost(async (host) => {
    const leaky = await add(host, "leaky.sh", {
      caps: CAPS_V2,
      preamble: '[ "$4" = pre ] && { sleep 20 & exit 0; }',
    });
    const started = Date.now();
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T], {
      env: { MDEVCTL_CALLOUT_TIMEOUT: "1.5" },
    });
    assertEquals(Date.now() - started < 10_000, true);
    assertEquals([r.code, r.stderr.split("\n")[0]], [
      1,
      `Error: Script '"${leaky}"' timed out after 1.5 seconds`,
    ]);
  }));

Deno.test("start-parent-mdevs: a veto for one device does not stop the others", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 4 } });
    await host.define(P1, U1, { mdev_type: T, start: "auto", attrs: [] });
    await host.define(P1, U2, { mdev_type: T, start: "auto", attrs: [] });
    const ver = await add(host, "ver.sh", {
      caps: CAPS_V2,
      epilogue: `[ "$event" = pre ] && [ "\${10}" = ${U1} ] && code=1`,
    });
    const r = await host.run(["start-parent-mdevs", P1]);
    assertEquals(r.code, 0);
    assertEquals(
      stripTimes(r.stderr).includes(
        `[WARN  mdevctl] Script '"${ver}"' failed with status '1'\n`,
      ),
      true,
      r.stderr,
    );
    const logged = await readCalls(logOf(host));
    assertEquals(logged.map((c) => `${c.event}/${c.action} ${c.state} ${c.uuid}`), [
      `get/capabilities none ${U1}`,
      `pre/start none ${U1}`,
      `pre/start none ${U2}`,
      `post/start success ${U2}`,
    ]);
    assertEquals(
      await host.read(`sys/devices/pci0000:00/${P1}/mdev_supported_types/${T}/create`),
      U2,
    );
  }));

/**
 * Which callout script is used, and what happens around it (spec mdevctl.md
 * §8, consumers.md §1), through the real program: legacy selection by type
 * and order, versioned scripts and their capabilities, discovery, timeouts,
 * relayed output, and the re-check before a live update. Every fixture
 * script logs its runs (tests/helpers/scripts.ts), so the tests assert exact
 * call sequences.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FakeHost, P1, P2, stripLogTimes, U1, U2, withHost } from "../helpers/fake_host.ts";
import {
  callSequence,
  CAPS_V2,
  CAPS_V3_LIVE,
  FLOOD,
  GOOD_ATTRS,
  readCalls,
  type ScriptSpec,
  shq,
} from "../helpers/scripts.ts";

const T = "typeA";
const PROVIDES =
  '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}';
const LEGACY_OK: Omit<ScriptSpec, "log"> = {};
const LEGACY_FAIL: Omit<ScriptSpec, "log"> = { exits: { "*": 1 } };
const STDIN = `{"mdev_type":"${T}","start":"manual","attrs":[]}`;

const calls = (host: FakeHost) => callSequence(host.callLog);
const clearLog = (host: FakeHost) => Deno.remove(host.callLog).catch(() => {});

const stripTimes = stripLogTimes;

const failed = (path: string, status: string | number = 1) =>
  `Script '"${path}"' failed with status '${status}'`;

/** A parent with the types the tests start devices of. */
async function parent(host: FakeHost): Promise<void> {
  await host.addParent(P1, {
    [T]: { available: 100 },
    type_b: { available: 100 },
    type_c: { available: 100 },
    type_d: { available: 100 },
  });
}

const createFile = (type: string) =>
  `sys/devices/pci0000:00/${P1}/mdev_supported_types/${type}/create`;

Deno.test("legacy selection: type filters (exit 2 = not mine), sort order, directory priority", async (t) => {
  const cases: {
    name: string;
    scripts: [string, Omit<ScriptSpec, "log">, ("callouts" | "deprecated-callouts")?][];
    type?: string;
    fails: string | null;
    calls?: string[];
  }[] = [
    {
      name: "type_c claimed by type-c.sh, which fails",
      scripts: [
        ["type-a.sh", { types: [T] }],
        ["type-b.sh", { types: ["type_b"] }],
        ["type-c.sh", { types: ["type_c"], exits: { "*": 1 } }],
      ],
      type: "type_c",
      fails: "type-c.sh",
    },
    {
      name: "no script claims type_d: each is asked, none vetoes",
      scripts: [["type-a.sh", { types: [T] }], ["type-b.sh", { types: ["type_b"] }]],
      type: "type_d",
      fails: null,
      calls: [
        "type-a.sh get/capabilities none",
        "type-b.sh get/capabilities none",
        "type-a.sh pre/start none",
        "type-b.sh pre/start none",
        "type-a.sh post/start success",
        "type-b.sh post/start success",
      ],
    },
    { name: "wrong type (exit 2)", scripts: [["rc2.sh", { exits: { "*": 2 } }]], fails: null },
    {
      name: "order, failing: 00 (exit 1) before 99 (exit 0)",
      scripts: [["99-rc0.sh", LEGACY_OK], ["00-rc1.sh", LEGACY_FAIL]],
      fails: "00-rc1.sh",
    },
    {
      name: "order, passing: 00 (exit 0) claims first",
      scripts: [["99-rc1.sh", LEGACY_FAIL], ["00-rc0.sh", LEGACY_OK]],
      fails: null,
      calls: [
        "00-rc0.sh get/capabilities none",
        "99-rc1.sh get/capabilities none",
        "00-rc0.sh pre/start none",
        "00-rc0.sh post/start success",
      ],
    },
    {
      name: "the primary directory wins (passing)",
      scripts: [["a.sh", LEGACY_FAIL, "deprecated-callouts"], ["z.sh", LEGACY_OK]],
      fails: null,
    },
    {
      name: "the primary directory wins (failing)",
      scripts: [["a.sh", LEGACY_OK, "deprecated-callouts"], ["z.sh", LEGACY_FAIL]],
      fails: "z.sh",
    },
    {
      name: "primary exit 2 is skipped, the deprecated one fails",
      scripts: [["a.sh", LEGACY_FAIL, "deprecated-callouts"], ["z.sh", { exits: { "*": 2 } }]],
      fails: "a.sh",
    },
    {
      name: "primary exit 2 is skipped, the deprecated one passes",
      scripts: [["a.sh", LEGACY_OK, "deprecated-callouts"], ["z.sh", { exits: { "*": 2 } }]],
      fails: null,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () =>
      withHost(async (host) => {
        await parent(host);
        const paths = new Map<string, string>();
        for (const [name, spec, where] of c.scripts) {
          paths.set(name, await host.addScript(name, spec, where));
        }
        const type = c.type ?? T;
        const args = ["start", "-u", U1, "-p", P1, "-t", type];
        const r = await host.run(args);
        if (c.fails === null) {
          assertEquals([r.code, r.stderr], [0, ""]);
          assertEquals(await host.read(createFile(type)), U1);
        } else {
          assertEquals(r, {
            code: 1,
            stdout: "",
            stderr: `Error: ${failed(paths.get(c.fails)!)}\n`,
          });
          assertEquals(await host.read(createFile(type)), "");
          // Every failing case passes with --force.
          const forced = await host.run([...args, "--force"]);
          assertEquals(forced.code, 0, forced.stderr);
          assertEquals(await host.read(createFile(type)), U1);
        }
        if (c.calls) assertEquals(await calls(host), c.calls);
      }));
  }
});

Deno.test("a versioned script is used alone: legacy ones before and after it never run", () =>
  withHost(async (host) => {
    await host.addScript("rc1.sh", LEGACY_FAIL);
    const ver = await host.addScript("ver.sh", { caps: CAPS_V2, exits: { "pre/undefine": 1 } });
    await host.addScript("zz-rc0.sh", LEGACY_OK);
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await calls(host), [
      "rc1.sh get/capabilities none",
      "ver.sh get/capabilities none",
      "ver.sh pre/define none",
      "ver.sh post/define success",
    ]);
    const u = await host.run(["undefine", "-u", U1]);
    assertEquals([u.code, u.stdout], [1, ""]);
    assertEquals(
      stripTimes(u.stderr),
      `[WARN  mdevctl] Undefine of ${U1} on parent ${P1} failed with error: ${failed(ver)}\n` +
        "Error: Undefine failed\n",
    );
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), true);
  }));

Deno.test("support checks: the missing action or event is named, notify(none) follows; --force runs what is supported", () =>
  withHost(async (host) => {
    await parent(host);
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    const ver = await host.addScript("ver.sh", {
      caps: { actions: ["start", "stop", "attributes"], events: ["post", "get"] },
    });
    await host.addScript("notify.sh", {}, "notifiers");
    const m = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals(m, {
      code: 1,
      stdout: "",
      stderr: `Error: Script "${ver}" does not support action 'Modify'\n`,
    });
    const s = await host.run(["start", "-u", U1]);
    assertEquals(s, {
      code: 1,
      stdout: "",
      stderr: `Error: Script "${ver}" does not support event 'Pre'\n`,
    });
    assertEquals(await calls(host), [
      "ver.sh get/capabilities none",
      "notify.sh notify/modify none",
      "ver.sh get/capabilities none",
      "notify.sh notify/start none",
    ]);
    // Forced: pre is skipped with a warning; post is supported for start, so it runs.
    await clearLog(host);
    const forced = await host.run(["start", "-u", U1, "--force"]);
    assertEquals([forced.code, forced.stdout], [0, ""]);
    assertEquals(
      stripTimes(forced.stderr),
      "[WARN  mdevctl::callouts] Forcing operation 'start' despite callout failure. " +
        `Error was: Script "${ver}" does not support event 'Pre'\n`,
    );
    assertEquals(await calls(host), [
      "ver.sh get/capabilities none",
      "ver.sh post/start success",
      "notify.sh notify/start success",
    ]);
    assertEquals(await host.read(createFile(T)), U1);
  }));

Deno.test("capabilities answers: exit 1 with valid JSON is versioned; exit 2 or junk are not", async (t) => {
  const supports = { version: 2, actions: CAPS_V2.actions, events: CAPS_V2.events };
  const cases: [string, Omit<ScriptSpec, "log">, boolean][] = [
    ["valid JSON, exit 1", { caps: { ...CAPS_V2, exit: 1 } }, true],
    ["valid JSON, exit 2", { caps: { ...CAPS_V2, exit: 2 } }, false],
    ["not JSON", { caps: { raw: "not json" } }, false],
    ["broken JSON", { caps: { raw: '{"supports": {' } }, false],
    [
      "provides and supports",
      {
        caps: {
          raw: JSON.stringify({ provides: { version: 2, actions: [], events: [] }, supports }),
        },
      },
      true,
    ],
    [
      "NUL-terminated",
      {
        preamble: `[ "$6" = capabilities ] && { printf '%s\\0' ${
          shq(JSON.stringify({ supports }))
        }; exit 0; }`,
      },
      true,
    ],
    ["supports not an object", { caps: { raw: '{"supports": "x"}' } }, false],
  ];
  for (const [name, spec, versioned] of cases) {
    await t.step(name, () =>
      withHost(async (host) => {
        await parent(host);
        // As a versioned script a.sh vetoes pre (exit 2 is no "not mine"
        // there); as a legacy one it is skipped and b-rc0.sh passes.
        const a = await host.addScript("a.sh", { ...spec, exits: { "*": 2 } });
        await host.addScript("b-rc0.sh", LEGACY_OK);
        const r = await host.run(["start", "-u", U1, "-p", P1, "-t", T]);
        if (versioned) {
          assertEquals([r.code, r.stderr], [1, `Error: ${failed(a, 2)}\n`]);
          // The first versioned script found is the one used: b-rc0.sh never runs.
          assertEquals((await calls(host)).filter((c) => !c.includes("capabilities")), [
            "a.sh pre/start none",
          ]);
        } else {
          assertEquals([r.code, r.stderr], [0, ""]);
          assertEquals(await host.read(createFile(T)), U1);
        }
      }));
  }
});

/** Valid capabilities but for one byte that is not UTF-8 (a printf escape). */
const NON_UTF8_CAPS =
  '{"supports":{"version":2,"actions":["start","stop","\\xff"],"events":["pre","post"]}}';

Deno.test("capabilities: output that is not UTF-8 makes the script legacy, never a crash", () =>
  withHost(async (host) => {
    await parent(host);
    await host.addScript(
      "bin.sh",
      "#!/bin/bash\n" +
        `[ "$6" = capabilities ] && printf '${NON_UTF8_CAPS}' && exit 0\n` +
        "exit 2\n",
    );
    // Were it taken as versioned, its pre (exit 2) would veto.
    const r = await host.run(["start", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await host.read(createFile(T)), U1);
  }));

Deno.test("discovery skips directories and non-executables silently", () =>
  withHost(async (host) => {
    await Deno.mkdir(host.path("usr/lib/mdevctl/scripts.d/callouts/00-dir"));
    await Deno.writeTextFile(host.path("usr/lib/mdevctl/scripts.d/callouts/01-plain"), "x");
    await Deno.mkdir(host.path("usr/lib/mdevctl/scripts.d/notifiers/00-dir"));
    await host.addScript("03-ver.sh", { caps: CAPS_V2 });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await calls(host), [
      "03-ver.sh get/capabilities none",
      "03-ver.sh pre/define none",
      "03-ver.sh post/define success",
    ]);
  }));

Deno.test("a legacy pre killed by a signal is a failure with status 'unknown' (decision §0.8)", () =>
  withHost(async (host) => {
    const legacy = await host.addScript("legacy.sh", {
      preamble: '[ "$4" = pre ] && kill -KILL $$',
    });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: ${
        failed(legacy, "unknown")
      }\n\nCaused by:\n    terminated by signal SIGKILL\n`,
    });
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("a versioned script whose capabilities query hangs is skipped with a warning", () =>
  withHost(async (host) => {
    const slow = await host.addScript("a-slow.sh", {
      caps: CAPS_V2,
      preamble: '[ "$6" = capabilities ] && exec sleep 20',
    });
    await host.addScript("b-ver.sh", { caps: CAPS_V2 });
    const started = Date.now();
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T], {
      env: { MDEVCTL_CALLOUT_TIMEOUT: "1.5" },
    });
    assert(Date.now() - started < 10_000, "the query was not cut short");
    assertEquals([r.code, r.stdout], [0, ""]);
    assertEquals(
      stripTimes(r.stderr),
      `[WARN  mdevctl::callouts] Script '"${slow}"' timed out after 1.5 seconds\n`,
    );
    assertEquals(await calls(host), [
      "b-ver.sh get/capabilities none",
      "b-ver.sh pre/define none",
      "b-ver.sh post/define success",
    ]);
  }));

Deno.test("a noisy pre (>64 KiB on stdout and stderr before reading stdin) works; stderr is relayed", () =>
  withHost(async (host) => {
    await host.addScript("noisy.sh", {
      caps: CAPS_V2,
      preamble: `[ "$4" = pre ] && { ${FLOOD}; }`,
    });
    const r = await host.run(["define", "-u", U1, "-p", P1, "-t", T]);
    assertEquals(r, { code: 0, stdout: "", stderr: `noisy.sh: ${"e".repeat(200_000)}` });
    assertEquals((await readCalls(host.callLog)).map((c) => c.stdin), [PROVIDES, STDIN, STDIN]);
  }));

Deno.test("define of a running device: get/attributes asks afresh; the script that answered it gets post", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.addActive(U1, P1, T);
    // 10-pre claims only pre; 20-get claims get and post. Post goes straight to 20-get.
    await host.addScript("10-pre.sh", { exits: { "*": 2, "pre/define": 0 } });
    await host.addScript("20-get.sh", { exits: { "*": 2, get: 0, post: 0 }, attrs: GOOD_ATTRS });
    const r = await host.run(["define", "-u", U1]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await calls(host), [
      "10-pre.sh get/capabilities none",
      "20-get.sh get/capabilities none",
      "10-pre.sh pre/define none",
      "10-pre.sh get/attributes none",
      "20-get.sh get/attributes none",
      "20-get.sh post/define success",
    ]);
    assertEquals(
      JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)),
      { mdev_type: T, start: "manual", attrs: [{ attribute0: "VALUE" }] },
    );
  }));

Deno.test("stop whose remove fails: post(failure), notify(failure), then the error", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.build({ active: [{ uuid: U1, parent: P1, type: T, removeIsDir: true }] });
    await host.addScript("rc0.sh", LEGACY_OK);
    await host.addScript("notify.sh", {}, "notifiers");
    const r = await host.run(["stop", "-u", U1]);
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr:
        `Error: Error removing device ${U1}\n\nCaused by:\n    Is a directory (os error 21)\n`,
    });
    assertEquals(await calls(host), [
      "rc0.sh get/capabilities none",
      "rc0.sh pre/stop none",
      "rc0.sh post/stop failure",
      "notify.sh notify/stop failure",
    ]);
  }));

Deno.test("undefine --force despite a veto: the warning names the operation", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs: [] });
    const rc1 = await host.addScript("rc1.sh", LEGACY_FAIL);
    await host.addScript("notify.sh", {}, "notifiers");
    const r = await host.run(["undefine", "-u", U1, "--force"]);
    assertEquals([r.code, r.stdout], [0, ""]);
    assertEquals(
      stripTimes(r.stderr),
      "[WARN  mdevctl::callouts] Forcing operation 'undefine' despite callout failure. " +
        `Error was: ${failed(rc1)}\n`,
    );
    assertEquals(await calls(host), [
      "rc1.sh get/capabilities none",
      "rc1.sh pre/undefine none",
      "rc1.sh post/undefine success",
      "notify.sh notify/undefine success",
    ]);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("a running device or a definition without a type runs no callout", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: {} });
    await host.build({ active: [{ uuid: U1, parent: P1, type: T, noTypeLink: true }] });
    await host.define(P1, U2, { start: "auto", attrs: [] });
    await host.addScript("ver.sh", { caps: CAPS_V2, attrs: GOOD_ATTRS });
    await host.addScript("notify.sh", {}, "notifiers");
    for (
      const [args, code] of [
        [["list"], 0],
        [["stop", "-u", U1], 1],
        [["define", "-u", U1], 1],
        [["start", "-u", U2], 1],
        [["start-parent-mdevs", P1], 0],
        [["undefine", "-u", U2], 0],
      ] as const
    ) {
      const r = await host.run([...args]);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    }
    assertEquals(await calls(host), []);
  }));

Deno.test("the callout directories are read once per run", () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 2 } });
    await host.addActive(U1, P1, T);
    await host.addActive(U2, P1, T);
    // a.sh declines every device; on its first run it installs late.sh.
    const late = host.path("usr/lib/mdevctl/scripts.d/callouts/late.sh");
    await host.addScript("a.sh", {
      exits: { "*": 2 },
      epilogue: `[ -e '${late}' ] || { cp '${
        host.path("late.src")
      }' '${late}'; chmod 755 '${late}'; }`,
    });
    // late.sh's text waits outside the script directories.
    await Deno.rename(
      await host.addScript("late.sh", { attrs: GOOD_ATTRS }),
      host.path("late.src"),
    );
    const first = await host.run(["list", "--dumpjson"]);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(await calls(host), [
      "a.sh get/capabilities none",
      "a.sh get/attributes none",
      "a.sh get/attributes none",
    ]);
    // The next run finds late.sh.
    await clearLog(host);
    const second = await host.run(["list", "-v", "-u", U1]);
    assertEquals(
      second.stdout,
      `${U1} ${P1} ${T} manual\n  Attrs:\n    @{0}: {"attribute0":"VALUE"}\n`,
    );
    assert((await calls(host)).includes("late.sh get/attributes none"));
  }));

const LIVE_JSON = `{"mdev_type":"${T}","start":"manual","attrs":[{"x":"1"}]}`;

Deno.test("modify --live re-checks the device: gone is silent success, moved or retyped is an error", async (t) => {
  const bus = (host: FakeHost) => host.path(`sys/bus/mdev/devices/${U1}`);
  const cases: [string, (host: FakeHost) => string, { code: number; stderr: string }][] = [
    ["gone", (host) => `rm '${bus(host)}'`, { code: 0, stderr: "" }],
    [
      "moved to another parent",
      (host) => {
        const elsewhere = `${host.parentDir(P2)}/${U1}`;
        return `mkdir -p '${elsewhere}' && ln -s '${
          host.typeDir(P2, T)
        }' '${elsewhere}/mdev_type' && ` +
          `ln -sfn '${elsewhere}' '${bus(host)}'`;
      },
      { code: 1, stderr: "Error: Device exists under different parent - cannot run live update\n" },
    ],
    [
      "retyped",
      (host) => `ln -sfn '${host.typeDir(P1, "typeB")}' '${host.parentDir(P1)}/${U1}/mdev_type'`,
      { code: 1, stderr: "Error: Device exists with different type - cannot run live update\n" },
    ],
  ];
  for (const [name, change, want] of cases) {
    await t.step(name, () =>
      withHost(async (host) => {
        await host.addParent(P1, { [T]: {}, typeB: {} });
        await host.addParent(P2, { [T]: {} });
        await host.addActive(U1, P1, T);
        // The device changes while the script answers get/attributes, i.e.
        // after the program looked it up and before the live update.
        await host.addScript("live.sh", {
          caps: CAPS_V3_LIVE,
          epilogue: `[ "$event/$action" = get/attributes ] && { ${change(host)}; }`,
        });
        await host.addScript("notify.sh", {}, "notifiers");
        const r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", "/dev/stdin"], {
          stdin: LIVE_JSON,
        });
        assertEquals(r, { ...want, stdout: "" });
        assertEquals(await calls(host), [
          "live.sh get/capabilities none",
          "live.sh get/attributes none",
        ]);
      }));
  }
});

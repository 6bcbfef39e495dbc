/**
 * The callout layer driven through its library API against a fake host
 * (spec §8, §12 "callouts" group and more): every script logs its runs, so
 * the tests assert exact call sequences, argv and stdin bytes.
 */
import { deepEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { activeAttributes, listAttributes } from "./callouts/attributes.ts";
import { type Action, runBracket } from "./callouts/bracket.ts";
import { runLive } from "./callouts/live.ts";
import { compactConfig, type MdevDevice, newDevice } from "./config.ts";
import { Environment } from "./environment.ts";
import { MdevError } from "./errors.ts";
import { FakeHost } from "../tests/helpers/fake_host.ts";
import {
  callSequence,
  CAPS_V2,
  CAPS_V3_LIVE,
  FLOOD,
  GOOD_ATTRS,
  readCalls,
  script,
  type ScriptSpec,
} from "../tests/helpers/scripts.ts";
import { PROVIDES } from "./callouts/protocol.ts";

const U = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
const U2 = "11111111-1111-0000-0000-000000000000";
const PARENT = "0000:00:02.0";
const TYPE = "type_a";

interface Ctx {
  host: FakeHost;
  env: Environment;
  /** A fresh Environment (empty callout cache) with the same settings and stderr. */
  resetCache(): void;
  log: string;
  /** Adds a logging fixture script. */
  add(
    name: string,
    spec: Omit<ScriptSpec, "log">,
    where?: Parameters<FakeHost["addScript"]>[2],
  ): Promise<string>;
  calls(): Promise<string[]>;
}

/** A fresh host and Environment (empty caches) whose stderr is captured. */
function withCtx(
  body: (ctx: Ctx, stderr: () => string) => Promise<void>,
  settings: { calloutTimeout?: string } = {},
): () => Promise<void> {
  return async () => {
    const host = await FakeHost.create();
    const log = host.path("calls.log");
    const captured: string[] = [];
    const newEnv = () =>
      new Environment(host.root, {
        ...settings,
        stderr: (data) =>
          captured.push(typeof data === "string" ? data : new TextDecoder().decode(data)),
      });
    const ctx: Ctx = {
      host,
      env: newEnv(),
      resetCache: () => ctx.env = newEnv(),
      log,
      add: (name, spec, where = "callouts") =>
        host.addScript(name, script({ ...spec, log }), where),
      calls: () => callSequence(log),
    };
    const text = () => captured.join("");
    try {
      await body(ctx, text);
    } finally {
      await host.cleanup();
    }
  };
}

function device(fields: Partial<MdevDevice> = {}): MdevDevice {
  return newDevice(U, { parent: PARENT, type: TYPE, ...fields });
}

const STDIN = compactConfig({ type: TYPE, autostart: false, attrs: [] });

async function bracket(
  ctx: Ctx,
  action: Action = "start",
  options: { force?: boolean; dev?: MdevDevice; primary?: () => Promise<string> } = {},
): Promise<{ ran: boolean; result?: string; error?: MdevError }> {
  let ran = false;
  try {
    const result = await runBracket(
      ctx.env,
      options.dev ?? device(),
      action,
      options.force ?? false,
      () => {
        ran = true;
        return options.primary ? options.primary() : Promise.resolve("done");
      },
    );
    return { ran, result };
  } catch (e) {
    if (!(e instanceof MdevError)) throw e;
    return { ran, error: e };
  }
}

const LEGACY_OK = { exits: {} };
const LEGACY_FAIL = { exits: { "*": 1 } };

Deno.test(
  "legacy rc0: caps query, pre, primary, post(success), notifiers; exact argv and stdin",
  withCtx(async (ctx) => {
    await ctx.add("rc0.sh", LEGACY_OK);
    await ctx.add("notify.sh", {}, "notifiers");
    const r = await bracket(ctx, "define");
    assertEquals(r, { ran: true, result: "done" });
    const calls = await readCalls(ctx.log);
    assertEquals(calls.map((c) => [c.script, c.argv, c.stdin]), [
      ["rc0.sh", `-t ${TYPE} -e get -a capabilities -s none -u ${U} -p ${PARENT}`, PROVIDES],
      ["rc0.sh", `-t ${TYPE} -e pre -a define -s none -u ${U} -p ${PARENT}`, STDIN],
      ["rc0.sh", `-t ${TYPE} -e post -a define -s success -u ${U} -p ${PARENT}`, STDIN],
      ["notify.sh", `-t ${TYPE} -e notify -a define -s success -u ${U} -p ${PARENT}`, ""],
    ]);
  }),
);

Deno.test(
  "pre veto: primary never runs, no post, notify with state none, the script's error",
  withCtx(async (ctx) => {
    const path = await ctx.add("rc1.sh", LEGACY_FAIL);
    await ctx.add("notify.sh", {}, "notifiers");
    const r = await bracket(ctx, "start");
    assertEquals(r.ran, false);
    assertEquals(r.error?.message, `Script '"${path}"' failed with status '1'`);
    assertEquals(await ctx.calls(), [
      "rc1.sh get/capabilities none",
      "rc1.sh pre/start none",
      "notify.sh notify/start none",
    ]);
  }),
);

Deno.test(
  "pre veto with force: warning, primary, post, notify(success)",
  withCtx(async (ctx, stderr) => {
    const path = await ctx.add("rc1.sh", LEGACY_FAIL);
    await ctx.add("notify.sh", {}, "notifiers");
    const r = await bracket(ctx, "undefine", { force: true });
    assertEquals(r, { ran: true, result: "done" });
    assertEquals(await ctx.calls(), [
      "rc1.sh get/capabilities none",
      "rc1.sh pre/undefine none",
      "rc1.sh post/undefine success",
      "notify.sh notify/undefine success",
    ]);
    const warning = new RegExp(
      String.raw`^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARN  mdevctl::callouts\] ` +
        `Forcing operation 'undefine' despite callout failure\\. Error was: ` +
        `Script '"${path.replaceAll(".", "\\.")}"' failed with status '1'\n$`,
    );
    assertEquals(warning.test(stderr()), true, stderr());
  }),
);

Deno.test(
  "a failing primary step: post(failure) still runs, then notify(failure), then its error",
  withCtx(async (ctx) => {
    await ctx.add("rc0.sh", LEGACY_OK);
    await ctx.add("notify.sh", {}, "notifiers");
    const r = await bracket(ctx, "stop", {
      primary: () => Promise.reject(new MdevError("Error removing device")),
    });
    assertEquals([r.ran, r.error?.message], [true, "Error removing device"]);
    assertEquals(await ctx.calls(), [
      "rc0.sh get/capabilities none",
      "rc0.sh pre/stop none",
      "rc0.sh post/stop failure",
      "notify.sh notify/stop failure",
    ]);
    // Any exception, not only MdevError, keeps the pre/post pairing.
    await Deno.remove(ctx.log);
    await assertRejects(
      runBracket(ctx.env, device(), "start", false, () => Promise.reject(new TypeError("x"))),
      TypeError,
    );
    assertEquals(await ctx.calls(), [
      "rc0.sh pre/start none",
      "rc0.sh post/start failure",
      "notify.sh notify/start failure",
    ]);
  }),
);

Deno.test(
  "pre and post get the same bytes, computed before the primary step",
  withCtx(async (ctx) => {
    await ctx.add("rc0.sh", LEGACY_OK);
    const dev = device({ autostart: true, attrs: [["a", "1"]] });
    await bracket(ctx, "modify", {
      dev,
      primary: () => {
        dev.attrs = [];
        dev.type = "changed";
        return Promise.resolve("ok");
      },
    });
    const calls = await readCalls(ctx.log);
    const want = '{"mdev_type":"type_a","start":"auto","attrs":[{"a":"1"}]}';
    assertEquals(calls.slice(1).map((c) => [c.event, c.stdin, c.type]), [
      ["pre", want, TYPE],
      ["post", want, TYPE],
    ]);
  }),
);

Deno.test(
  "a device without a type is refused before anything runs",
  withCtx(async (ctx) => {
    await ctx.add("rc0.sh", LEGACY_OK);
    await ctx.add("notify.sh", {}, "notifiers");
    const r = await bracket(ctx, "stop", { dev: device({ type: undefined }) });
    assertEquals([r.ran, r.error?.message], [false, "Device must have a defined mdev_type"]);
    assertEquals(await ctx.calls(), []);
  }),
);

Deno.test(
  "params: each action sees the right argv and states",
  withCtx(async (ctx) => {
    await ctx.add("params.sh", LEGACY_OK);
    for (const action of ["define", "modify", "start", "stop", "undefine"] as const) {
      await bracket(ctx, action, {
        dev: newDevice(U, { parent: `test_parent_${action}`, type: `test_type_${action}` }),
      });
    }
    const calls = (await readCalls(ctx.log)).filter((c) => c.event !== "get");
    assertEquals(
      calls.map((c) => c.argv),
      ["define", "modify", "start", "stop", "undefine"].flatMap((a) => [
        `-t test_type_${a} -e pre -a ${a} -s none -u ${U} -p test_parent_${a}`,
        `-t test_type_${a} -e post -a ${a} -s success -u ${U} -p test_parent_${a}`,
      ]),
    );
  }),
);

Deno.test(
  "legacy selection: type filters (exit 2 = not mine), sort order, dir priority",
  async (t) => {
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
          ["type-a.sh", { types: ["type_a"] }],
          ["type-b.sh", { types: ["type_b"] }],
          ["type-c.sh", { types: ["type_c"], exits: { "*": 1 } }],
        ],
        type: "type_c",
        fails: "type-c.sh",
      },
      {
        name: "no script claims type_d",
        scripts: [["type-a.sh", { types: ["type_a"] }], ["type-b.sh", { types: ["type_b"] }]],
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
      { name: "wrong type (rc2)", scripts: [["rc2.sh", { exits: { "*": 2 } }]], fails: null },
      {
        name: "order fail: 00 rc1 before 99 rc0",
        scripts: [["99-rc0.sh", LEGACY_OK], ["00-rc1.sh", LEGACY_FAIL]],
        fails: "00-rc1.sh",
      },
      {
        name: "order pass: 00 rc0 claims first",
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
        name: "primary dir wins (pass)",
        scripts: [["a.sh", LEGACY_FAIL, "deprecated-callouts"], ["z.sh", LEGACY_OK]],
        fails: null,
      },
      {
        name: "primary dir wins (fail)",
        scripts: [["a.sh", LEGACY_OK, "deprecated-callouts"], ["z.sh", LEGACY_FAIL]],
        fails: "z.sh",
      },
      {
        name: "primary rc2 skipped, deprecated rc1 fails",
        scripts: [["a.sh", LEGACY_FAIL, "deprecated-callouts"], ["z.sh", { exits: { "*": 2 } }]],
        fails: "a.sh",
      },
      {
        name: "primary rc2 skipped, deprecated rc0 passes",
        scripts: [["a.sh", LEGACY_OK, "deprecated-callouts"], ["z.sh", { exits: { "*": 2 } }]],
        fails: null,
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        await withCtx(async (ctx) => {
          const paths = new Map<string, string>();
          for (const [name, spec, where] of c.scripts) {
            paths.set(name, await ctx.add(name, spec, where));
          }
          const r = await bracket(ctx, "start", { dev: device({ type: c.type ?? TYPE }) });
          if (c.fails === null) assertEquals([r.ran, r.error], [true, undefined]);
          else {
            assertEquals(r.ran, false);
            assertEquals(
              r.error?.message,
              `Script '"${paths.get(c.fails)}"' failed with status '1'`,
            );
            // Every failing case passes with force.
            assertEquals((await bracket(ctx, "start", { force: true })).ran, true);
          }
          if (c.calls) assertEquals(await ctx.calls(), c.calls);
        })();
      });
    }
  },
);

Deno.test(
  "versioned script: used alone, legacy scripts never run; rc1 vetoes",
  withCtx(async (ctx) => {
    await ctx.add("rc1.sh", LEGACY_FAIL);
    const ver = await ctx.add("ver.sh", { caps: CAPS_V2, exits: { "pre/undefine": 1 } });
    await ctx.add("zz-rc0.sh", LEGACY_OK);
    assertEquals((await bracket(ctx, "define")).result, "done");
    assertEquals(await ctx.calls(), [
      "rc1.sh get/capabilities none",
      "ver.sh get/capabilities none",
      "ver.sh pre/define none",
      "ver.sh post/define success",
    ]);
    const r = await bracket(ctx, "undefine");
    assertEquals([r.ran, r.error?.message], [false, `Script '"${ver}"' failed with status '1'`]);
  }),
);

Deno.test(
  "versioned script: capabilities are asked once per parent and type",
  withCtx(async (ctx) => {
    await ctx.add("ver.sh", { caps: CAPS_V2 });
    await bracket(ctx, "start");
    await bracket(ctx, "stop");
    await bracket(ctx, "start", { dev: device({ type: "type_b" }) });
    await listAttributes(ctx.env, [device(), device({ uuid: U2 })]);
    assertEquals((await ctx.calls()).filter((c) => c.includes("capabilities")).length, 2);
  }),
);

Deno.test(
  "versioned script: support checks name the action or event",
  withCtx(async (ctx) => {
    const ver = await ctx.add("ver.sh", {
      caps: { actions: ["start", "stop", "attributes"], events: ["post", "get"] },
    });
    await ctx.add("notify.sh", {}, "notifiers");
    let r = await bracket(ctx, "modify");
    assertEquals(r.error?.message, `Script "${ver}" does not support action 'Modify'`);
    r = await bracket(ctx, "start");
    assertEquals(r.error?.message, `Script "${ver}" does not support event 'Pre'`);
    assertEquals(await ctx.calls(), [
      "ver.sh get/capabilities none",
      "notify.sh notify/modify none",
      "notify.sh notify/start none",
    ]);
    // Forced: the post support check passes for start, so post runs.
    await Deno.remove(ctx.log);
    r = await bracket(ctx, "start", { force: true });
    assertEquals(r.result, "done");
    assertEquals(await ctx.calls(), [
      "ver.sh post/start success",
      "notify.sh notify/start success",
    ]);
  }),
);

Deno.test(
  "capabilities answers: exit 1 with valid JSON is versioned; exit 2 or junk are not",
  async (t) => {
    const cases: [string, Omit<ScriptSpec, "log">, boolean][] = [
      ["valid JSON, exit 1", { caps: { ...CAPS_V2, exit: 1 } }, true],
      ["valid JSON, exit 2", { caps: { ...CAPS_V2, exit: 2 } }, false],
      ["not JSON", { caps: { raw: "not json" } }, false],
      ["broken JSON", { caps: { raw: '{"supports": {' } }, false],
      [
        "provides and supports",
        {
          caps: {
            raw: JSON.stringify({
              provides: { version: 2, actions: [], events: [] },
              supports: { version: 2, actions: CAPS_V2.actions, events: CAPS_V2.events },
            }),
          },
        },
        true,
      ],
      ["NUL-terminated", {
        caps: {
          raw: `${
            JSON.stringify({
              supports: { version: 2, actions: CAPS_V2.actions, events: CAPS_V2.events },
            })
          }\0`,
        },
      }, true],
      ["supports not an object", { caps: { raw: '{"supports": "x"}' } }, false],
    ];
    for (const [name, spec, versioned] of cases) {
      await t.step(name, async () => {
        await withCtx(async (ctx) => {
          // As the versioned script a.sh fails pre (exit 2 is no "not mine"
          // there); as a legacy one it is skipped and b-rc0.sh passes.
          await ctx.add("a.sh", { ...spec, exits: { "*": 2 } });
          await ctx.add("b-rc0.sh", LEGACY_OK);
          const r = await bracket(ctx, "start");
          assertEquals(r.ran, !versioned);
        })();
      });
    }
  },
);

/** Valid capabilities but for one byte that is not UTF-8 (printf escape). */
const NON_UTF8_CAPS =
  '{"supports":{"version":2,"actions":["start","stop","\\xff"],"events":["pre","post"]}}';

Deno.test(
  "capabilities: non-UTF-8 output bytes are skipped, never a crash",
  withCtx(async (ctx) => {
    await ctx.host.addScript(
      "bin.sh",
      "#!/bin/bash\n" +
        `[ "$6" = capabilities ] && printf '${NON_UTF8_CAPS}' && exit 0\n` +
        "exit 2\n",
    );
    // Were it taken as versioned, its pre (exit 2) would veto.
    assertEquals((await bracket(ctx, "start")).ran, true);
  }),
);

Deno.test(
  "capabilities: unknown action/event names warn and are accepted",
  withCtx(async (ctx, stderr) => {
    const ver = await ctx.add("ver.sh", {
      caps: { actions: [...CAPS_V2.actions!, "dummy"], events: [...CAPS_V2.events!, "dummy"] },
    });
    assertEquals((await bracket(ctx, "start")).ran, true);
    const lines = stderr().split("\n").filter((l) => l !== "").map((l) =>
      l.replace(/^\[[^\]]*\] /, "")
    );
    assertEquals(lines, [
      `Callout script "${ver}" provides unknown Action type`,
      `Callout script "${ver}" provides unknown Event type`,
    ]);
  }),
);

Deno.test(
  "discovery skips directories, non-executables and signal-killed scripts (with a warning)",
  withCtx(async (ctx, stderr) => {
    await Deno.mkdir(ctx.host.path("usr/lib/mdevctl/scripts.d/callouts/00-dir"));
    await Deno.writeTextFile(ctx.host.path("usr/lib/mdevctl/scripts.d/callouts/01-plain"), "x");
    const killed = await ctx.add("02-killed.sh", {
      preamble: '[ "$6" = capabilities ] && kill -KILL $$',
    });
    await ctx.add("03-ver.sh", { caps: CAPS_V2 });
    assertEquals((await bracket(ctx, "start")).ran, true);
    assertEquals(
      stderr().replace(/^\[[^\]]*\] /, ""),
      `callout script "${killed}" was terminated by a signal\n`,
    );
    assertEquals(await ctx.calls(), [
      "03-ver.sh get/capabilities none",
      "03-ver.sh pre/start none",
      "03-ver.sh post/start success",
    ]);
  }),
);

Deno.test(
  "decision §0.8: a signal-killed pre is a failure (versioned and legacy)",
  withCtx(async (ctx) => {
    const ver = await ctx.add("ver.sh", {
      caps: CAPS_V2,
      preamble: '[ "$4" = pre ] && kill -KILL $$',
    });
    let r = await bracket(ctx, "start");
    assertEquals([r.ran, r.error?.message], [
      false,
      `Script '"${ver}"' failed with status 'unknown'`,
    ]);
    assertEquals(r.error?.causes, ["terminated by signal SIGKILL"]);
    await Deno.remove(ver);
    ctx.resetCache();
    const legacy = await ctx.add("legacy.sh", { preamble: '[ "$4" = pre ] && kill -KILL $$' });
    r = await bracket(ctx, "start");
    assertEquals([r.ran, r.error?.message], [
      false,
      `Script '"${legacy}"' failed with status 'unknown'`,
    ]);
  }),
);

Deno.test(
  "decision §0.8: a pre that outlives MDEVCTL_CALLOUT_TIMEOUT is killed and vetoes",
  withCtx(async (ctx) => {
    const slow = await ctx.add("slow.sh", {
      caps: CAPS_V2,
      preamble: '[ "$4" = pre ] && exec sleep 20',
    });
    await ctx.add("notify.sh", {}, "notifiers");
    const started = Date.now();
    const r = await bracket(ctx, "start");
    assertEquals(Date.now() - started < 5000, true);
    assertEquals(
      [r.ran, r.error?.message],
      [false, `Script '"${slow}"' timed out after 1.5 seconds`],
    );
    assertEquals(await ctx.calls(), [
      "slow.sh get/capabilities none",
      "notify.sh notify/start none",
    ]);
  }, { calloutTimeout: "1.5" }),
);

Deno.test(
  "a versioned script whose capabilities query hangs is skipped with a warning",
  withCtx(async (ctx, stderr) => {
    const slow = await ctx.add("a-slow.sh", {
      caps: CAPS_V2,
      preamble: '[ "$6" = capabilities ] && exec sleep 20',
    });
    await ctx.add("b-ver.sh", { caps: CAPS_V2 });
    assertEquals((await bracket(ctx, "start")).ran, true);
    assertEquals(
      stderr().replace(/^\[[^\]]*\] /, ""),
      `Script '"${slow}"' timed out after 1.5 seconds\n`,
    );
  }, { calloutTimeout: "1.5" }),
);

Deno.test(
  "a noisy pre (>64 KiB on stdout and stderr before reading stdin) works; stderr is relayed",
  withCtx(async (ctx, stderr) => {
    await ctx.add("noisy.sh", { caps: CAPS_V2, preamble: `[ "$4" = pre ] && { ${FLOOD}; }` });
    const r = await bracket(ctx, "define");
    assertEquals(r.ran, true);
    const calls = await readCalls(ctx.log);
    assertEquals(calls.map((c) => c.stdin), [PROVIDES, STDIN, STDIN]);
    assertEquals(stderr(), `noisy.sh: ${"e".repeat(200_000)}`);
  }),
);

Deno.test(
  "stderr: relayed for the used script only, as `<file name>: <bytes>`",
  withCtx(async (ctx, stderr) => {
    const body = (tag: string) => `printf '${tag} %s/%s\\n' "$4" "$6" >&2`;
    await ctx.add("a-other.sh", { types: ["other"], preamble: body("a") });
    await ctx.add("b-mine.sh", { preamble: body("b") });
    await ctx.add("n.sh", { preamble: body("n") }, "notifiers");
    await bracket(ctx, "start");
    assertEquals(stderr(), "b-mine.sh: b pre/start\nb-mine.sh: b post/start\n");
  }),
);

Deno.test(
  "veto 100 times: a script that exits 1 at once, without reading stdin",
  withCtx(async (ctx) => {
    const path = await ctx.host.addScript("veto", "#!/bin/sh\nexit 1\n");
    const big = device({
      attrs: Array.from({ length: 4000 }, (_, i) => [`a${i}`, "v".repeat(20)]),
    });
    for (let i = 0; i < 100; i++) {
      const r = await bracket(ctx, "start", { dev: big });
      assertEquals([r.ran, r.error?.message], [false, `Script '"${path}"' failed with status '1'`]);
    }
  }),
);

Deno.test(
  "get-attributes inside the bracket: attrs returned, its script is the one used for post",
  withCtx(async (ctx) => {
    // 10-pre claims only pre; 20-get claims get and post. Post goes straight to 20-get.
    await ctx.add("10-pre.sh", { exits: { "*": 2, "pre/define": 0 } });
    await ctx.add("20-get.sh", { exits: { "*": 2, get: 0, post: 0 }, attrs: GOOD_ATTRS });
    const r = await runBracket(ctx.env, device({ active: true }), "define", false, async (b) => {
      return await b.getAttributes(device());
    });
    assertEquals(r, [["attribute0", "VALUE"]]);
    assertEquals(await ctx.calls(), [
      "10-pre.sh get/capabilities none",
      "20-get.sh get/capabilities none",
      "10-pre.sh pre/define none",
      "10-pre.sh get/attributes none",
      "20-get.sh get/attributes none",
      "20-get.sh post/define success",
    ]);
  }),
);

Deno.test(
  "get-attributes inside the bracket: a failure fails the step, post(failure) and notify run",
  withCtx(async (ctx) => {
    await ctx.add("bad.sh", { caps: CAPS_V2, attrs: "not json" });
    await ctx.add("notify.sh", {}, "notifiers");
    let error: unknown;
    try {
      await runBracket(ctx.env, device(), "define", true, (b) => b.getAttributes(device()));
    } catch (e) {
      error = e;
    }
    assertEquals(error instanceof MdevError, true);
    assertEquals((error as MdevError).message, "Invalid JSON received from callout script");
    assertEquals((error as MdevError).causes, ["expected ident at line 1 column 2"]);
    assertEquals(await ctx.calls(), [
      "bad.sh get/capabilities none",
      "bad.sh pre/define none",
      "bad.sh get/attributes none",
      "bad.sh post/define failure",
      "notify.sh notify/define failure",
    ]);
  }),
);

Deno.test(
  "list attributes: good, NUL-terminated, bad and failing outputs; failures ignored",
  async (t) => {
    const cases: [string, Omit<ScriptSpec, "log">, [string, string][]][] = [
      ["good JSON", { attrs: GOOD_ATTRS }, [["attribute0", "VALUE"]]],
      ["NUL-terminated", { attrs: `${GOOD_ATTRS}\\0` }, [["attribute0", "VALUE"]]],
      ["bad JSON", { attrs: "not json" }, []],
      ["[{}]", { attrs: "[{}]" }, []],
      ["exit 1", { attrs: GOOD_ATTRS, exits: { get: 1 } }, []],
      ["versioned good", { caps: CAPS_V2, attrs: GOOD_ATTRS }, [["attribute0", "VALUE"]]],
      ["versioned exit 2", { caps: CAPS_V2, attrs: GOOD_ATTRS, exits: { get: 2 } }, []],
      [
        "versioned killed",
        { caps: CAPS_V2, preamble: '[ "$4" = get ] && [ "$6" = attributes ] && kill -KILL $$' },
        [],
      ],
      ["versioned without attributes", { caps: { actions: ["start"] }, attrs: GOOD_ATTRS }, []],
    ];
    for (const [name, spec, attrs] of cases) {
      await t.step(name, async () => {
        await withCtx(async (ctx) => {
          await ctx.add("script.sh", spec);
          const devs = [device(), device({ uuid: U2, attrs: [["x", "y"]] })];
          await listAttributes(ctx.env, devs);
          assertEquals(devs.map((d) => d.attrs), [attrs, [["x", "y"], ...attrs]]);
          assertEquals(await activeAttributes(ctx.env, device()), attrs);
        })();
      });
    }
  },
);

Deno.test(
  "list attributes: one caps query per parent and type; legacy searches afresh per device",
  withCtx(async (ctx) => {
    await ctx.add("a.sh", { types: ["other"] });
    await ctx.add("b.sh", { attrs: GOOD_ATTRS });
    await listAttributes(ctx.env, [device(), device({ uuid: U2 })]);
    assertEquals(await ctx.calls(), [
      "a.sh get/capabilities none",
      "b.sh get/capabilities none",
      "a.sh get/attributes none",
      "b.sh get/attributes none",
      "a.sh get/attributes none",
      "b.sh get/attributes none",
    ]);
    const calls = await readCalls(ctx.log);
    assertEquals(calls.filter((c) => c.action === "attributes").map((c) => c.stdin), [
      "",
      "",
      "",
      "",
    ]);
  }),
);

Deno.test(
  "list attributes: no callout scripts, nothing runs (notifiers are not for list)",
  withCtx(async (ctx) => {
    await ctx.add("notify.sh", {}, "notifiers");
    const devs = [device()];
    await listAttributes(ctx.env, devs);
    assertEquals(devs[0]!.attrs, []);
    assertEquals(await activeAttributes(ctx.env, device()), []);
    assertEquals(await ctx.calls(), []);
  }),
);

Deno.test(
  "the callout dirs are read once per process",
  withCtx(async (ctx) => {
    await listAttributes(ctx.env, [device()]);
    await ctx.add("late.sh", { attrs: GOOD_ATTRS });
    const devs = [device()];
    await listAttributes(ctx.env, devs);
    assertEquals([devs[0]!.attrs, await ctx.calls()], [[], []]);
    ctx.resetCache();
    await listAttributes(ctx.env, devs);
    assertEquals(devs[0]!.attrs, [["attribute0", "VALUE"]]);
  }),
);

const NEW_CONFIG = { type: TYPE, autostart: false, attrs: [["x", "1"]] as [string, string][] };

async function liveError(ctx: Ctx, dev = device()): Promise<MdevError | null> {
  try {
    await runLive(ctx.env, dev, NEW_CONFIG);
    return null;
  } catch (e) {
    if (e instanceof MdevError) return e;
    throw e;
  }
}

Deno.test(
  "live: a v3 script gets live/modify with the new config, then notify(modify, none)",
  withCtx(async (ctx) => {
    await ctx.host.addActive(U, PARENT, TYPE);
    await ctx.add("live.sh", { caps: CAPS_V3_LIVE });
    await ctx.add("notify.sh", {}, "notifiers");
    assertEquals(await liveError(ctx), null);
    const calls = await readCalls(ctx.log);
    assertEquals(calls.map((c) => [c.script, c.argv, c.stdin]), [
      ["live.sh", `-t ${TYPE} -e get -a capabilities -s none -u ${U} -p ${PARENT}`, PROVIDES],
      [
        "live.sh",
        `-t ${TYPE} -e live -a modify -s none -u ${U} -p ${PARENT}`,
        '{"mdev_type":"type_a","start":"manual","attrs":[{"x":"1"}]}',
      ],
      ["notify.sh", `-t ${TYPE} -e notify -a modify -s none -u ${U} -p ${PARENT}`, ""],
    ]);
  }),
);

Deno.test(
  "live: failures and their messages",
  withCtx(async (ctx) => {
    await ctx.host.addActive(U, PARENT, TYPE);
    await ctx.add("notify.sh", {}, "notifiers");
    // No versioned script: legacy scripts cannot live-update.
    await ctx.add("legacy.sh", {});
    assertEquals(
      (await liveError(ctx))?.message,
      "No callout script with version support found that supports live modify",
    );
    // v2 without the live event: support error, no notify.
    ctx.resetCache();
    const v2 = await ctx.add("a-v2.sh", { caps: CAPS_V2 });
    await Deno.remove(ctx.log);
    assertEquals((await liveError(ctx))?.message, `Script "${v2}" does not support event 'Live'`);
    assertEquals(await ctx.calls(), ["a-v2.sh get/capabilities none"]);
    await Deno.remove(v2);
    // Exit 1 fails; exit 2 says "not supported"; both notify.
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
      ctx.resetCache();
      const path = await ctx.add(`a-live${code}.sh`, { caps: CAPS_V3_LIVE, exits: { live: code } });
      await Deno.remove(ctx.log);
      assertEquals((await liveError(ctx))?.message, message(path));
      assertEquals(await ctx.calls(), [
        `a-live${code}.sh get/capabilities none`,
        `a-live${code}.sh live/modify none`,
        "notify.sh notify/modify none",
      ]);
      await Deno.remove(path);
    }
  }),
);

Deno.test(
  "live: the device is re-checked; gone is silent success, moved is an error",
  withCtx(async (ctx) => {
    await ctx.add("live.sh", { caps: CAPS_V3_LIVE });
    assertEquals(await liveError(ctx), null);
    assertEquals(await ctx.calls(), ["live.sh get/capabilities none"]);
    await ctx.host.addActive(U, "other_parent", TYPE);
    assertEquals(
      (await liveError(ctx))?.message,
      "Device exists under different parent - cannot run live update",
    );
    await ctx.host.addActive(U2, PARENT, "other_type");
    assertEquals(
      (await liveError(ctx, device({ uuid: U2 })))?.message,
      "Device exists with different type - cannot run live update",
    );
  }),
);

Deno.test(
  "get-attributes of a device without a type or parent runs nothing",
  withCtx(async (ctx) => {
    await ctx.add("ver.sh", { caps: CAPS_V2, attrs: GOOD_ATTRS });
    assertEquals(await activeAttributes(ctx.env, device({ type: undefined })), []);
    assertEquals(await activeAttributes(ctx.env, device({ parent: undefined })), []);
    assertEquals(await ctx.calls(), []);
  }),
);

/** `list` of running devices with get/attributes callouts (spec §1.6 step 5, §8.6). */
import { deepEqual as assertEquals } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import {
  callSequence,
  CAPS_V2,
  GOOD_ATTRS,
  readCalls,
  script,
  type ScriptSpec,
} from "../helpers/scripts.ts";

const T = "typeA";

function add(host: FakeHost, name: string, spec: Omit<ScriptSpec, "log">): Promise<string> {
  return host.addScript(name, script({ ...spec, log: host.path("calls.log") }));
}

async function twoRunning(host: FakeHost): Promise<void> {
  await host.addParent(P1, { [T]: { available: 2 } });
  await host.addActive(U1, P1, T);
  await host.addActive(U2, P1, T);
}

const WITH_ATTRS = (uuid: string) => ({
  [uuid]: { mdev_type: T, start: "manual", attrs: [{ attribute0: "VALUE" }] },
});
const WITHOUT_ATTRS = (uuid: string) => ({ [uuid]: { mdev_type: T, start: "manual", attrs: [] } });

async function dump(host: FakeHost): Promise<unknown> {
  const r = await host.run(["list", "--dumpjson"]);
  assertEquals([r.code, r.stderr], [0, ""]);
  return JSON.parse(r.stdout);
}

for (
  const [name, spec, withAttrs] of [
    ["legacy good JSON", { attrs: GOOD_ATTRS }, true],
    ["legacy NUL-terminated JSON", { attrs: `${GOOD_ATTRS}\\0` }, true],
    ["versioned good JSON", { caps: CAPS_V2, attrs: GOOD_ATTRS }, true],
    ["legacy bad JSON (ignored)", { attrs: "not json" }, false],
    ["versioned bad JSON (ignored)", { caps: CAPS_V2, attrs: "not json" }, false],
    ["exactly [{}]", { attrs: "[{}]" }, false],
    ["get exits 1 (ignored)", { attrs: GOOD_ATTRS, exits: { get: 1 } }, false],
    [
      "versioned get exits 2 (ignored)",
      { caps: CAPS_V2, attrs: GOOD_ATTRS, exits: { get: 2 } },
      false,
    ],
    [
      "versioned without the attributes action (not asked)",
      { caps: { actions: ["start"] }, attrs: GOOD_ATTRS },
      false,
    ],
    [
      "get killed by a signal (ignored)",
      { caps: CAPS_V2, preamble: '[ "$6" = attributes ] && kill -KILL $$' },
      false,
    ],
  ] as [string, Omit<ScriptSpec, "log">, boolean][]
) {
  Deno.test(`list: ${name}`, () =>
    withHost(async (host) => {
      await twoRunning(host);
      await add(host, "script.sh", spec);
      const entry = withAttrs ? WITH_ATTRS : WITHOUT_ATTRS;
      assertEquals(await dump(host), [{ [P1]: [entry(U1), entry(U2)] }]);
      // The plain listing is unchanged; verbose shows the attributes.
      const text = await host.run(["list"]);
      assertEquals(text, {
        code: 0,
        stdout: `${U1} ${P1} ${T} manual\n${U2} ${P1} ${T} manual\n`,
        stderr: "",
      });
      const verbose = await host.run(["list", "-v", "-u", U1]);
      assertEquals(
        verbose.stdout,
        `${U1} ${P1} ${T} manual\n` +
          (withAttrs ? '  Attrs:\n    @{0}: {"attribute0":"VALUE"}\n' : ""),
      );
    }));
}

Deno.test("list: one caps query per parent and type, one get per device", () =>
  withHost(async (host) => {
    await twoRunning(host);
    await host.addParent(P2, { typeB: {} });
    await host.addActive(U3, P2, "typeB");
    await add(host, "ver.sh", { caps: CAPS_V2, attrs: GOOD_ATTRS });
    await dump(host);
    assertEquals(await callSequence(host.path("calls.log")), [
      "ver.sh get/capabilities none",
      "ver.sh get/attributes none",
      "ver.sh get/attributes none",
      "ver.sh get/capabilities none",
      "ver.sh get/attributes none",
    ]);
  }));

Deno.test("list: legacy scripts are searched afresh per device, caps asked once; empty stdin", () =>
  withHost(async (host) => {
    await twoRunning(host);
    await add(host, "a.sh", { types: ["other"] });
    await add(host, "b.sh", { attrs: GOOD_ATTRS });
    assertEquals(await dump(host), [{ [P1]: [WITH_ATTRS(U1), WITH_ATTRS(U2)] }]);
    assertEquals(await callSequence(host.callLog), [
      "a.sh get/capabilities none",
      "b.sh get/capabilities none",
      "a.sh get/attributes none",
      "b.sh get/attributes none",
      "a.sh get/attributes none",
      "b.sh get/attributes none",
    ]);
    const asked = (await readCalls(host.callLog)).filter((c) => c.action === "attributes");
    assertEquals(asked.map((c) => [c.uuid, c.stdin]), [[U1, ""], [U1, ""], [U2, ""], [U2, ""]]);
  }));

Deno.test("list: notifiers never run, -d runs no callouts", () =>
  withHost(async (host) => {
    await twoRunning(host);
    await host.addScript(
      "notify.sh",
      script({ log: host.path("calls.log") }),
      "notifiers",
    );
    await dump(host);
    await host.define(P1, U1, { mdev_type: T, start: "auto" });
    await add(host, "ver.sh", { caps: CAPS_V2, attrs: GOOD_ATTRS });
    assertEquals((await host.run(["list", "-d"])).code, 0);
    assertEquals(await callSequence(host.path("calls.log")), []);
  }));

Deno.test("list: a script printing >64 KiB of attributes and stderr is read whole", () =>
  withHost(async (host) => {
    await twoRunning(host);
    const many = JSON.stringify(
      Array.from({ length: 3000 }, (_, i) => ({ [`attr${i}`]: "v".repeat(20) })),
    );
    await host.addScript(
      "big.sh",
      '#!/bin/bash\n[ "$6" = attributes ] || exit 2\n' +
        "head -c 100000 /dev/zero | tr '\\0' e >&2\n" +
        `printf '%s' '${many}'\n`,
    );
    const r = await host.run(["list", "--dumpjson", "-u", U1]);
    assertEquals(r.code, 0);
    assertEquals(r.stderr, `big.sh: ${"e".repeat(100_000)}`);
    assertEquals(JSON.parse(r.stdout).attrs.length, 3000);
  }));

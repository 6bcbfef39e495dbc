/**
 * `modify --live` end to end with a stateful script (spec §5.3 B, §8.7): the
 * script "applies" the new attributes on live/modify by saving them, and
 * reports them on get/attributes, as a real vendor script would.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { FakeHost, P1, U1, withHost } from "../helpers/fake_host.ts";
import { CAPS_V2, CAPS_V3_LIVE, script, shq } from "../helpers/scripts.ts";

const T = "typeA";
const NEW = '{"mdev_type":"typeA","start":"auto","attrs":[{"a":"1"},{"b":"2"}]}';
const STORED = { mdev_type: T, start: "manual", attrs: [{ old: "0" }] };

async function setup(host: FakeHost, caps = CAPS_V3_LIVE): Promise<void> {
  await host.addParent(P1, { [T]: {} });
  await host.addActive(U1, P1, T);
  await host.define(P1, U1, STORED);
  const state = host.path("live-attrs");
  // The payload is compact JSON with `attrs` last: cut it out with bash alone.
  await host.addScript(
    "stateful.sh",
    script({
      log: host.path("calls.log"),
      caps,
      epilogue: [
        `if [ "$event/$action" = live/modify ]; then`,
        `  a=\${in#*'"attrs":'}; printf '%s' "\${a%\\}}" > ${shq(state)}`,
        `elif [ "$event/$action" = get/attributes ]; then`,
        `  if [ -e ${shq(state)} ]; then cat ${shq(state)}; else printf '[]'; fi`,
        `fi`,
      ].join("\n"),
    }),
  );
}

async function activeAttrs(host: FakeHost): Promise<unknown> {
  const r = await host.run(["list", "--dumpjson", "-u", U1]);
  assertEquals([r.code, r.stderr], [0, ""]);
  return JSON.parse(r.stdout).attrs;
}

async function storedConfig(host: FakeHost): Promise<unknown> {
  return JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`));
}

Deno.test("live + defined: the running device and the stored config both get the file", () =>
  withHost(async (host) => {
    await setup(host);
    assertEquals(await activeAttrs(host), []);
    const r = await host.run(
      ["modify", "-u", U1, "--live", "--defined", "--jsonfile", "/dev/stdin"],
      { stdin: NEW },
    );
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await activeAttrs(host), [{ a: "1" }, { b: "2" }]);
    assertEquals(await storedConfig(host), JSON.parse(NEW));
  }));

Deno.test("live only: the stored config keeps its bytes", () =>
  withHost(async (host) => {
    await setup(host);
    const before = await host.read(`etc/mdevctl.d/${P1}/${U1}`);
    const r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", "/dev/stdin"], {
      stdin: NEW,
    });
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await activeAttrs(host), [{ a: "1" }, { b: "2" }]);
    assertEquals(await host.read(`etc/mdevctl.d/${P1}/${U1}`), before);
  }));

Deno.test("live + defined with a script without the live event: nothing changes", () =>
  withHost(async (host) => {
    await setup(host, CAPS_V2);
    const r = await host.run(
      ["modify", "-u", U1, "--live", "--defined", "--jsonfile", "/dev/stdin"],
      { stdin: NEW },
    );
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: `Error: Script "${
        host.path("usr/lib/mdevctl/scripts.d/callouts/stateful.sh")
      }" does not support event 'Live'\n`,
    });
    assertEquals(await activeAttrs(host), []);
    assertEquals(await storedConfig(host), STORED);
  }));

Deno.test("--defined without --live: only the stored config changes", () =>
  withHost(async (host) => {
    await setup(host);
    const r = await host.run(["modify", "-u", U1, "--defined", "--addattr", "c", "--value", "3"]);
    assertEquals(r, { code: 0, stdout: "", stderr: "" });
    assertEquals(await activeAttrs(host), []);
    assertEquals(await storedConfig(host), { ...STORED, attrs: [{ old: "0" }, { c: "3" }] });
  }));

Deno.test("live: a type change is refused before any live call", () =>
  withHost(async (host) => {
    await setup(host);
    const r = await host.run(["modify", "-u", U1, "--live", "--jsonfile", "/dev/stdin"], {
      stdin: '{"mdev_type":"typeB","start":"manual","attrs":[]}',
    });
    assertEquals(r, {
      code: 1,
      stdout: "",
      stderr: "Error: 'type' cannot be changed on active mdev\n",
    });
    assertEquals(await activeAttrs(host), []);
  }));

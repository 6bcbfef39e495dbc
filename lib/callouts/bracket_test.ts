import { deepEqual, equal, match, rejects } from "node:assert/strict";
import { newDevice } from "../config.ts";
import { type FakeEnv, withFakeEnv } from "../testing.ts";
import { runBracket } from "./bracket.ts";

const P = "0000:00:02.0";
const U = "11111111-1111-0000-0000-000000000000";
const device = () => newDevice(U, { parent: P, type: "t1" });

/** A callout that logs `event action state` and fails pre when `failPre`. */
function addCallout(host: FakeEnv, failPre: boolean): string {
  const dir = host.env.calloutDirs[0]!;
  const log = `${host.root}/calls.log`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    `${dir}/log.sh`,
    `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -e) e=$2;; -a) a=$2;; -s) s=$2;; esac; shift 2; done
echo "$e $a $s" >> ${log}
[ "$e" = pre ] && [ ${failPre ? 1 : 0} = 1 ] && exit 1
exit 0
`,
    { mode: 0o755 },
  );
  return log;
}

/** The bracket's calls, without the capability probe that comes first (mdevctl.md §8.5). */
const calls = (log: string) =>
  Deno.readTextFileSync(log).trim().split("\n").filter((l) => l !== "get capabilities none");

Deno.test("bracket: pre, primary, post in order; the primary's value comes back", () =>
  withFakeEnv(async (host) => {
    const log = addCallout(host, false);
    const order: string[] = [];
    const value = await runBracket(host.env, device(), "start", false, () => {
      order.push(...calls(log));
      return 42;
    });
    equal(value, 42);
    deepEqual(order, ["pre start none"]);
    deepEqual(calls(log), ["pre start none", "post start success"]);
  }));

Deno.test("bracket: a failing pre refuses; the primary never runs", () =>
  withFakeEnv(async (host) => {
    const log = addCallout(host, true);
    let ran = false;
    await rejects(
      () => runBracket(host.env, device(), "define", false, () => void (ran = true)),
      { message: /^Script '".*log\.sh"' failed with status '1'$/ },
    );
    equal(ran, false);
    deepEqual(calls(log), ["pre define none"]);
  }));

Deno.test("bracket: forced past a failing pre, with a warning; post hears a failure", () =>
  withFakeEnv(async (host) => {
    const log = addCallout(host, true);
    await rejects(
      () =>
        runBracket(host.env, device(), "stop", true, () => {
          throw new Error("kernel said no");
        }),
      { message: "kernel said no" },
    );
    match(host.stderr.join(""), /Forcing operation 'stop' despite callout failure/);
    deepEqual(calls(log), ["pre stop none", "post stop failure"]);
  }));

Deno.test("bracket: without scripts the primary simply runs", () =>
  withFakeEnv(async (host) => {
    equal(await runBracket(host.env, device(), "undefine", false, () => "done"), "done");
    deepEqual(host.stderr, []);
  }));

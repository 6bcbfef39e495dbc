import { deepEqual, equal, match } from "node:assert/strict";
import { withFakeEnv } from "../testing.ts";
import { allDirty, cleanDirty, readActive, readParents, readState, rescan } from "./snapshot.ts";
import { emptyState } from "./state.ts";

const P1 = "0000:00:02.0";
const P2 = "0000:00:03.0";
const U1 = "11111111-1111-0000-0000-000000000000";
const U2 = "22222222-2222-0000-0000-000000000000";
const CONFIG = { type: "t1", autostart: true, attrs: [] as [string, string][] };

Deno.test("monitor snapshot: definitions, running devices and registered parents", () =>
  withFakeEnv(({ env, addParent, addActive, define }) => {
    addParent(P1, { t1: "1\n", t2: "1\n" });
    // A parent entry without mdev_supported_types is not registered (monitor.md §3.1).
    Deno.mkdirSync(env.parentPath(P2), { recursive: true });
    define(P1, U1, CONFIG);
    addActive(U1, P1, "t1");
    const state = readState(env, emptyState());
    deepEqual([...state.defined.values()].map((d) => [d.parent, d.uuid, d.config.type]), [
      [P1, U1, "t1"],
    ]);
    deepEqual(state.active.get(U1), {
      uuid: U1,
      parent: P1,
      type: "t1",
      start: "auto",
      defined: true,
    });
    deepEqual(readParents(env), [{ parent: P1, types: ["t1", "t2"] }]);
    equal(allDirty().configs, "all");
  }));

Deno.test("monitor snapshot: a half-created device is kept with type null", () =>
  withFakeEnv(({ env, addParent, addActive }) => {
    addParent(P1, { t1: "1\n" });
    const dir = addActive(U2, P1, "t1");
    Deno.removeSync(`${dir}/mdev_type`);
    deepEqual(readActive(env).map((a) => [a.uuid, a.parent, a.type, a.start]), [
      [U2, P1, null, "manual"],
    ]);
  }));

Deno.test("monitor snapshot: rescan reads only what is dirty", () =>
  withFakeEnv(({ env, addParent, define }) => {
    addParent(P1, { t1: "1\n" });
    define(P1, U1, CONFIG);
    const first = readState(env, emptyState());
    define(P1, U2, CONFIG);
    const untouched = rescan(env, first, { ...cleanDirty(), active: true });
    equal(untouched.defined, first.defined);
    const reread = rescan(env, first, { ...cleanDirty(), configs: new Set([P1]) });
    equal(reread.defined.size, 2);
    equal(reread.parents, first.parents);
  }));

Deno.test("monitor snapshot: definitions it cannot list are warned about, never fatal", () =>
  withFakeEnv(({ env, define, stderr }) => {
    define(P1, U1, CONFIG);
    Deno.writeTextFileSync(env.parentConfigDir(P2), "");
    // A file where a parent directory would be is skipped by the scan (not a directory).
    equal(readState(env, emptyState()).defined.size, 1);
    // A config base that cannot be listed: said, and the monitor goes on.
    Deno.removeSync(env.configBase, { recursive: true });
    Deno.writeTextFileSync(env.configBase, "");
    equal(readState(env, emptyState()).defined.size, 0);
    match(stderr.join(""), /Unable to read ".*mdevctl\.d": Not a directory/);
  }));

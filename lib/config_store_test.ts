import { deepEqual, equal, match, throws } from "node:assert/strict";
import { newDevice } from "./config.ts";
import {
  definitionReader,
  isDefined,
  removeConfig,
  scanDefined,
  writeConfig,
} from "./config_store.ts";
import { withFakeEnv } from "./testing.ts";

const P1 = "0000:00:02.0";
const P2 = "0000:00:03.0";
const U1 = "11111111-1111-0000-0000-000000000000";
const U2 = "22222222-2222-0000-0000-000000000000";
const CONFIG = { type: "t1", autostart: true, attrs: [] as [string, string][] };

Deno.test("config_store: no config base is no definitions", () =>
  withFakeEnv(({ env }) => {
    equal(scanDefined(env, {}).size, 0);
    equal(isDefined(env, P1, U1), false);
  }));

Deno.test("config_store: parents in byte order, active flag from sysfs, filters", () =>
  withFakeEnv(({ env, define, addParent, addActive }) => {
    define(P2, U2, { ...CONFIG, autostart: false });
    define(P1, U1, CONFIG);
    addParent(P1, { t1: "1\n" });
    addActive(U1, P1, "t1");
    const all = scanDefined(env, {});
    deepEqual([...all.keys()], [P1, P2]);
    deepEqual(
      [all.get(P1)![0]!.active, all.get(P2)![0]!.active, all.get(P2)![0]!.autostart],
      [true, false, false],
    );
    deepEqual([...scanDefined(env, { uuid: U2 }).keys()], [P2]);
    deepEqual([...scanDefined(env, { parent: P1 }).keys()], [P1]);
    equal(scanDefined(env, {}, { skipActive: true }).get(P1)![0]!.active, false);
  }));

Deno.test("config_store: a corrupt file is a warning, or kept as invalid when asked", () =>
  withFakeEnv(({ env, define, stderr }) => {
    define(P1, U2, CONFIG);
    const path = define(P1, U1, CONFIG);
    Deno.writeTextFileSync(path, "{");
    deepEqual(scanDefined(env, {}).get(P1)!.map((d) => d.uuid), [U2]);
    match(stderr.join(""), /Ignoring invalid config file ".*11111111-[^"]*": /);
    const kept = scanDefined(env, { uuid: U1 }, { includeInvalid: true }).get(P1)![0]!;
    equal(kept.invalid, "EOF while parsing an object at line 1 column 1");
  }));

Deno.test("config_store: a config base that cannot be listed is an error naming it", () =>
  withFakeEnv(({ env }) => {
    Deno.mkdirSync(env.path("etc"), { recursive: true });
    Deno.writeTextFileSync(env.configBase, "");
    throws(() => scanDefined(env, {}), {
      message: `Unable to read "${env.configBase}": Not a directory (os error 20)`,
    });
  }));

Deno.test("config_store: write, read back through definitionReader, remove", () =>
  withFakeEnv(({ env }) => {
    const device = newDevice(U1, { parent: P1 });
    writeConfig(env, device, CONFIG);
    equal(isDefined(env, P1, U1), true);
    equal(
      Deno.readTextFileSync(env.configFile(P1, U1)),
      '{\n  "mdev_type": "t1",\n  "start": "auto",\n  "attrs": []\n}',
    );
    const read = definitionReader(env);
    deepEqual(read(P1, U1), { defined: true, autostart: true });
    deepEqual(read(P1, U2), { defined: false, autostart: false });
    deepEqual(read(P2, U1), { defined: false, autostart: false });
    removeConfig(env, device);
    equal(isDefined(env, P1, U1), false);
    throws(() => removeConfig(env, device), { message: /^Failed to remove file "/ });
  }));

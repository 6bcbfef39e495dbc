import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { newDevice } from "./config.ts";
import {
  createDevice,
  lookupActive,
  lookupDefined,
  startDevice,
  stopActive,
  writeDefinition,
} from "./lifecycle.ts";
import { withFakeEnv } from "./testing.ts";

const P = "0000:00:02.0";
const U1 = "11111111-1111-0000-0000-000000000000";
const U2 = "22222222-2222-0000-0000-000000000000";

Deno.test("lifecycle: lookupDefined says none, one or which is bad", () =>
  withFakeEnv(({ env, define }) => {
    throws(() => lookupDefined(env, U1, undefined), {
      message: `Mediated device ${U1} is not defined`,
    });
    define(P, U1, { type: "t1", autostart: false, attrs: [] });
    equal(lookupDefined(env, U1, P).type, "t1");
    define("other", U1, { type: "t1", autostart: false, attrs: [] });
    throws(() => lookupDefined(env, U1, undefined), {
      message: `Multiple definitions found for ${U1}, specify a parent`,
    });
  }));

Deno.test("lifecycle: createDevice refuses a running uuid, as 1.x words it", () =>
  withFakeEnv(({ env, addParent, addActive }) => {
    addParent(P, { t1: "2\n", t2: "2\n" });
    addActive(U1, P, "t1");
    const device = (type: string, parent = P) => newDevice(U1, { parent, type });
    throws(() => createDevice(env, device("t1")), { message: "Device already exists" });
    throws(() => createDevice(env, device("t2")), { message: "Device exists with different type" });
    throws(() => createDevice(env, device("t1", "p2")), {
      message: "Device exists under different parent",
    });
    deepEqual(lookupActive(env, U1, undefined).type, "t1");
  }));

Deno.test("lifecycle: a failed attribute removes the device again", () =>
  withFakeEnv(({ env, addParent }) => {
    const dir = addParent(P, { t1: "1\n" });
    // What the kernel's create makes, laid out beforehand (the fake has no
    // kernel): a device directory whose type link is not there yet.
    const devDir = `${dir}/${U2}`;
    Deno.mkdirSync(devDir);
    Deno.writeTextFileSync(`${devDir}/remove`, "");
    Deno.symlinkSync(devDir, env.devicePath(U2));
    const device = newDevice(U2, { parent: P, type: "t1", attrs: [["missing", "1"]] });
    throws(() => createDevice(env, device), { message: "Invalid attribute 'missing'" });
    equal(Deno.readTextFileSync(`${dir}/mdev_supported_types/t1/create`), U2);
    equal(Deno.readTextFileSync(`${devDir}/remove`), "1");
  }));

Deno.test("lifecycle: start goes through the bracket to the kernel; stop of nothing is false", () =>
  withFakeEnv(async ({ env, addParent }) => {
    const dir = addParent(P, { t1: "1\n" });
    await startDevice(env, newDevice(U1, { parent: P, type: "t1" }), false);
    equal(Deno.readTextFileSync(`${dir}/mdev_supported_types/t1/create`), U1);
    equal(await stopActive(env, U2, false), false);
    await rejects(() => startDevice(env, newDevice(U2, { parent: P }), false), {
      message: "Device must have a defined mdev_type",
    });
  }));

Deno.test("lifecycle: writeDefinition stores the definition", () =>
  withFakeEnv(async ({ env }) => {
    const device = newDevice(U1, { parent: P, type: "t1", autostart: true });
    await writeDefinition(env, device, "define", false);
    equal(lookupDefined(env, U1, P).autostart, true);
  }));

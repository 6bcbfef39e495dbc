import { deepEqual, equal, match, throws } from "node:assert/strict";
import { withFakeEnv } from "../testing.ts";
import { loadActive, loadActiveOrWarn, loadRunning, scanActive } from "./active.ts";
import { parentFacts, resolveParentDir } from "./parents.ts";
import { checkDevice, checkParent, registeredTypeIds } from "./readiness.ts";
import { scanTypes } from "./types.ts";
import { vfioGroup } from "./vfio.ts";
import { createMdev, removeMdev, writeMdevAttribute } from "./write.ts";

const P = "0000:00:02.0";
const T = "t1";
const U1 = "11111111-1111-0000-0000-000000000000";
const U2 = "22222222-2222-0000-0000-000000000000";
const none = () => ({ defined: false, autostart: false });

Deno.test("sysfs: loadRunning tells running, half-created and absent apart", () =>
  withFakeEnv(({ env, addParent, addActive }) => {
    addParent(P, { [T]: "1\n" });
    const dir = addActive(U1, P, T);
    deepEqual(loadRunning(env, U1), { parent: P, type: T });
    deepEqual(loadRunning(env, U1, { parent: "other" }), null);
    equal(loadRunning(env, U2), null);
    Deno.removeSync(`${dir}/mdev_type`);
    deepEqual(loadRunning(env, U1), { parent: P, type: null });
    throws(() => loadActive(env, U1), { message: "No such file or directory (os error 2)" });
  }));

Deno.test("sysfs: a half-created device is a warning in a scan, not a failure", () =>
  withFakeEnv(({ env, addParent, addActive, stderr }) => {
    addParent(P, { [T]: "2\n" });
    addActive(U1, P, T);
    const dir = addActive(U2, P, T);
    Deno.removeSync(`${dir}/mdev_type`);
    equal(loadActiveOrWarn(env, U2), null);
    match(stderr.join(""), /Ignoring mdev device ".*22222222-.*": No such file/);
    deepEqual([...scanActive(env, {}, none).get(P)!].map((d) => d.uuid), [U1]);
  }));

Deno.test("sysfs: an unreadable running-device directory is an error, not an empty list", () =>
  withFakeEnv(({ env }) => {
    Deno.removeSync(env.mdevBase);
    Deno.writeTextFileSync(env.mdevBase, "");
    throws(() => scanActive(env, {}, none), {
      message: `Unable to read "${env.mdevBase}": Not a directory (os error 20)`,
    });
  }));

Deno.test("sysfs: scanTypes skips a garbled type with a warning, fails on an unreadable one", () =>
  withFakeEnv(({ env, addParent, stderr }) => {
    const dir = addParent(P, { [T]: "3\n", bad: "x\n" });
    const types = scanTypes(env, undefined).get(P)!;
    deepEqual(types.map((t) => [t.name, t.availableInstances]), [[T, 3]]);
    match(stderr.join(""), /Skipping mdev type ".*\/bad": invalid digit found in string/);
    const file = `${dir}/mdev_supported_types/${T}/available_instances`;
    Deno.removeSync(file);
    Deno.mkdirSync(file);
    throws(() => scanTypes(env, P), {
      message:
        `Unable to read "${env.parentPath(P)}/mdev_supported_types/${T}/available_instances": ` +
        "Is a directory (os error 21)",
    });
  }));

Deno.test("sysfs: checkParent walks the readiness levels in order", () =>
  withFakeEnv(({ env, addParent }) => {
    equal(checkParent(env, P)?.level, "parent");
    const dir = addParent(P, { [T]: "0\n", neg: "-1\n", bad: "many\n" });
    equal(checkParent(env, P), null);
    equal(checkParent(env, P, "other")?.top, `Parent ${P} does not support mdev type other`);
    equal(checkParent(env, P, T), null);
    equal(checkParent(env, P, T, true)?.top, `No available instances of ${T} on ${P}`);
    equal(checkParent(env, P, "neg", true)?.level, "capacity");
    equal(checkParent(env, P, "bad", true)?.error?.message, "invalid digit found in string");
    Deno.writeTextFileSync(`${dir}/mdev_supported_types/${T}/available_instances`, "2\n");
    equal(checkParent(env, P, T, true), null);
    deepEqual(registeredTypeIds(env, P), ["bad", "neg", T]);
    Deno.removeSync(`${dir}/mdev_supported_types`, { recursive: true });
    equal(checkParent(env, P, T)?.level, "registered");
    equal(registeredTypeIds(env, P), null);
  }));

Deno.test("sysfs: checkDevice wants the device, its type and its VFIO node", () =>
  withFakeEnv(({ env, addParent, addActive }) => {
    addParent(P, { [T]: "1\n" });
    equal(
      checkDevice(env, U1, [{ parent: P, type: T }])?.top,
      `Mediated device ${U1} is not active`,
    );
    addActive(U1, P, T, "7");
    equal(
      checkDevice(env, U1, [{ parent: P, type: "t2" }])?.top,
      "Device exists with different type",
    );
    deepEqual(vfioGroup(env, U1, false), { state: "no-node", path: env.vfioGroupPath("7") });
    equal(checkDevice(env, U1)?.path, env.vfioGroupPath("7"));
    Deno.mkdirSync(`${env.dev}/vfio`, { recursive: true });
    Deno.writeTextFileSync(env.vfioGroupPath("7"), "");
    equal(vfioGroup(env, U1, true).state, "free");
    equal(checkDevice(env, U1, [{ parent: P, type: T }]), null);
    addActive(U2, P, T);
    equal(vfioGroup(env, U2, false).state, "no-group");
  }));

Deno.test("sysfs: createMdev asks readiness first, then writes the uuid to create", () =>
  withFakeEnv(({ env, addParent }) => {
    const dir = addParent(P, { [T]: "1\n", empty: "0\n" });
    addParent("matrix", {});
    throws(() => createMdev(env, "Matrix", T, U1), {
      message: "Unable to find parent device 'Matrix'. Did you mean 'matrix'?",
    });
    throws(() => createMdev(env, "matrix", T, U1), {
      message: "Parent matrix does not support mdev type t1",
    });
    throws(() => createMdev(env, P, "empty", U1), {
      message: `No available instances of empty on ${P}`,
    });
    createMdev(env, P, T, U1);
    equal(Deno.readTextFileSync(`${dir}/mdev_supported_types/${T}/create`), U1);
    equal(resolveParentDir(env, P), env.parentPath(P));
  }));

Deno.test("sysfs: attributes must exist; remove writes 1", () =>
  withFakeEnv(({ env, addParent, addActive }) => {
    addParent(P, { [T]: "1\n" });
    const dir = addActive(U1, P, T);
    throws(() => writeMdevAttribute(env, U1, "nope", "1"), { message: "Invalid attribute 'nope'" });
    Deno.writeTextFileSync(`${dir}/weight`, "");
    writeMdevAttribute(env, U1, "weight", "5");
    equal(Deno.readTextFileSync(`${dir}/weight`), "5");
    removeMdev(env, U1);
    equal(Deno.readTextFileSync(`${dir}/remove`), "1");
  }));

Deno.test("sysfs: parentFacts reads links and files, onBus from the subsystem link", () =>
  withFakeEnv(({ env, addParent }) => {
    const dir = addParent(P, {});
    deepEqual(parentFacts(env, P), {
      driver: undefined,
      vendor: undefined,
      device: undefined,
      physfn: undefined,
      onBus: false,
    });
    Deno.symlinkSync("../../../bus/pci", `${dir}/subsystem`);
    Deno.symlinkSync("../../../bus/pci/drivers/nvidia", `${dir}/driver`);
    Deno.writeTextFileSync(`${dir}/vendor`, "0x10de\n");
    const facts = parentFacts(env, P);
    deepEqual([facts.driver, facts.vendor, facts.onBus], ["nvidia", "0x10de", true]);
  }));

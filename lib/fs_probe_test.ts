import { deepEqual, equal, throws } from "node:assert/strict";
import {
  exists,
  isAbsent,
  isDir,
  lstatOrNull,
  readDirOrNull,
  readLinkOrNull,
  readTextOrNull,
} from "./fs_probe.ts";

function withDir(body: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    body(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("fs_probe: a path that is not there is absent, for every probe", () =>
  withDir((dir) => {
    const none = `${dir}/none`;
    equal(exists(none), false);
    equal(isDir(none), false);
    equal(readDirOrNull(none), null);
    equal(readTextOrNull(none), null);
    equal(readLinkOrNull(none), null);
    equal(lstatOrNull(none), null);
  }));

Deno.test("fs_probe: what is there is read; a dangling link exists only unfollowed", () =>
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/f`, "text");
    Deno.symlinkSync(`${dir}/gone`, `${dir}/dangling`);
    equal(readTextOrNull(`${dir}/f`), "text");
    equal(isDir(dir), true);
    equal(isDir(`${dir}/f`), false);
    equal(exists(`${dir}/dangling`), false);
    equal(lstatOrNull(`${dir}/dangling`)?.isSymlink, true);
    equal(readLinkOrNull(`${dir}/dangling`), `${dir}/gone`);
    deepEqual(readDirOrNull(dir)!.map((e) => e.name).sort(), ["dangling", "f"]);
  }));

Deno.test("fs_probe: any other failure is one line naming the path (as shown)", () =>
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/f`, "");
    throws(() => readDirOrNull(`${dir}/f`), {
      message: `Unable to read "${dir}/f": Not a directory (os error 20)`,
    });
    throws(() => readTextOrNull(dir, () => "/sys/x"), {
      message: `Unable to read "/sys/x": Is a directory (os error 21)`,
    });
    throws(() => exists(`${dir}/f/below`), { message: /^Unable to read ".*\/f\/below": Not a/ });
  }));

Deno.test("fs_probe: isAbsent is NotFound and ENODEV only", () => {
  equal(isAbsent(new Deno.errors.NotFound("x")), true);
  equal(isAbsent(Object.assign(new Error("gone"), { code: "ENODEV" })), true);
  equal(isAbsent(new Deno.errors.PermissionDenied("x")), false);
  equal(isAbsent(new Deno.errors.NotADirectory("x")), false);
  equal(isAbsent(null), false);
});

import { deepEqual as assertEquals } from "node:assert/strict";
import { basename, dirname, quotePath, resolvePath } from "./paths.ts";

Deno.test("basename and dirname", () => {
  assertEquals(basename("/sys/devices/pci0000:00/0000:00:02.0/"), "0000:00:02.0");
  assertEquals(dirname("/sys/devices/vfio_ap/matrix/u"), "/sys/devices/vfio_ap/matrix");
  assertEquals(dirname("/x"), "/");
  assertEquals(dirname("x"), ".");
});

Deno.test("quotePath renders like Rust's Debug", () => {
  assertEquals(quotePath('/tmp/no"ex\tist'), '"/tmp/no\\"ex\\tist"');
  assertEquals(quotePath("a\u0001b"), '"a\\u{1}b"');
});

Deno.test("resolvePath folds . and .. like the kernel resolves link text", () => {
  assertEquals(
    resolvePath("/sys/bus/mdev/devices", "../../../devices/pci0000:00/0000:00:02.0/u"),
    "/sys/devices/pci0000:00/0000:00:02.0/u",
  );
  assertEquals(resolvePath("/a/b", "/x/./y/../z"), "/x/z");
  assertEquals(resolvePath("rel/dir", "../up"), "rel/up");
  assertEquals(resolvePath("", "a/../../b"), "../b");
});

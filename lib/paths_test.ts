import { deepEqual as assertEquals } from "node:assert/strict";
import { basename, dirname, quotePath } from "./paths.ts";

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

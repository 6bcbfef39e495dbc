import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { checkName, isValidAttributeName, isValidDeviceName } from "./names.ts";

Deno.test("device names are single path components", () => {
  for (const ok of ["0000:00:02.0", "matrix", "0.0.26ab", "1234", "a b", "..."]) {
    assertEquals(isValidDeviceName(ok), true, ok);
  }
  for (const bad of ["", ".", "..", "a/b", "/abs", "../x", "a\0b"]) {
    assertEquals(isValidDeviceName(bad), false, bad);
  }
});

Deno.test("attribute names may hold / between components only", () => {
  assertEquals(isValidAttributeName("nvidia/vgpu_params"), true);
  assertEquals(isValidAttributeName("assign_adapter"), true);
  for (const bad of ["", "/etc/passwd", "a//b", "a/", "../../../../tmp/victim", "a/../b", "x\0"]) {
    assertEquals(isValidAttributeName(bad), false, bad);
  }
});

Deno.test("checkName reports the kind and the name", () => {
  assertThrows(() => checkName("parent", "../x"), { message: "Invalid parent name '../x'" });
  assertThrows(() => checkName("attribute", "a\0"), { message: "Invalid attribute name 'a\\0'" });
  assertEquals(checkName("type", "i915-GVTg_V5_4"), "i915-GVTg_V5_4");
});

import { deepEqual as assertEquals } from "node:assert/strict";
import { parseCreatable, parseTypeId, shortName } from "./creatable.ts";

Deno.test("parseCreatable: header, blank lines, odd spacing, CRLF", () => {
  const text =
    "ID : vGPU Name\r\n\r\n1414 : NVIDIA H200X-1-18C\r\n  1415:NVIDIA   H200X-2-35C  \n\n";
  assertEquals(parseCreatable(text), [
    { id: 1414, name: "NVIDIA H200X-1-18C", short: "H200X-1-18C" },
    { id: 1415, name: "NVIDIA H200X-2-35C", short: "H200X-2-35C" },
  ]);
});

Deno.test("parseCreatable: skips what is not <digits> : <name>", () => {
  const text = [
    "vGPU Type ID : Name",
    "-1 : NVIDIA bad",
    "0x10 : NVIDIA hex",
    "12 :",
    ": NVIDIA no id",
    "12 NVIDIA no colon",
    "0 : NVIDIA zero is none",
    "99999999999 : NVIDIA too big",
    "7 : NVIDIA L40S-1Q",
    "7 : NVIDIA duplicate",
  ].join("\n");
  assertEquals(parseCreatable(text), [{ id: 7, name: "NVIDIA L40S-1Q", short: "L40S-1Q" }]);
});

Deno.test("parseCreatable: empty text lists nothing", () => {
  assertEquals(parseCreatable(""), []);
  assertEquals(parseCreatable("ID : vGPU Name\n"), []);
});

Deno.test("parseTypeId: decimal only, within an unsigned int", () => {
  assertEquals(
    ["0\n", "1414", " 12 ", "", "abc", "-3", "1e3", "4294967295", "4294967296"].map(parseTypeId),
    [0, 1414, 12, null, null, null, null, 4294967295, null],
  );
});

Deno.test("shortName: last word", () => {
  assertEquals(shortName("NVIDIA L40S-12Q"), "L40S-12Q");
  assertEquals(shortName("L40S-12Q"), "L40S-12Q");
});

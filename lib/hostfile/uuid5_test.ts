import { deepEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_NAMESPACE,
  deviceIdName,
  NAMESPACE_URL,
  poolInstanceName,
  uuid5,
} from "./uuid5.ts";

Deno.test("the default namespace is uuid5(NAMESPACE_URL, urn:mdevctl:hostfile:v1)", () => {
  assertEquals(uuid5(NAMESPACE_URL, "urn:mdevctl:hostfile:v1"), DEFAULT_NAMESPACE);
});

Deno.test("RFC 9562 / Python's uuid5 known answer (python.org under NAMESPACE_DNS)", () => {
  assertEquals(
    uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
    "886313e1-3b8a-5372-9b90-0c9aee199e5d",
  );
});

Deno.test("hostfile.md §4 test vectors", () => {
  const vectors: [string, string][] = [
    [
      poolInstanceName("gpu-pool", "t4-q", "0000:3b:00.0", "nvidia-222", 0),
      "ce5e6e4d-2d74-5e66-8270-93e4b8657ce0",
    ],
    [
      poolInstanceName("gpu-pool", "t4-q", "0000:3b:00.0", "nvidia-222", 1),
      "13d239f7-94da-5e66-bf61-1f80948d75bc",
    ],
    [
      poolInstanceName("gpu-pool", "t4-q", "0000:5e:00.0", "nvidia-222", 0),
      "a357575d-a701-55ee-af7a-ddb3c7a58c06",
    ],
    [
      poolInstanceName("gpu-pool", "t4-q", "0000:5e:00.0", "nvidia-222", 1),
      "67a61a03-1510-5b8e-b8b7-2a214474293d",
    ],
    [
      poolInstanceName("vdi", "gvt", "0000:00:02.0", "i915-GVTg_V5_4", 0),
      "7151e295-308f-5810-9cac-ae302fe99485",
    ],
    [
      poolInstanceName("vdi", "gvt", "0000:00:02.0", "i915-GVTg_V5_4", 1),
      "f799ecd3-b9b0-5882-ab60-17b7f5add2a7",
    ],
    [deviceIdName("crypto", "dasd-boot"), "38c07070-f0e1-5536-bde4-14431eda2eee"],
  ];
  for (const [name, expected] of vectors) {
    assertEquals(uuid5(DEFAULT_NAMESPACE, name), expected, name);
  }
});

Deno.test("version and variant bits are set", () => {
  fc.assert(fc.property(fc.string(), (name) => {
    const u = uuid5(DEFAULT_NAMESPACE, name);
    return /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u);
  }));
});

Deno.test("the mapping from (owner, pool, parent, type, slot) is injective", () => {
  const part = fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,8}$/);
  fc.assert(fc.property(
    fc.uniqueArray(fc.tuple(part, part, part, part, fc.nat(50)), {
      selector: (t) => t.join("\u0000"),
      minLength: 2,
      maxLength: 40,
    }),
    (tuples) => {
      const uuids = new Set(
        tuples.map(([o, p, par, t, s]) =>
          uuid5(DEFAULT_NAMESPACE, poolInstanceName(o, p, par, t, s))
        ),
      );
      return uuids.size === tuples.length;
    },
  ));
});

import { deepEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { sha1, sha256Bytes, toHex } from "./sha.ts";

Deno.test("FIPS 180 examples", () => {
  const abc = new TextEncoder().encode("abc");
  assertEquals(toHex(sha1(abc)), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assertEquals(
    toHex(sha256Bytes(abc)),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(toHex(sha1(new Uint8Array())), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
});

Deno.test("agrees with node:crypto on random inputs of every length around block edges", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      const node1 = createHash("sha1").update(data).digest("hex");
      const node256 = createHash("sha256").update(data).digest("hex");
      return toHex(sha1(data)) === node1 && toHex(sha256Bytes(data)) === node256;
    }),
    { numRuns: 500 },
  );
});

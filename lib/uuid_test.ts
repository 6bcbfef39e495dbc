import { deepEqual as assertEquals } from "node:assert/strict";
import { newUuid, parseUuid } from "./uuid.ts";

const canonical = "11111111-2222-3333-4444-555555555555";

Deno.test("parseUuid accepts every spelling upstream accepts", () => {
  for (
    const spelling of [
      canonical,
      canonical.toUpperCase(),
      "11111111222233334444555555555555",
      `{${canonical}}`,
      `urn:uuid:${canonical}`,
      "11111111-2222-3333-4444-55555555555A".toLowerCase(),
    ]
  ) {
    const parsed = parseUuid(spelling);
    assertEquals(parsed?.length, 36, spelling);
    assertEquals(parsed, parsed?.toLowerCase());
  }
  assertEquals(
    parseUuid("ABCDEFAB-2222-3333-4444-555555555555"),
    "abcdefab-2222-3333-4444-555555555555",
  );
});

Deno.test("parseUuid rejects malformed text", () => {
  for (
    const bad of [
      "",
      ` ${canonical}`,
      `${canonical} `,
      "1111111-12222-3333-4444-555555555555",
      "11111111-2222-3333-4444-55555555555g",
      "{11111111222233334444555555555555}",
      `URN:UUID:${canonical}`,
      `urn:uuid:11111111222233334444555555555555`,
      "1111111122223333444455555555555",
    ]
  ) {
    assertEquals(parseUuid(bad), null, bad);
  }
});

Deno.test("parseUuid checks every character of a canonical-length name", () => {
  const lower = "0123abcd-ef45-6789-abcd-ef0123456789";
  assertEquals(parseUuid(lower), lower);
  for (let i = 0; i < lower.length; i++) {
    const hyphen = lower[i] === "-";
    // Just outside each range the fast check accepts, and the other class of character.
    for (const c of hyphen ? ["0", "a", "_", "."] : ["-", "/", ":", "`", "g", " "]) {
      const bad = lower.slice(0, i) + c + lower.slice(i + 1);
      assertEquals(parseUuid(bad), null, bad);
    }
    if (!hyphen && /[a-f]/.test(lower[i]!)) {
      const upper = lower.slice(0, i) + lower[i]!.toUpperCase() + lower.slice(i + 1);
      assertEquals(parseUuid(upper), lower, upper);
    }
  }
});

Deno.test("newUuid produces canonical version-4 uuids", () => {
  const u = newUuid();
  assertEquals(parseUuid(u), u);
  assertEquals(u[14], "4");
});

/**
 * Property-based tests (fast-check) of the config parser and serializer, the
 * JSON printer and the lenient uuid parser (issue #9). The seed is printed by
 * fast-check on failure; MDEVCTL_TEST_SEED replays a run.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import {
  Attr,
  configToJson,
  MdevConfig,
  parseConfig,
  parseStoredConfig,
  serializeConfig,
} from "./config.ts";
import { MdevError } from "./errors.ts";
import { JsonObject, JsonValue, toPrettyJson } from "./json.ts";
import { locateSyntaxError, parseJson } from "./json_parse.ts";
import { parseUuid } from "./uuid.ts";

const seedText = Deno.env.get("MDEVCTL_TEST_SEED");
const params = {
  numRuns: 300,
  ...(seedText === undefined ? {} : { seed: Number(seedText) }),
};

/** Keys and values that trip JSON printers: quotes, controls, integer-like keys, prototypes. */
const tricky = fc.constantFrom(
  "",
  "0",
  "1",
  "42",
  "4294967295",
  "-1",
  "01",
  "__proto__",
  "constructor",
  "toString",
  '"',
  "\\",
  "\n",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u2028",
  "\ud800",
  "\udfff",
  "😀",
  "nvidia/vgpu_params",
);
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ maxLength: 12 }),
  tricky,
);
const configArb: fc.Arbitrary<MdevConfig> = fc.record({
  type: text,
  autostart: fc.boolean(),
  attrs: fc.array(fc.tuple(text, text).map((t): Attr => t), { maxLength: 6 }),
});

Deno.test("property: parseConfig(serializeConfig(c)) == c", () => {
  fc.assert(
    fc.property(configArb, (config) => {
      assertEquals(parseConfig(serializeConfig(config)), config);
      assertEquals(parseStoredConfig(serializeConfig(config)), config);
    }),
    params,
  );
});

Deno.test("property: serializeConfig(c) == toPrettyJson(configToJson(c))", () => {
  fc.assert(
    fc.property(configArb, (config) => {
      assertEquals(serializeConfig(config), toPrettyJson(configToJson(config)));
    }),
    params,
  );
});

Deno.test("property: serializeConfig is a fixed point after one parse", () => {
  // Arbitrary JSON objects shaped like configs, with extra keys and any start value.
  const loose = fc.record({
    mdev_type: text,
    start: fc.oneof(fc.constant("auto"), fc.constant("manual"), fc.jsonValue()),
    attrs: fc.option(fc.array(fc.tuple(text, text).map(([k, v]) => ({ [k]: v })))),
    extra: fc.jsonValue(),
  }, { requiredKeys: ["mdev_type", "start"] }).filter((o) => o.start !== null);
  fc.assert(
    fc.property(loose, (value) => {
      const once = serializeConfig(parseConfig(JSON.stringify(value)));
      assertEquals(serializeConfig(parseConfig(once)), once);
      assert(!once.endsWith("\n"), "no trailing newline");
    }),
    params,
  );
});

const DOCUMENTED = new RegExp(
  "^(?:invalid json|attributes field is not an array" +
    "|invalid JSON format for attribute: not an object" +
    "|invalid JSON format for attribute: too many fields" +
    "|invalid JSON format for attribute \\{.*, .*\\}: value must be of type str" +
    "|(?:EOF while parsing (?:a value|an object|a list|a string)|expected value|expected ident" +
    "|expected `:`|expected `,` or `}`|expected `,` or `]`|key must be a string|trailing comma" +
    "|trailing characters|invalid escape|invalid number|recursion limit exceeded" +
    "|control character \\(\\\\u0000-\\\\u001F\\) found while parsing a string)" +
    " at line \\d+ column \\d+)$",
  "s",
);

function assertOnlyDocumentedErrors(input: string): void {
  try {
    parseConfig(input);
  } catch (e) {
    assert(e instanceof MdevError, `not an MdevError: ${e}`);
    assert(DOCUMENTED.test(e.message), `undocumented message: ${JSON.stringify(e.message)}`);
  }
}

Deno.test("property: parseConfig throws only MdevError with a documented message", () => {
  const anyValue = fc.jsonValue({ maxDepth: 4 });
  const shaped = fc.record({
    mdev_type: anyValue,
    start: anyValue,
    attrs: fc.oneof(anyValue, fc.array(fc.oneof(anyValue, fc.dictionary(text, anyValue)))),
  }, { requiredKeys: [] });
  fc.assert(fc.property(anyValue, (v) => assertOnlyDocumentedErrors(JSON.stringify(v))), params);
  fc.assert(fc.property(shaped, (v) => assertOnlyDocumentedErrors(JSON.stringify(v))), params);
  fc.assert(fc.property(fc.string({ unit: "binary" }), assertOnlyDocumentedErrors), params);
  // Damaged JSON: a valid config with a slice cut out or a character inserted.
  const damaged = fc.tuple(configArb, fc.nat(), fc.nat(), fc.constantFrom("", "{", '"', ",", "\\"))
    .map(([c, a, b, ins]) => {
      const s = serializeConfig(c);
      const i = a % (s.length + 1);
      return s.slice(0, i) + ins + s.slice(i + (b % 4));
    });
  fc.assert(fc.property(damaged, assertOnlyDocumentedErrors), params);
});

Deno.test("property: every text JSON.parse refuses gets a located syntax error", () => {
  const nearJson = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.jsonValue().map((v) => JSON.stringify(v)).chain((s) =>
      fc.tuple(fc.nat(s.length), fc.string({ maxLength: 2 })).map(([i, ins]) =>
        s.slice(0, i) + ins + s.slice(i + 1)
      )
    ),
  );
  fc.assert(
    fc.property(nearJson, (s) => {
      let ok = true;
      try {
        JSON.parse(s);
      } catch {
        ok = false;
      }
      if (!ok) assert(/ at line \d+ column \d+$/.test(locateSyntaxError(s)), s);
    }),
    params,
  );
});

/** Upstream's uuid spellings (mdevctl.md §4.3), written independently of lib/uuid.ts. */
const H = "[0-9a-fA-F]";
const HYPHENATED = `${H}{8}-${H}{4}-${H}{4}-${H}{4}-${H}{12}`;
const REFERENCE = new RegExp(
  `^(?:${H}{32}|${HYPHENATED}|\\{${HYPHENATED}\\}|urn:uuid:${HYPHENATED})$`,
);

function canonical(text: string): string {
  const hex = text.replace(/^urn:uuid:/, "").replace(/[{}-]/g, "").toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

Deno.test("property: parseUuid agrees with a reference regex", () => {
  const hexChar = fc.constantFrom(..."0123456789abcdefABCDEF");
  const mutated = fc.tuple(
    fc.uuid(),
    fc.constantFrom("plain", "upper", "simple", "braced", "urn", "URN", "braced-simple"),
    fc.nat(50),
    fc.oneof(hexChar, fc.constantFrom("-", "g", " ", "{", "}", "", "\u0000", "Ａ")),
    fc.boolean(),
  ).map(([u, form, at, ch, mutate]) => {
    let s = form === "upper"
      ? u.toUpperCase()
      : form === "simple"
      ? u.replaceAll("-", "")
      : form === "braced"
      ? `{${u}}`
      : form === "urn"
      ? `urn:uuid:${u}`
      : form === "URN"
      ? `URN:UUID:${u}`
      : form === "braced-simple"
      ? `{${u.replaceAll("-", "")}}`
      : u;
    if (mutate) s = s.slice(0, at) + ch + s.slice(at + 1);
    return s;
  });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.string({ maxLength: 50 })), (s) => {
      assertEquals(parseUuid(s), REFERENCE.test(s) ? canonical(s) : null, JSON.stringify(s));
    }),
    { ...params, numRuns: 2000 },
  );
});

/** Plain data as a JsonObject tree with the key order JavaScript gives it. */
function toJsonValue(v: unknown): JsonValue {
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v !== null && typeof v === "object") {
    return new JsonObject(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)] as const));
  }
  return v as JsonValue;
}

Deno.test("property: toPrettyJson matches JSON.stringify(…, null, 2) on plain data", () => {
  const key = fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), tricky);
  const plain = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string({ unit: "binary", maxLength: 8 }),
      tricky,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((entries) => {
        // Own properties even for "__proto__", as JSON.parse creates them.
        const o: Record<string, unknown> = {};
        for (const [k, x] of entries) {
          Object.defineProperty(o, k, {
            value: x,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return o;
      }),
    ),
  })).value;
  fc.assert(
    fc.property(plain, (v) => {
      assertEquals(toPrettyJson(toJsonValue(v)), JSON.stringify(v, null, 2));
      // Deno 2.9.5's V8 can misread an escaped key after a nested object when
      // an earlier object of the same shape had another escaped key
      // (`{" ":{},"\\":1}` then `{" ":{},"\n":2}` gives "\\" twice): a
      // runtime bug, not ours, so such samples are left out of the round trip.
      fc.pre(JSON.stringify(JSON.parse(JSON.stringify(v))) === JSON.stringify(v));
      assertEquals(
        toPrettyJson(toJsonValue(parseJson(JSON.stringify(v)))),
        JSON.stringify(v, null, 2),
      );
    }),
    params,
  );
});

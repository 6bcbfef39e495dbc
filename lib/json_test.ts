import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { obj, toCompactJson, toPrettyJson } from "./json.ts";
import { JsonSyntaxError, locateSyntaxError, parseJson } from "./json_parse.ts";
import { compareBytes } from "./order.ts";

Deno.test("pretty JSON keeps entry order even for integer-like keys", () => {
  const value = obj(["zeta", []], ["1234", [obj(["a", "b"])]], ["alpha", obj()]);
  assertEquals(
    toPrettyJson([value]),
    '[\n  {\n    "zeta": [],\n    "1234": [\n      {\n        "a": "b"\n      }\n    ],\n    "alpha": {}\n  }\n]',
  );
});

Deno.test("pretty JSON matches JSON.stringify for plain data", () => {
  const value = obj(["mdev_type", "t"], ["start", "auto"], ["attrs", [obj(["x", 'q"\t\u0001/é'])]]);
  assertEquals(
    toPrettyJson(value),
    JSON.stringify({ mdev_type: "t", start: "auto", attrs: [{ x: 'q"\t\u0001/é' }] }, null, 2),
  );
  assertEquals(toPrettyJson(4), "4");
});

Deno.test("compact JSON has no whitespace", () => {
  assertEquals(
    toCompactJson(obj(["mdev_type", "typeA"], ["start", "manual"], ["attrs", [obj(["a", "b"])]])),
    '{"mdev_type":"typeA","start":"manual","attrs":[{"a":"b"}]}',
  );
});

Deno.test("syntax errors are located like serde_json", () => {
  assertEquals(locateSyntaxError("x"), "expected value at line 1 column 1");
  assertEquals(locateSyntaxError("\n"), "EOF while parsing a value at line 2 column 0");
  assertEquals(locateSyntaxError(""), "EOF while parsing a value at line 1 column 0");
  assertEquals(locateSyntaxError("{x"), "key must be a string at line 1 column 2");
  assertEquals(locateSyntaxError('{"a" 1}'), "expected `:` at line 1 column 6");
  assertEquals(locateSyntaxError("[1 2]"), "expected `,` or `]` at line 1 column 4");
  assertEquals(locateSyntaxError("{}x"), "trailing characters at line 1 column 3");
  assertEquals(locateSyntaxError("[tru]"), "expected ident at line 1 column 5");
  assertEquals(locateSyntaxError('{"a":1'), "EOF while parsing an object at line 1 column 6");
  assertThrows(() => parseJson("{"), JsonSyntaxError);
});

Deno.test("parseJson: duplicate keys, last wins", () => {
  assertEquals(parseJson('{"a":1,"a":2}'), { a: 2 });
});

Deno.test("compareBytes orders by code point, not UTF-16 unit", () => {
  assertEquals(["b", "a", "B"].sort(compareBytes), ["B", "a", "b"]);
  // U+1F600 (astral) sorts after U+FF5E in UTF-8 byte order.
  assertEquals(["\u{1F600}", "\uFF5E"].sort(compareBytes), ["\uFF5E", "\u{1F600}"]);
});

Deno.test("nesting: 127 deep parses, 128 deep (the shortest such text) is refused", () => {
  assertEquals(parseJson(`${"[".repeat(127)}${"]".repeat(127)}`) instanceof Array, true);
  assertThrows(
    () => parseJson(`${"[".repeat(128)}${"]".repeat(128)}`),
    (e: unknown) => e instanceof JsonSyntaxError && /^recursion limit exceeded/.test(e.message),
  );
});

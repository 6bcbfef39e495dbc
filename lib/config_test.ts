import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { parseConfig, parseStoredConfig, serializeConfig } from "./config.ts";

Deno.test("a fresh definition serialises exactly, without trailing newline", () => {
  assertEquals(
    serializeConfig({ type: "i915-GVTg_V5_4", autostart: false, attrs: [] }),
    '{\n  "mdev_type": "i915-GVTg_V5_4",\n  "start": "manual",\n  "attrs": []\n}',
  );
});

Deno.test("attributes keep order and duplicates", () => {
  const text = '{"mdev_type":"t","start":"auto","attrs":[{"b":"1"},{"a":"2"},{"b":"3"}]}';
  const config = parseConfig(text);
  assertEquals(config.attrs, [["b", "1"], ["a", "2"], ["b", "3"]]);
  assertEquals(
    serializeConfig(config),
    '{\n  "mdev_type": "t",\n  "start": "auto",\n  "attrs": [\n    {\n      "b": "1"\n    },\n' +
      '    {\n      "a": "2"\n    },\n    {\n      "b": "3"\n    }\n  ]\n}',
  );
});

Deno.test("start is auto only for the exact string auto", () => {
  for (
    const [start, auto] of [['"auto"', true], ['"AUTO"', false], ["5", false], ["true", false]]
  ) {
    assertEquals(parseConfig(`{"mdev_type":"t","start":${start}}`).autostart, auto);
  }
});

Deno.test("validation messages follow the spec", () => {
  const cases: [string, string][] = [
    ["[1]", "invalid json"],
    ['{"start":"auto"}', "invalid json"],
    ['{"mdev_type":"t"}', "invalid json"],
    ['{"mdev_type":null,"start":"auto"}', "invalid json"],
    ['{"mdev_type":5,"start":"auto"}', "invalid json"],
    ['{"mdev_type":"t","start":"auto","attrs":{}}', "attributes field is not an array"],
    [
      '{"mdev_type":"t","start":"auto","attrs":["x"]}',
      "invalid JSON format for attribute: not an object",
    ],
    [
      '{"mdev_type":"t","start":"auto","attrs":[{}]}',
      "invalid JSON format for attribute: too many fields",
    ],
    [
      '{"mdev_type":"t","start":"auto","attrs":[{"a":"1","b":"2"}]}',
      "invalid JSON format for attribute: too many fields",
    ],
    [
      '{"mdev_type":"t","start":"auto","attrs":[{"a":1}]}',
      'invalid JSON format for attribute {"a", 1}: value must be of type str',
    ],
    ["", "EOF while parsing a value at line 1 column 0"],
  ];
  for (const [text, message] of cases) assertThrows(() => parseConfig(text), { message }, text);
});

Deno.test("null or missing attrs mean none; unknown keys are dropped", () => {
  assertEquals(parseConfig('{"mdev_type":"t","start":"manual","attrs":null,"x":1}').attrs, []);
});

Deno.test("a plain-text record from the original tool reads as auto-start", () => {
  assertEquals(parseStoredConfig("i915-GVTg_V4_8\n"), {
    type: "i915-GVTg_V4_8",
    autostart: true,
    attrs: [],
  });
  assertThrows(() => parseStoredConfig("two words\n"));
  assertThrows(() => parseStoredConfig("{broken"));
  assertThrows(() => parseStoredConfig("17\n"), { message: "invalid json" });
});

Deno.test("serializeConfig writes what the generic JSON printer writes, at any indent", async () => {
  const { configToJson } = await import("./config.ts");
  const { toPrettyJson } = await import("./json.ts");
  const configs = [
    { type: "t", autostart: false, attrs: [] },
    { type: 'q"\\u0001é', autostart: true, attrs: [["1", "x"], ["a/b", "\t"], ["1", ""]] as const },
  ];
  for (const c of configs) {
    const config = { ...c, attrs: [...c.attrs] };
    for (const indent of ["", "    ", "        "]) {
      assertEquals(serializeConfig(config, indent), toPrettyJson(configToJson(config), indent));
    }
  }
});

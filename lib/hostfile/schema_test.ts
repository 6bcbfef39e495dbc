/** Host-file validation (hostfile.md §2): YAML 1.2, strict keys, profiles, the 1.1 lint. */
import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import * as Y from "npm:yaml@2.9.1";
import { parseHostFile } from "./schema.ts";

const parse = (text: string, profile?: string) =>
  parseHostFile(Y, "h.yaml", new TextEncoder().encode(text), { profile });

Deno.test("defaults: owner default, start auto, default namespace", () => {
  const f = parse('version: 1\ndevices: [{id: a, parent: "p", type: t}]\n');
  assertEquals([f.owner, f.devices[0]!.autostart, f.devices[0]!.id], ["default", true, "a"]);
  assertEquals(f.namespace, "5470eb2e-41fc-5439-b571-43fc911882ce");
});

Deno.test("JSON is YAML too", () => {
  const f = parse(
    '{"version": 1, "owner": "x", "pools": [{"name": "p", "type": "t", "count": 2}]}',
  );
  assertEquals([f.owner, f.pools[0]!.count, f.pools[0]!.placement], ["x", 2, "spread"]);
});

Deno.test("YAML 1.2: 0000:00:02.0 and on stay strings; the 1.1 lint warns with the line", () => {
  const f = parse(
    'version: 1\ndevices:\n  - id: a\n    parent: 0000:00:02.0\n    type: t\n    attrs: [{mode: on}, {x: "on"}, {y: 0000:3b:00.0}]\n',
  );
  assertEquals(f.devices[0]!.parent, "0000:00:02.0");
  assertEquals(f.devices[0]!.attrs, [["mode", "on"], ["x", "on"], ["y", "0000:3b:00.0"]]);
  assertEquals(f.warnings, [
    'h.yaml:4: "0000:00:02.0" is read as a number by YAML 1.1 tools (PyYAML/Ansible); quote it',
    'h.yaml:6: "on" is read as a boolean by YAML 1.1 tools (PyYAML/Ansible); quote it',
  ]);
});

Deno.test("x- keys are ignored at every level; other unknown keys are errors", () => {
  const f = parse(
    'version: 1\nx-note: anything\ndevices: [{id: a, parent: "p", type: t, x-comment: [1, 2]}]\n',
  );
  assertEquals(f.devices.length, 1);
  assertThrows(() => parse("version: 1\nnote: x\n"), /h\.yaml:2:1: unknown key "note"/);
});

Deno.test("duplicate keys are refused with their position", () => {
  assertThrows(
    () => parse("version: 1\ndefaults: {start: auto, start: manual}\n"),
    /^Error|h\.yaml:2:/,
  );
});

Deno.test("numeric attribute values are refused with the hint to quote", () => {
  assertThrows(
    () => parse('version: 1\ndevices: [{id: a, parent: "p", type: t, attrs: [{d: 0x0004}]}]\n'),
    /h\.yaml:2:\d+: attribute d: value 0x0004 is a number; quote it/,
  );
});

Deno.test("profiles: a lone profile is the default; --profile picks one; defaults merge", () => {
  const text = `version: 1
owner: fleet
defaults: {start: manual}
profiles:
  small: {pools: [{name: p, type: t, perParent: 1}]}
  big: {defaults: {start: auto}, pools: [{name: p, type: t, perParent: 4}]}
`;
  assertThrows(() => parse(text), /choose one with --profile/);
  const big = parse(text, "big");
  assertEquals([big.pools[0]!.perParent, big.pools[0]!.autostart], [4, true]);
  const small = parse(text, "small");
  assertEquals([small.pools[0]!.perParent, small.pools[0]!.autostart], [1, false]);
  const lone = parse("version: 1\nprofiles: {only: {devices: [{id: a, parent: p, type: t}]}}\n");
  assertEquals(lone.devices.length, 1);
});

Deno.test("uuids: lenient spellings are printed canonically", () => {
  const f = parse(
    'version: 1\ndevices: [{uuid: "{6DFD3EC5-E8B3-4E18-A6FE-57BC9ECEB920}", parent: p, type: t}]\n',
  );
  assertEquals(f.devices[0]!.uuid, "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920");
});

const fails = (text: string) => {
  try {
    parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(text.slice(0, 80))}`);
};

Deno.test("nesting: 32 levels are read, 33 are refused, flow and block counted together", () => {
  // The top-level mapping is level 1.
  parse("version: 1\nx-a: " + "[".repeat(31) + "]".repeat(31) + "\n");
  assertEquals(
    fails("version: 1\nx-a: " + "[".repeat(32) + "]".repeat(32) + "\n"),
    "h.yaml:2:37: nesting deeper than 32 levels of maps and lists",
  );
  // Levels 1..16 in block form (k0 in the top-level mapping), then brackets: the 17th is level 33.
  const block = Array.from({ length: 16 }, (_, i) => `${" ".repeat(i)}k${i}:\n`).join("");
  const flow = (n: number) => " ".repeat(16) + "[".repeat(n) + "]".repeat(n) + "\n";
  parse("version: 1\n" + block.replace(/^k0/, "x-k0") + flow(16));
  assertEquals(
    fails("version: 1\n" + block.replace(/^k0/, "x-k0") + flow(17)),
    "h.yaml:18:33: nesting deeper than 32 levels of maps and lists",
  );
});

Deno.test("core tags and %YAML 1.2 are accepted; other tags and directives are not", () => {
  const f = parse(
    "%YAML 1.2\n---\nversion: !!int 1\nowner: !!str abc\ndevices: !!seq [{id: a, parent: !!str 52, type: t}]\n",
  );
  assertEquals([f.owner, f.devices[0]!.parent], ["abc", "52"]);
  assertEquals(
    fails("version: 1\nx-t: !<tag:yaml.org,2002:str> a\n"),
    "h.yaml:2:6: tag !<tag:yaml.org,2002:str> is not supported (only the core tags !!str, !!int, !!float, !!bool, !!null, !!map, !!seq)",
  );
  assertEquals(fails("%FOO bar\n---\nversion: 1\n"), "h.yaml:1:1: directive %FOO is not supported");
});

Deno.test("an alias stands for the anchor defined last before it", () => {
  const f = parse(
    'version: 1\nx-a: &p "p1"\ndevices:\n  - {id: a, parent: *p, type: t}\nx-b: &p "p2"\npools: [{name: q, type: t, count: 1, parents: {names: *p}}]\n',
  );
  assertEquals([f.devices[0]!.parent, f.pools[0]!.parents.names], ["p1", ["p2"]]);
  assertEquals(fails("version: 1\nowner: *p\nx-a: &p a\n"), "h.yaml:2:8: unknown alias *p");
});

Deno.test("many aliases are resolved in linear time (the library's resolve() is quadratic)", () => {
  // 5000 aliases took 11.6 s through Alias.resolve(); 40000 would take about 12 minutes.
  const n = 40000;
  const text = `version: 1\nx-a: &x {k: "1"}\ndevices: [{id: a, parent: p, type: t, attrs: [${
    Array(n).fill("*x").join(", ")
  }]}]\n`;
  const start = performance.now();
  assertEquals(parse(text).devices[0]!.attrs.length, n);
  const ms = performance.now() - start;
  assertEquals(ms < 15000, true, `${ms} ms`);
});

Deno.test("the library's syntax errors are in this project's words", () => {
  assertEquals(fails("version: 1\npools: [a]]\n"), 'h.yaml:2:11: unexpected "]"');
  assertEquals(fails("version: 1\nowner: a\nowner: b\n"), 'h.yaml:3:1: duplicate key "owner"');
  assertEquals(fails('version: 1\n"owner": a\n"owner": b\n'), 'h.yaml:3:1: duplicate key "owner"');
  assertEquals(fails("version: 1\nowner: 'ab\n"), "h.yaml:2:8: a quoted string is not closed");
  assertEquals(
    fails("version: 1\nowner: @x\n"),
    "h.yaml:2:8: a plain value cannot start with this character; quote it",
  );
  assertEquals(
    fails("version: 1\n---\n"),
    "h.yaml:2:1: a second YAML document: a host file is one document",
  );
});

Deno.test("mutated files: every refusal is one line at a position, never the library's words", () => {
  const base = `%YAML 1.2
---
version: 1
owner: gpu-pool
x-note: &n {a: [1, 2], b: "c"}
devices:
  - {id: dasd-boot, parent: "0.0.0052", type: vfio_ccw-io, attrs: [{assign_adapter: "5"}]}
pools:
  - name: t4-q
    type: {name: "GRID T4-1Q"}
    parents: {driver: nvidia, pciDevice: ["0x1eb8"], names: *n}
    perParent: 2
`;
  const pieces = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "-",
    "---",
    "\t",
    "'",
    '"',
    "&a",
    "*a",
    "!!binary ",
    "!x ",
    "%TAG",
    "\n",
    "  ",
    "? ",
    "|",
    ">",
    "#",
    "\\",
    "\ufeff",
    "…",
  ];
  let seed = 22;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const bad: string[] = [];
  for (let i = 0; i < 3000; i++) {
    let text = base;
    for (let k = 1 + next(3); k > 0; k--) {
      const at = next(text.length);
      const cut = next(3);
      text = text.slice(0, at) + pieces[next(pieces.length)]! + text.slice(at + cut);
    }
    try {
      parse(text);
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      const ours = e instanceof Error && e.name === "MdevError";
      if (
        !ours || !/^h\.yaml:\d+:\d+: [^\n]+$/.test(m) ||
        /YAML\.|please use|Maximum call|\d+,\d+,\d+/.test(m)
      ) {
        bad.push(`${JSON.stringify(text)} -> ${ours ? "" : `${(e as Error).name}: `}${m}`);
      }
    }
  }
  assertEquals(bad.slice(0, 5), []);
});

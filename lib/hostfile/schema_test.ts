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

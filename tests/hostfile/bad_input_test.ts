/**
 * Hostile and broken host files (issue 14, "Bad input"): each gives one
 * `Error: <file>:<line>:<col>: <message>` line on stderr, exit 1, nothing on
 * stdout and nothing written.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import { addT4, T4A } from "./host_setup.ts";

interface Case {
  name: string;
  text: string | Uint8Array;
  line: number;
  /** A fragment the message must contain. */
  says: string;
  args?: string[];
}

const dev = (body: string) => `version: 1\ndevices:\n  - ${body}\n`;
const pool = (body: string) => `version: 1\nowner: gpu-pool\npools:\n  - ${body}\n`;
const enc = (s: string) => new TextEncoder().encode(s);

function aliasBomb(): string {
  const lines = ["version: 1", 'x-a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  const names = "abcdefghi";
  for (let i = 1; i < names.length; i++) {
    const prev = names[i - 1];
    lines.push(`x-${names[i]}: &${names[i]} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  lines.push("devices:", '  - {id: bomb, parent: "p", type: "t", attrs: *i}');
  return lines.join("\n") + "\n";
}

/** The yaml library's or the engine's own words, which must never reach the user. */
const LIBRARY_TEXT =
  /YAML\.|parseAllDocuments|please use|Maximum call stack|RangeError|Unresolved tag|\d+,\d+,\d+/;

const CASES: Case[] = [
  {
    name: "traversal in a device parent",
    text: dev('{id: a, parent: "../../etc", type: "t"}'),
    line: 3,
    says: "parent",
  },
  {
    name: "traversal in a device type",
    text: dev('{id: a, parent: "p", type: ".."}'),
    line: 3,
    says: "type",
  },
  {
    name: "slash in a device type",
    text: dev('{id: a, parent: "p", type: "a/../../b"}'),
    line: 3,
    says: "not a valid name",
  },
  {
    name: "traversal in a pool name",
    text: pool('{name: "../evil", type: t, perParent: 1}'),
    line: 4,
    says: "not a valid name",
  },
  { name: "slash in the owner", text: "version: 1\nowner: a/b\n", line: 2, says: "owner" },
  {
    name: "traversal in a device id",
    text: dev('{id: "../../x", parent: "p", type: "t"}'),
    line: 3,
    says: "not a valid name",
  },
  {
    name: "traversal in an attribute name",
    text: dev('{id: a, parent: "p", type: "t", attrs: [{"../remove": "1"}]}'),
    line: 3,
    says: "invalid attribute name",
  },
  {
    name: "NUL escape in a parent",
    text: dev('{id: a, parent: "a\\0b", type: "t"}'),
    line: 3,
    says: "parent",
  },
  {
    name: "huge count",
    text: pool("{name: p, type: t, count: 100000000000}"),
    line: 4,
    says: "between 0 and 65536",
  },
  {
    name: "huge perParent",
    text: pool("{name: p, type: t, perParent: 99999}"),
    line: 4,
    says: "between 1 and 4096",
  },
  { name: "negative count", text: pool("{name: p, type: t, count: -1}"), line: 4, says: "integer" },
  {
    name: "fractional count",
    text: pool("{name: p, type: t, count: 2.5}"),
    line: 4,
    says: "integer",
  },
  {
    name: "hexadecimal count",
    text: pool("{name: p, type: t, count: 0x10}"),
    line: 4,
    says: "integer",
  },
  {
    name: "perParent zero",
    text: pool("{name: p, type: t, perParent: 0}"),
    line: 4,
    says: "between 1",
  },
  {
    name: "perParent as a word",
    text: pool("{name: p, type: t, perParent: all}"),
    line: 4,
    says: '"max"',
  },
  {
    name: "deep nesting",
    text: "version: 1\npools: " + "[".repeat(5000) + "]".repeat(5000) + "\n",
    line: 2,
    says: "nesting deeper than 32 levels",
  },
  // The top-level mapping is level 1: 32 brackets inside it reach level 33.
  {
    name: "33 levels in an x- key (flow)",
    text: "version: 1\nx-deep: " + "[".repeat(32) + "]".repeat(32) + "\n",
    line: 2,
    says: "nesting deeper than 32 levels",
  },
  {
    name: "33 levels in an x- key (block)",
    text: "version: 1\nx-deep:\n" +
      Array.from({ length: 32 }, (_, i) => `${" ".repeat(i + 1)}k${i}:\n`).join(""),
    line: 34,
    says: "nesting deeper than 32 levels",
  },
  {
    name: "100000 [ (the library ran out of stack)",
    text: "version: 1\nx-a: " + "[".repeat(100000) + "\n",
    line: 2,
    says: "nesting deeper than 32 levels",
  },
  {
    name: "100000 unclosed flow maps",
    text: "version: 1\npools: " + "{a: ".repeat(100000) + "\n",
    line: 2,
    says: "nesting deeper than 32 levels",
  },
  {
    name: "!!binary owner (was shown as a list of numbers)",
    text: "version: 1\nowner: !!binary aGVsbG8=\n",
    line: 2,
    says: "tag !!binary is not supported",
  },
  {
    name: "!!binary attribute value",
    text: dev('{id: a, parent: "p", type: "t", attrs: [{x: !!binary aGVsbG8=}]}'),
    line: 3,
    says: "tag !!binary is not supported",
  },
  { name: "!!set", text: "version: 1\nowner: !!set {a, b}\n", line: 2, says: "tag !!set" },
  { name: "!!omap", text: "version: 1\ndevices: !!omap [{a: 1}]\n", line: 2, says: "tag !!omap" },
  { name: "custom tag", text: "version: 1\nowner: !foo bar\n", line: 2, says: "tag !foo" },
  {
    name: "custom tag in an x- key",
    text: "version: 1\nx-a: !foo bar\n",
    line: 2,
    says: "tag !foo",
  },
  {
    name: "%TAG directive",
    text: "%TAG !e! tag:example.com,2000:\n---\nversion: 1\n",
    line: 1,
    says: "directive %TAG is not supported",
  },
  {
    name: "%YAML 1.1 directive",
    text: "%YAML 1.1\n---\nversion: 1\n",
    line: 1,
    says: "%YAML 1.1: host files are YAML 1.2",
  },
  {
    name: "deep nesting in a type selector",
    text: pool("{name: p, type: {id: {id: {id: {id: t}}}}, perParent: 1}"),
    line: 4,
    says: "must be a string",
  },
  // Refused without being expanded, at the first alias that stands for too much.
  { name: "alias bomb", text: aliasBomb(), line: 8, says: "*f stands for more than 200000 nodes" },
  {
    name: "alias bomb in x- keys only",
    text: aliasBomb().replace(/devices:.*\n.*\n$/, ""),
    line: 8,
    says: "*f stands for more than 200000 nodes",
  },
  {
    name: "alias inside its own anchor",
    text: "version: 1\nx-a: &a [*a]\n",
    line: 2,
    says: "inside its own anchor",
  },
  { name: "unknown alias", text: "version: 1\nowner: *nope\n", line: 2, says: "nope" },
  {
    name: "invalid UTF-8",
    text: new Uint8Array([...enc("version: 1\nowner: ab"), 0xff, 0x0a]),
    line: 2,
    says: "invalid UTF-8",
  },
  {
    name: "overlong UTF-8 encoding",
    text: new Uint8Array([...enc("version: 1\n# "), 0xc0, 0xaf, 0x0a]),
    line: 2,
    says: "invalid UTF-8",
  },
  { name: "NUL byte", text: "version: 1\nowner: a\0b\n", line: 2, says: "" },
  {
    name: "duplicate top-level key",
    text: "version: 1\nowner: a\nowner: b\n",
    line: 3,
    says: 'duplicate key "owner"',
  },
  {
    name: "duplicate key in a device",
    text: dev('{id: a, parent: "p", parent: "q", type: "t"}'),
    line: 3,
    says: "",
  },
  {
    name: "devices is a mapping",
    text: "version: 1\ndevices: {a: 1}\n",
    line: 2,
    says: "must be a list",
  },
  { name: "pools is a string", text: "version: 1\npools: many\n", line: 2, says: "must be a list" },
  { name: "the file is a list", text: "- version: 1\n", line: 1, says: "must be a mapping" },
  { name: "empty file", text: "", line: 1, says: "empty" },
  { name: "version 2", text: "version: 2\n", line: 1, says: "unsupported version" },
  { name: "version as a string", text: 'version: "1"\n', line: 1, says: "unsupported version" },
  { name: "missing version", text: "owner: a\n", line: 1, says: "version" },
  {
    name: "unknown top-level key",
    text: "version: 1\npool: []\n",
    line: 2,
    says: 'unknown key "pool"',
  },
  {
    name: "unknown device key",
    text: dev('{id: a, parent: "p", type: "t", colour: red}'),
    line: 3,
    says: 'unknown key "colour"',
  },
  {
    name: "both uuid and id",
    text: dev('{id: a, uuid: "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920", parent: "p", type: "t"}'),
    line: 3,
    says: "exactly one of",
  },
  {
    name: "neither uuid nor id",
    text: dev('{parent: "p", type: "t"}'),
    line: 3,
    says: "exactly one of",
  },
  {
    name: "invalid uuid",
    text: dev('{uuid: "6dfd3ec5-zzzz", parent: "p", type: "t"}'),
    line: 3,
    says: "not a UUID",
  },
  { name: "missing parent", text: dev('{id: a, type: "t"}'), line: 3, says: '"parent"' },
  {
    name: "numeric attribute value",
    text: dev('{id: a, parent: "p", type: "t", attrs: [{assign_domain: 0x0004}]}'),
    line: 3,
    says: "quote it",
  },
  {
    name: "attribute with two entries",
    text: dev('{id: a, parent: "p", type: "t", attrs: [{a: "1", b: "2"}]}'),
    line: 3,
    says: "exactly one",
  },
  {
    name: "start as a YAML 1.1 word",
    text: dev('{id: a, parent: "p", type: "t", start: yes}'),
    line: 3,
    says: '"auto" or "manual"',
  },
  {
    name: "start as a boolean",
    text: dev('{id: a, parent: "p", type: "t", start: true}'),
    line: 3,
    says: "must be a string",
  },
  { name: "numeric parent", text: dev("{id: a, parent: 52, type: t}"), line: 3, says: "quote it" },
  {
    name: "both perParent and count",
    text: pool("{name: p, type: t, perParent: 1, count: 2}"),
    line: 4,
    says: "exactly one of",
  },
  {
    name: "placement without count",
    text: pool("{name: p, type: t, perParent: 1, placement: pack}"),
    line: 4,
    says: "placement",
  },
  {
    name: "unknown placement",
    text: pool("{name: p, type: t, count: 1, placement: random}"),
    line: 4,
    says: "spread",
  },
  {
    name: "exclusive as a string",
    text: pool('{name: p, type: t, count: 1, exclusive: "yes"}'),
    line: 4,
    says: "true or false",
  },
  { name: "pool without a type", text: pool("{name: p, count: 1}"), line: 4, says: '"type"' },
  {
    name: "two type selector keys",
    text: pool('{name: p, type: {id: a, name: "b"}, count: 1}'),
    line: 4,
    says: "exactly one of",
  },
  {
    name: "PCI id that is not one",
    text: pool("{name: p, type: t, count: 1, parents: {pciVendor: nvidia}}"),
    line: 4,
    says: "not a PCI id",
  },
  {
    name: "duplicate pool names",
    text:
      "version: 1\npools:\n  - {name: p, type: t, count: 1}\n  - {name: p, type: t, count: 1}\n",
    line: 4,
    says: "already used",
  },
  {
    name: "two devices with one uuid",
    text:
      'version: 1\nowner: crypto\ndevices:\n  - {id: dasd-boot, parent: p, type: t}\n  - {uuid: "38c07070-f0e1-5536-bde4-14431eda2eee", parent: p, type: t}\n',
    line: 5,
    says: "id dasd-boot",
  },
  {
    name: "uuid clash between a pool and an explicit device",
    text:
      'version: 1\nowner: gpu-pool\ndevices:\n  - {uuid: "ce5e6e4d-2d74-5e66-8270-93e4b8657ce0", parent: "0000:3b:00.0", type: nvidia-222}\npools:\n  - {name: t4-q, type: nvidia-222, perParent: 1}\n',
    line: 6,
    says: "device ce5e6e4d-2d74-5e66-8270-93e4b8657ce0",
  },
  {
    name: "ambiguous type selector",
    text: pool('{name: p, type: {nameToken: "T4-1Q"}, perParent: 1}'),
    line: 4,
    says: "ambiguous on 0000:3b:00.0: nvidia-222, nvidia-299",
  },
  {
    name: "two documents (the library named its API)",
    text: "version: 1\n---\nversion: 1\n",
    line: 2,
    says: "a second YAML document",
  },
  {
    name: "three document markers",
    text: "---\nversion: 1\n---\n---\n",
    line: 3,
    says: "a second YAML document",
  },
  {
    name: "tab indentation",
    text: "version: 1\ndevices:\n\t- {id: a}\n",
    line: 3,
    says: "tab used as indentation",
  },
  { name: "unclosed quote", text: 'version: 1\nowner: "abc\n', line: 2, says: "not closed" },
  {
    name: "UTF-16",
    text: new Uint8Array([0xff, 0xfe, ...enc("v\0")]),
    line: 1,
    says: "UTF-16",
  },
  {
    name: "key that is a list",
    text: "version: 1\n? [a]\n: b\n",
    line: 2,
    says: "must be strings",
  },
  {
    name: "--profile without profiles",
    text: "version: 1\n",
    line: 1,
    says: "no profiles",
    args: ["--profile", "gpu"],
  },
  {
    name: "unknown profile",
    text: "version: 1\nprofiles: {a: {}, b: {}}\n",
    line: 2,
    says: "no profile",
    args: ["--profile", "c"],
  },
  {
    name: "several profiles, none chosen",
    text: "version: 1\nprofiles: {a: {}, b: {}}\n",
    line: 2,
    says: "--profile",
  },
  {
    name: "devices beside profiles",
    text: "version: 1\ndevices: []\nprofiles: {a: {}}\n",
    line: 2,
    says: "inside a profile",
  },
  {
    name: "invalid uuidNamespace",
    text: "version: 1\nuuidNamespace: x\n",
    line: 2,
    says: "not a UUID",
  },
  {
    name: "file over the size limit",
    text: "version: 1\n" + "#".repeat(5 * 1024 * 1024) + "\n",
    line: 1,
    says: "larger than",
  },
];

Deno.test(`bad host files (${CASES.length}): one error line with file and line, exit 1, nothing written`, () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    // A second type with the same last word, for the ambiguity case.
    await host.addType(T4A, "nvidia-299", { available: 1, name: "GRID-B T4-1Q\n" });
    await Deno.mkdir(host.path("etc/mdevctl"), { recursive: true });
    const before = await host.snapshot();
    const failures: string[] = [];
    for (const [i, c] of CASES.entries()) {
      const file = host.path(`etc/mdevctl/bad-${i}.yaml`);
      await Deno.writeFile(file, typeof c.text === "string" ? enc(c.text) : c.text);
      // diff shares the reading code: a sample of the cases is enough there.
      for (const command of i % 4 === 0 ? ["apply", "diff"] : ["apply"]) {
        const r = await host.run([command, "-f", file, ...(c.args ?? [])]);
        const prefix = `Error: ${file}:${c.line}:`;
        const ok = r.code === 1 && r.stdout === "" && r.stderr.startsWith(prefix) &&
          /^Error: [^\n]+:\d+:\d+: [^\n]+\n$/.test(r.stderr) && r.stderr.includes(c.says) &&
          !LIBRARY_TEXT.test(r.stderr);
        if (!ok) {
          failures.push(
            `${c.name} (${command}): exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`,
          );
        }
      }
      await Deno.remove(file);
    }
    assertEquals(failures, []);
    // apply takes the host lock (run/lock) before planning; nothing else may appear.
    const after = await host.snapshot();
    for (const key of Object.keys(after)) if (key.startsWith("run/")) delete after[key];
    assertEquals(after, before);
  }));

Deno.test("with --dumpjson a bad file also gives the JSON error object on stdout", () =>
  withHost(async (host) => {
    await Deno.mkdir(host.path("etc/mdevctl"), { recursive: true });
    const file = host.path("etc/mdevctl/h.yaml");
    await Deno.writeTextFile(file, "version: 1\nowner: a\nowner: b\n");
    const r = await host.run(["diff", "-f", file, "--dumpjson"]);
    assertEquals(r.code, 1);
    const parsed = JSON.parse(r.stdout);
    assertEquals(Object.keys(parsed.error), ["message", "causes", "exit"]);
    assertEquals(parsed.error.exit, 1);
    assertEquals(parsed.error.message.startsWith(`${file}:3:`), true);
    assertEquals(r.stderr, `Error: ${parsed.error.message}\n`);
  }));

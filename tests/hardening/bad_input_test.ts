/**
 * Bad input, table-driven (issue #9): every case runs one command against a
 * fresh fake host holding a parent, a definition and a running device, and
 * checks the exit status, a clear error naming the bad thing, and that
 * nothing at all was written (the whole root is compared before and after,
 * except the lock file).
 *
 * Path traversal through parent, type and attribute names (decision §0.4),
 * hostile `--jsonfile` contents (spec §2.2), bad uuids and indexes, garbled
 * or dangling sysfs entries, and odd files where configs are expected.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FakeHost, P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { isRoot, missing, requiring } from "../helpers/requires.ts";
import { changes } from "../helpers/tree.ts";
import { assertRuntimeError, assertUsageError, snapshotTree } from "./harness.ts";

const T1 = "vfio_t1";
const T2 = "vfio_t2";
/** A uuid nothing on the host knows. */
const U4 = "44444444-4444-0000-0000-000000000000";

/** The host every case starts from. */
async function baseHost(host: FakeHost): Promise<void> {
  await host.addParent(P1, { [T1]: { available: 2 }, [T2]: { available: 1 } });
  await host.define(P1, U1, { mdev_type: T1, start: "manual", attrs: [{ a: "1" }] });
  await host.addActive(U2, P1, T1);
  await Deno.mkdir(host.path("in"));
}

interface Case {
  name: string;
  /** Extra state on top of the base host. */
  setup?: (host: FakeHost) => Promise<void>;
  args: string[] | ((host: FakeHost) => string[]);
  /** 1: runtime error; 2: usage error; 0: success with a warning. */
  code: 0 | 1 | 2;
  /** The top line (or, for code 0, a warning) must contain each of these. */
  expect: (string | ((host: FakeHost) => string))[];
  /** Given on standard input. */
  stdin?: string;
  /**
   * Run without the capabilities that let root ignore file modes, so that
   * mode 000 stops reads whoever runs the suite.
   */
  dropDacOverride?: boolean;
}

/** Root keeps its uid but loses CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: file modes apply. */
const DROP_DAC = isRoot()
  ? [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
  ]
  : [];
const NO_SETPRIV = isRoot() ? missing({ setpriv: "util-linux" }) : undefined;

/** Writes `in/<name>` with text or bytes; returns its path. */
async function input(host: FakeHost, name: string, data: string | Uint8Array): Promise<string> {
  const path = host.path(`in/${name}`);
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
  return path;
}

/** The type directory as the scan names it (through sys/class/mdev_bus). */
const classTypeDir = (host: FakeHost) =>
  host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/${T2}`);

/** The available_instances file of T2 as start names it. */
const instancesFile = (host: FakeHost) =>
  `while reading "${
    host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/${T2}`)
  }/available_instances"`;

const jf = (host: FakeHost) => host.path("in/c.json");
/** A `--jsonfile` case of `define`: the file holds `text`. */
function defineJson(name: string, text: string | Uint8Array, ...expect: string[]): Case {
  return {
    name: `define --jsonfile: ${name}`,
    setup: async (host) => void await input(host, "c.json", text),
    args: (host) => ["define", "-u", U3, "-p", P1, "--jsonfile", jf(host)],
    code: 1,
    expect,
  };
}
const config = (fields: Record<string, unknown>) =>
  JSON.stringify({ mdev_type: T1, start: "manual", attrs: [], ...fields });

const usage = (name: string, args: string[], ...expect: string[]): Case => ({
  name,
  args,
  code: 2,
  expect,
});
const invalidName = (name: string, args: string[], what: string, bad: string): Case => ({
  name,
  args,
  code: 1,
  expect: [`Invalid ${what} name '${bad}'`],
});

const cases: Case[] = [
  // --- Path traversal through names given on the command line (decision §0.4).
  invalidName("define -p ..", ["define", "-u", U3, "-p", "..", "-t", T1], "parent", ".."),
  invalidName("define -p .", ["define", "-u", U3, "-p", ".", "-t", T1], "parent", "."),
  invalidName("define -p a/b", ["define", "-u", U3, "-p", "a/b", "-t", T1], "parent", "a/b"),
  invalidName(
    "define -p absolute",
    ["define", "-u", U3, "-p", "/tmp/x", "-t", T1],
    "parent",
    "/tmp/x",
  ),
  invalidName(
    "define -p ../../etc",
    ["define", "-u", U3, "-p", "../../etc", "-t", T1],
    "parent",
    "../../etc",
  ),
  invalidName(
    "define -p with a newline",
    [
      "define",
      "-u",
      U3,
      "-p",
      "a/\nb",
      "-t",
      T1,
    ],
    "parent",
    "a/\\nb",
  ),
  invalidName("define -p empty", ["define", "-u", U3, "-p", "", "-t", T1], "parent", ""),
  invalidName("start -p ..", ["start", "-u", U3, "-p", "..", "-t", T1], "parent", ".."),
  invalidName("modify -p ../x", ["modify", "-u", U1, "-p", "../x", "--auto"], "parent", "../x"),
  invalidName("undefine -p /abs", ["undefine", "-u", U1, "-p", "/etc"], "parent", "/etc"),
  invalidName("start-parent-mdevs ..", ["start-parent-mdevs", ".."], "parent", ".."),
  invalidName("define -t ..", ["define", "-u", U3, "-p", P1, "-t", ".."], "type", ".."),
  invalidName("define -t a/b", ["define", "-u", U3, "-p", P1, "-t", "a/b"], "type", "a/b"),
  invalidName("define -t absolute", ["define", "-u", U3, "-p", P1, "-t", "/etc"], "type", "/etc"),
  invalidName("define -t empty", ["define", "-u", U3, "-p", P1, "-t", ""], "type", ""),
  invalidName(
    "start -t ../../../..",
    ["start", "-u", U3, "-p", P1, "-t", "../../../.."],
    "type",
    "../../../..",
  ),
  invalidName("modify -t ../x", ["modify", "-u", U1, "-t", "../x", "--auto"], "type", "../x"),
  invalidName(
    "modify --addattr ../../x",
    [
      "modify",
      "-u",
      U1,
      "--addattr",
      "../../x",
      "--value",
      "1",
    ],
    "attribute",
    "../../x",
  ),
  invalidName(
    "modify --addattr absolute",
    [
      "modify",
      "-u",
      U1,
      "--addattr",
      "/etc/passwd",
      "--value",
      "1",
    ],
    "attribute",
    "/etc/passwd",
  ),
  invalidName(
    "modify --addattr a//b",
    [
      "modify",
      "-u",
      U1,
      "--addattr",
      "a//b",
      "--value",
      "1",
    ],
    "attribute",
    "a//b",
  ),
  invalidName(
    "modify --addattr empty",
    ["modify", "-u", U1, "--addattr", "", "--value", "1"],
    "attribute",
    "",
  ),
  invalidName(
    "modify --addattr a/./b",
    [
      "modify",
      "-u",
      U1,
      "--addattr",
      "a/./b",
      "--value",
      "1",
    ],
    "attribute",
    "a/./b",
  ),
  invalidName(
    "modify --addattr a/..",
    ["modify", "-u", U1, "--addattr", "a/..", "--value", "1"],
    "attribute",
    "a/..",
  ),
  {
    name: "create-mdev with parent ..",
    args: ["create-mdev", U3, "..", T1],
    code: 1,
    expect: ["Invalid parent name '..'"],
  },
  {
    name: "create-mdev with type a/../..",
    args: ["create-mdev", U3, P1, "a/../.."],
    code: 1,
    expect: ["Invalid type name 'a/../..'"],
  },

  // --- Names inside --jsonfile contents and stored configs; NUL only fits here.
  defineJson(
    "attribute name with NUL",
    config({ attrs: [{ "a\u0000b": "1" }] }),
    "Invalid attribute name 'a\\0b'",
  ),
  defineJson(
    "attribute name ../../../tmp/victim",
    config({ attrs: [{ "../../../tmp/victim": "1" }] }),
    "Invalid attribute name '../../../tmp/victim'",
  ),
  defineJson(
    "attribute name absolute",
    config({ attrs: [{ "/etc/shadow": "1" }] }),
    "Invalid attribute name '/etc/shadow'",
  ),
  defineJson("attribute name empty", config({ attrs: [{ "": "1" }] }), "Invalid attribute name ''"),
  defineJson(
    "attribute name with a newline and a terminal escape",
    config({ attrs: [{ "../\n../x\u001b[31m": "1" }] }),
    "Invalid attribute name '../\\n../x\\u{1b}[31m'",
  ),
  defineJson("type ../x", config({ mdev_type: "../x" }), "Invalid type name '../x'"),
  defineJson("type with NUL", config({ mdev_type: "a\u0000b" }), "Invalid type name 'a\\0b'"),
  defineJson("type empty", config({ mdev_type: "" }), "Invalid type name ''"),
  {
    name: "start --jsonfile: attribute name ../x",
    setup: async (host) => void await input(host, "c.json", config({ attrs: [{ "../x": "1" }] })),
    args: (host) => ["start", "-u", U3, "-p", P1, "--jsonfile", jf(host)],
    code: 1,
    expect: ["Invalid attribute name '../x'"],
  },
  {
    name: "start --jsonfile: type ../../../../..",
    setup: async (host) =>
      void await input(host, "c.json", config({ mdev_type: "../../../../.." })),
    args: (host) => ["start", "-u", U3, "-p", P1, "--jsonfile", jf(host)],
    code: 1,
    expect: ["Invalid type name '../../../../..'"],
  },
  {
    name: "modify --jsonfile: type a/b",
    setup: async (host) => void await input(host, "c.json", config({ mdev_type: "a/b" })),
    args: (host) => ["modify", "-u", U1, "-p", P1, "--jsonfile", jf(host)],
    code: 1,
    expect: ["Invalid type name 'a/b'"],
  },
  {
    name: "start of a stored config with attribute ../../../../victim",
    setup: (host) => host.define(P1, U3, config({ attrs: [{ "../../../../../victim": "x" }] })),
    args: ["start", "-u", U3],
    code: 1,
    expect: ["Invalid attribute name '../../../../../victim'"],
  },
  {
    name: "start of a stored config with type ../../..",
    setup: (host) => host.define(P1, U3, config({ mdev_type: "../../.." })),
    args: ["start", "-u", U3],
    code: 1,
    expect: ["Invalid type name '../../..'"],
  },
  {
    name: "start of a stored config with type holding NUL",
    setup: (host) => host.define(P1, U3, config({ mdev_type: `${T1}\u0000x` })),
    args: ["start", "-u", U3],
    code: 1,
    expect: [`Invalid type name '${T1}\\0x'`],
  },
  {
    name: "modify of a stored config holding a raw NUL byte",
    setup: (host) => host.define(P1, U3, `{"mdev_type": "a\u0000", "start": "auto"}`),
    args: ["modify", "-u", U3, "--auto"],
    code: 1,
    expect: ["Invalid config file", (host) => `${host.root}/etc/mdevctl.d/${P1}/${U3}`],
  },
  {
    name: "modify of a stored config with a numeric type",
    setup: (host) => host.define(P1, U3, `{"mdev_type": 5, "start": "auto"}`),
    args: ["modify", "-u", U3, "--auto"],
    code: 1,
    expect: ["Invalid config file", (host) => `${host.root}/etc/mdevctl.d/${P1}/${U3}`],
  },

  // --- Malformed and hostile --jsonfile contents (spec §2.2).
  defineJson("empty file", "", "EOF while parsing a value at line 1 column 0"),
  defineJson("only {", "{", "EOF while parsing an object"),
  defineJson("trailing comma", `{"mdev_type": "t", }`, "trailing comma at line 1"),
  defineJson("single quotes", `{'mdev_type': 't'}`, "key must be a string at line 1 column 2"),
  defineJson("garbage after the object", `${config({})} x`, "trailing characters"),
  defineJson("top level array", "[1]", "invalid json"),
  defineJson("top level string", `"x"`, "invalid json"),
  defineJson("top level null", "null", "invalid json"),
  defineJson("mdev_type missing", `{"start": "auto"}`, "invalid json"),
  defineJson("start missing", `{"mdev_type": "t"}`, "invalid json"),
  defineJson("start null", `{"mdev_type": "t", "start": null}`, "invalid json"),
  defineJson("mdev_type number", config({ mdev_type: 5 }), "invalid json"),
  defineJson("mdev_type object", config({ mdev_type: { a: "b" } }), "invalid json"),
  defineJson("mdev_type array", config({ mdev_type: ["t"] }), "invalid json"),
  defineJson("mdev_type boolean", config({ mdev_type: true }), "invalid json"),
  defineJson("attrs string", config({ attrs: "a=1" }), "attributes field is not an array"),
  defineJson("attrs object", config({ attrs: { a: "1" } }), "attributes field is not an array"),
  defineJson("attrs number", config({ attrs: 1 }), "attributes field is not an array"),
  defineJson(
    "attrs [1]",
    config({ attrs: [1] }),
    "invalid JSON format for attribute: not an object",
  ),
  defineJson(
    "attrs [[]]",
    config({ attrs: [["a", "1"]] }),
    "invalid JSON format for attribute: not an object",
  ),
  defineJson(
    "attrs [null]",
    config({ attrs: [null] }),
    "invalid JSON format for attribute: not an object",
  ),
  defineJson(
    "attrs [{}]",
    config({ attrs: [{}] }),
    "invalid JSON format for attribute: too many fields",
  ),
  defineJson(
    "attrs with two keys",
    config({ attrs: [{ a: "1", b: "2" }] }),
    "invalid JSON format for attribute: too many fields",
  ),
  defineJson(
    "attribute value number",
    config({ attrs: [{ a: 1 }] }),
    `invalid JSON format for attribute {"a", 1}: value must be of type str`,
  ),
  defineJson(
    "attribute value null",
    config({ attrs: [{ a: null }] }),
    `invalid JSON format for attribute {"a", null}: value must be of type str`,
  ),
  defineJson(
    "attribute value object",
    config({ attrs: [{ a: { b: "c" } }] }),
    `invalid JSON format for attribute {"a", {"b":"c"}}: value must be of type str`,
  ),
  defineJson(
    "attribute value boolean",
    config({ attrs: [{ a: true }] }),
    `invalid JSON format for attribute {"a", true}: value must be of type str`,
  ),
  defineJson(
    "20 MB file, unterminated",
    `{"mdev_type": "t", "start": "auto", "attrs": [${
      `{"a": "${"x".repeat(1000)}"},`.repeat(20_000)
    }`,
    "EOF while parsing a value at line 1 column 20200046",
  ),
  defineJson(
    "100k nested [ never closed",
    "[".repeat(100_000),
    "recursion limit exceeded at line 1 column 128",
  ),
  defineJson(
    "100k nested [] as an attribute value",
    `{"mdev_type": "t", "start": "auto", "attrs": [{"a": ${"[".repeat(100_000)}${
      "]".repeat(100_000)
    }}]}`,
    "recursion limit exceeded at line 1 column",
  ),
  defineJson(
    "non-UTF-8 bytes",
    new Uint8Array([...new TextEncoder().encode(`{"mdev_type": "t`), 0xff, 0xfe, 0x22, 0x7d]),
    "Unable to read jsonfile",
  ),
  defineJson(
    "attribute value: a 4 MB array",
    config({ attrs: [{ a: Array.from({ length: 1_000_000 }, (_, i) => i % 10) }] }),
    `invalid JSON format for attribute {"a", [0,1,2,3,`,
    `…}: value must be of type str`,
  ),
  defineJson(
    "attribute name of 1 MB with a number value",
    config({ attrs: [{ ["k".repeat(1_000_000)]: 1 }] }),
    `invalid JSON format for attribute {"kkkk`,
    `…, 1}: value must be of type str`,
  ),
  defineJson("UTF-8 byte order mark", `\uFEFF${config({})}`, "expected value at line 1 column 1"),
  defineJson("invalid escape", `{"mdev_type": "\\q", "start": "auto"}`, "invalid escape at line 1"),
  defineJson(
    "raw control character in a string",
    `{"mdev_type": "a\tb", "start": "auto"}`,
    "control character",
  ),
  {
    name: "define --jsonfile: missing file",
    args: (host) => ["define", "-u", U3, "-p", P1, "--jsonfile", host.path("in/nope.json")],
    code: 1,
    expect: [(host) => `Unable to read file "${host.root}/in/nope.json"`],
  },
  {
    name: "define --jsonfile: a directory",
    args: (host) => ["define", "-u", U3, "-p", P1, "--jsonfile", host.path("in")],
    code: 1,
    expect: [(host) => `"${host.root}/in"`],
  },
  {
    name: "define --jsonfile: a symlink loop",
    setup: (host) => Deno.symlink(host.path("in/loop"), host.path("in/loop")),
    args: (host) => ["define", "-u", U3, "-p", P1, "--jsonfile", host.path("in/loop")],
    code: 1,
    expect: [(host) => `Unable to read file "${host.root}/in/loop"`],
  },
  {
    name: "define --jsonfile: a dangling symlink",
    setup: (host) => Deno.symlink(host.path("in/gone"), host.path("in/dangling")),
    args: (host) => ["define", "-u", U3, "-p", P1, "--jsonfile", host.path("in/dangling")],
    code: 1,
    expect: [(host) => `Unable to read file "${host.root}/in/dangling"`],
  },
  {
    name: "start --jsonfile: unreadable file (chmod 000)",
    dropDacOverride: true,
    setup: async (host) => {
      await input(host, "c.json", config({}));
      await Deno.chmod(host.path("in/c.json"), 0o000);
    },
    args: (host) => ["start", "-u", U3, "-p", P1, "--jsonfile", jf(host)],
    code: 1,
    expect: [(host) => `Unable to read jsonfile "${host.root}/in/c.json"`],
  },

  // --- Bad uuids and indexes (spec §4.3, §5.3).
  usage("uuid: not hex", ["undefine", "-u", "xyz"], "invalid value 'xyz'"),
  usage("uuid: one digit short", ["undefine", "-u", U1.slice(0, -1)], "not a valid UUID"),
  usage("uuid: leading space", ["undefine", "-u", ` ${U1}`], "not a valid UUID"),
  usage(
    "uuid: braced simple form",
    ["undefine", "-u", `{${U1.replaceAll("-", "")}}`],
    "not a valid UUID",
  ),
  usage("uuid: non-hex digit", ["undefine", "-u", `g${U1.slice(1)}`], "not a valid UUID"),
  usage("uuid: empty", ["undefine", "-u", ""], "not a valid UUID"),
  usage(
    "uuid: misplaced hyphens",
    ["undefine", "-u", "1111111-11111-0000-0000-000000000000"],
    "not a valid UUID",
  ),
  usage("index: negative", ["modify", "-u", U1, "--delattr", "--index=-1"], "invalid value '-1'"),
  usage(
    "index: not a number",
    ["modify", "-u", U1, "--delattr", "--index", "abc"],
    "invalid value 'abc'",
  ),
  usage(
    "index: above u32",
    ["modify", "-u", U1, "--delattr", "--index", "4294967296"],
    "invalid value '4294967296'",
  ),
  usage(
    "index: fraction",
    ["modify", "-u", U1, "--delattr", "--index", "1.5"],
    "invalid value '1.5'",
  ),
  {
    name: "index: --delattr past the end",
    args: ["modify", "-u", U1, "--delattr", "--index", "5"],
    code: 1,
    expect: ["Attribute index 5 is invalid"],
  },
  {
    name: "index: --addattr past the end",
    args: ["modify", "-u", U1, "--addattr", "b", "--value", "2", "--index", "2"],
    code: 1,
    expect: ["Attribute index 2 is invalid"],
  },
  {
    name: "index: --delattr on a device without attributes",
    setup: (host) => host.define(P1, U3, config({})),
    args: ["modify", "-u", U3, "--delattr", "--index", "0"],
    code: 1,
    expect: ["Attribute index 0 is invalid"],
  },

  // --- Command-line syntax.
  usage("unknown subcommand", ["frobnicate"], "unrecognized subcommand 'frobnicate'"),
  usage("unknown option", ["define", "--bogus"], "unexpected argument '--bogus'"),
  usage(
    "option given twice",
    ["define", "-u", U3, "-u", U4, "-p", P1, "-t", T1],
    "cannot be used multiple times",
  ),
  usage("--addattr without --value", ["modify", "-u", U1, "--addattr", "a"], "--value"),
  usage("modify without uuid", ["modify", "--auto"], "required"),
  usage(
    "--type with --jsonfile",
    ["start", "-p", P1, "-t", T1, "--jsonfile", "x"],
    "cannot be used with",
  ),

  // --- Garbled sysfs (spec §5.7; decisions §0.6, §0.8).
  ...[
    ["non-numeric", "abc\n", "invalid digit found in string"],
    ["empty", "", "cannot parse integer from empty string"],
    ["too large", "99999999999\n", "number too large to fit in target type"],
    ["negative", "-3\n", `No available instances of ${T2} on ${P1}`],
  ].map(([what, text, message]): Case => ({
    name: `start: ${what} available_instances`,
    setup: (host) => Deno.writeTextFile(`${host.typeDir(P1, T2)}/available_instances`, text!),
    args: ["start", "-u", U3, "-p", P1, "-t", T2],
    code: 1,
    expect: [message!, ...(what === "negative" ? [] : [instancesFile])],
  })),
  {
    name: "start: available_instances missing",
    setup: (host) => Deno.remove(`${host.typeDir(P1, T2)}/available_instances`),
    args: ["start", "-u", U3, "-p", P1, "-t", T2],
    code: 1,
    expect: ["No such file or directory", instancesFile],
  },
  {
    name: "start: available_instances is a directory",
    setup: async (host) => {
      await Deno.remove(`${host.typeDir(P1, T2)}/available_instances`);
      await Deno.mkdir(`${host.typeDir(P1, T2)}/available_instances`);
    },
    args: ["start", "-u", U3, "-p", P1, "-t", T2],
    code: 1,
    // There but unreadable: one line naming it (docs/behaviour.md, "Unreadable paths").
    expect: [
      (host) =>
        `Error: Unable to read "${
          classTypeDir(host)
        }/available_instances": Is a directory (os error 21)\n`,
    ],
  },
  {
    name: "start: the type has no create file",
    setup: (host) => Deno.remove(`${host.typeDir(P1, T2)}/create`),
    args: ["start", "-u", U3, "-p", P1, "-t", T2],
    code: 1,
    expect: [`Failed to create mdev ${U3}, type ${T2} on ${P1}`],
  },
  {
    name: "start: parent without mdev_supported_types",
    setup: async (host) => {
      await Deno.mkdir(host.parentDir(P2), { recursive: true });
      await Deno.symlink(host.parentDir(P2), host.path(`sys/class/mdev_bus/${P2}`));
    },
    args: ["start", "-u", U3, "-p", P2, "-t", T1],
    code: 1,
    expect: [`Parent ${P2} is not currently registered for mdev support`],
  },
  {
    name: "start: dangling parent link in sys/class/mdev_bus",
    setup: (host) => Deno.symlink(host.parentDir(P2), host.path(`sys/class/mdev_bus/${P2}`)),
    args: ["start", "-u", U3, "-p", P2, "-t", T1],
    code: 1,
    expect: [
      `Unable to find parent device '${P2}'\n`,
      (host) => `"${host.path(`sys/class/mdev_bus/${P2}`)}" is not a directory`,
    ],
  },
  {
    name: "types: missing device_api is skipped with a warning",
    setup: (host) => Deno.remove(`${host.typeDir(P1, T2)}/device_api`),
    args: ["types"],
    code: 0,
    expect: ["WARN", (host) => `${classTypeDir(host)}/device_api`],
  },
  {
    name: "types: empty available_instances is skipped with a warning",
    setup: (host) => Deno.writeTextFile(`${host.typeDir(P1, T2)}/available_instances`, ""),
    args: ["types"],
    code: 0,
    expect: ["cannot parse integer from empty string", (host) => classTypeDir(host)],
  },
  {
    name: "types: dangling parent link is skipped with a warning",
    setup: (host) => Deno.symlink(host.parentDir(P2), host.path(`sys/class/mdev_bus/${P2}`)),
    args: ["types"],
    code: 0,
    expect: [`Skipping parent ${P2}`],
  },
  {
    name: "list: half-created device (no mdev_type link) is skipped with a warning",
    setup: async (host) => {
      await host.addActive(U3, P1, T2);
      await Deno.remove(`${host.parentDir(P1)}/${U3}/mdev_type`);
    },
    args: ["list"],
    code: 0,
    expect: [(host) => `${host.root}/sys/bus/mdev/devices/${U3}`, U2],
  },
  {
    name: "list: a dangling mdev_type link breaks nothing else",
    setup: async (host) => {
      await host.addActive(U3, P1, T2);
      const link = `${host.parentDir(P1)}/${U3}/mdev_type`;
      await Deno.remove(link);
      await Deno.symlink(host.typeDir(P1, "gone"), link);
    },
    args: ["list"],
    code: 0,
    expect: [U2],
  },
  {
    name: "list: a dangling device link in sys/bus/mdev/devices breaks nothing else",
    setup: (host) =>
      Deno.symlink(host.parentDir(P1) + `/${U3}`, host.path(`sys/bus/mdev/devices/${U3}`)),
    args: ["list"],
    code: 0,
    expect: [U2],
  },
  {
    name: "stop: half-created device (no mdev_type link)",
    setup: async (host) => {
      await host.addActive(U3, P1, T2);
      await Deno.remove(`${host.parentDir(P1)}/${U3}/mdev_type`);
    },
    args: ["stop", "-u", U3],
    code: 1,
    expect: [
      "No such file or directory",
      (host) => `while resolving "${host.parentDir(P1)}/${U3}/mdev_type"`,
    ],
  },
  {
    name: "list -d: a dangling config symlink is ignored",
    setup: (host) => Deno.symlink(host.path("in/gone"), host.path(`etc/mdevctl.d/${P1}/${U3}`)),
    args: ["list", "-d"],
    code: 0,
    expect: [U1],
  },

  // --- Odd files where configs are expected (decision §0.6).
  {
    name: "define where the config path is a directory",
    setup: (host) => Deno.mkdir(host.path(`etc/mdevctl.d/${P1}/${U3}`)),
    args: ["define", "-u", U3, "-p", P1, "-t", T1],
    code: 1,
    expect: [`Failed to write config for device ${U3}`],
  },
  {
    name: "define where the parent config directory is a file",
    setup: (host) => Deno.writeTextFile(host.path(`etc/mdevctl.d/${P2}`), "x"),
    args: ["define", "-u", U3, "-p", P2, "-t", T1],
    code: 1,
    expect: [`Failed to write config for device ${U3}`],
  },
  {
    name: "define where the parent config directory is a symlink",
    setup: async (host) => {
      await Deno.mkdir(host.path("in/elsewhere"));
      await Deno.symlink(host.path("in/elsewhere"), host.path(`etc/mdevctl.d/${P2}`));
    },
    args: ["define", "-u", U3, "-p", P2, "-t", T1],
    code: 1,
    expect: [
      `Failed to write config for device ${U3}`,
      (host) => `"${host.path(`etc/mdevctl.d/${P2}`)}" is a symbolic link`,
    ],
  },
  {
    name: "define with a parent name longer than NAME_MAX",
    args: ["define", "-u", U3, "-p", "p".repeat(300), "-t", T1],
    code: 1,
    expect: [`Failed to write config for device ${U3}`, "File name too long"],
  },
  {
    name: "define --jsonfile /dev/stdin with garbage on stdin",
    stdin: `{"mdev_type": "t", "start": "auto", "attrs": [{"a": 1}]}`,
    args: ["define", "-u", U3, "-p", P1, "--jsonfile", "/dev/stdin"],
    code: 1,
    expect: [`invalid JSON format for attribute {"a", 1}: value must be of type str`],
  },
  {
    name: "list -d with a config named like no uuid warns and lists the rest",
    setup: (host) => host.define(P1, "not-a-uuid", config({})),
    args: ["list", "-d"],
    code: 0,
    expect: ["Can't determine uuid for file 'not-a-uuid'", U1],
  },
  {
    name: "list -d with a FIFO named like a uuid in the config dir does not block",
    setup: async (host) => {
      const made = await new Deno.Command("mkfifo", {
        args: [host.path(`etc/mdevctl.d/${P1}/${U3}`)],
      }).output();
      assertEquals(made.code, 0);
    },
    args: ["list", "-d"],
    code: 0,
    expect: [U1],
  },
  {
    name: "list -d with a truncated config warns and lists the rest",
    setup: (host) => host.define(P1, U3, `{"mdev_type": "${T1}", "sta`),
    args: ["list", "-d"],
    code: 0,
    expect: [(host) => `${host.root}/etc/mdevctl.d/${P1}/${U3}`, U1],
  },
];

/** Each case on a fresh host; the whole root must be unchanged afterwards. */
for (const c of cases) {
  Deno.test(requiring(
    `bad input: ${c.name}`,
    c.dropDacOverride ? NO_SETPRIV : undefined,
    () =>
      withHost(async (host) => {
        await baseHost(host);
        await c.setup?.(host);
        const before = await snapshotTree(host.root);
        const args = typeof c.args === "function" ? c.args(host) : c.args;
        const result = await host.run(args, {
          ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
          ...(c.dropDacOverride ? { prefix: DROP_DAC } : {}),
        });
        const expect = c.expect.map((e) => typeof e === "function" ? e(host) : e);
        const label = `mdevctl ${args.join(" ").slice(0, 200)}`;
        if (c.code === 2) {
          const top = assertUsageError(result, label);
          assert(expect.every((e) => result.stderr.includes(e)), `${top}\nwanted ${expect}`);
        } else if (c.code === 1) {
          const top = assertRuntimeError(result, label);
          assert(
            expect.every((e) => result.stderr.includes(e)),
            `stderr ${result.stderr.slice(0, 2000)}\nwanted ${expect.join(" | ")}`,
          );
          assert(top.length < 1000, `top line of ${top.length} characters`);
          // One line, then at most the causes (only the index errors add an Attrs block).
          if (!top.startsWith("Attribute index")) {
            assert(
              /^Error: [^\n]*\n(?:\nCaused by:\n(?: {4}[^\n]*\n)+)?$/.test(result.stderr),
              `not one line (plus causes): ${JSON.stringify(result.stderr.slice(0, 500))}`,
            );
          }
        } else {
          assertEquals(result.code, 0, `${label}\n${result.stderr}`);
          assert(!/^\s+at /m.test(result.stderr), result.stderr);
          const all = result.stdout + result.stderr;
          assert(expect.every((e) => all.includes(e)), `output ${all}\nwanted ${expect}`);
        }
        assertEquals(changes(before, await snapshotTree(host.root)), [], "something was written");
      }),
  ));
}

/**
 * A FIFO as --jsonfile: opening it blocks until a writer appears (like any
 * reader of a FIFO), so the test is the writer; bad contents are refused.
 */
Deno.test("bad input: a FIFO as --jsonfile is read once; garbage through it is refused", () =>
  withHost(async (host) => {
    await baseHost(host);
    const fifo = host.path("in/fifo");
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assertEquals(made.code, 0);
    const before = await snapshotTree(host.root);
    const child = await host.spawn(["define", "-u", U3, "-p", P1, "--jsonfile", fifo]);
    const writer = await Deno.open(fifo, { write: true });
    await writer.write(new TextEncoder().encode(`{"mdev_type": [}`));
    writer.close();
    const out = await child.output();
    const result = {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
    assert(assertRuntimeError(result).includes("expected value at line 1 column 16"));
    assertEquals(changes(before, await snapshotTree(host.root)), []);
  }));

/**
 * Documented acceptance (docs/behaviour.md): duplicate keys — the last one
 * wins, as upstream's parser does.
 */
Deno.test("bad input: duplicate keys in --jsonfile — the last one wins", () =>
  withHost(async (host) => {
    await baseHost(host);
    await input(
      host,
      "c.json",
      `{"mdev_type": "first", "start": "manual", "mdev_type": "${T2}", "start": "auto",` +
        ` "attrs": [{"a": "1", "a": "2"}]}`,
    );
    const r = await host.run(["define", "-u", U3, "-p", P1, "--jsonfile", jf(host)]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U3}`)), {
      mdev_type: T2,
      start: "auto",
      attrs: [{ a: "2" }],
    });
  }));

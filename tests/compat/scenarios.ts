// Scenarios of the compatibility suite: data only.  Each one is a fake host
// (tests/helpers/fake_host.ts; compat.ts adds 1.2.0's script directories
// unless the host sets `deprecatedScriptDirs: false`), a sequence of mdevctl/lsmdev commands run in order on a fresh
// copy of that host, and the ids of the differences (differences.ts) that
// apply to it.  Every command's exit status and stdout is compared, then the
// final sysfs/config state and the callout log.
//
// Command fields:
//   args        argv after the program name; "@IN/<name>" is the input file
//   stdin       text fed to stdin (e.g. with --jsonfile /dev/stdin)
//   lsmdev      run as lsmdev instead of mdevctl
//   diffs       difference ids applying to this command
//   sameError   also compare the `Error:` top line of stderr (only for
//               messages 1.2.0 shares literally with HEAD, spec §10.3)
//   debianAlt   argv lists Debian runs instead (needs a debian-alt difference)
//   expectOurs  what ours must do instead of matching Debian (needs an
//               expect-ours difference)

import type { DefinedSpec, HostSpec, ParentSpec, ScriptFileSpec } from "../helpers/fake_host.ts";

export interface Command {
  args: string[];
  stdin?: string;
  lsmdev?: boolean;
  diffs?: string[];
  sameError?: boolean;
  debianAlt?: string[][];
  expectOurs?: { status: number; stdout?: string };
}

export interface Scenario {
  name: string;
  /** spec sections / behaviour covered */
  covers: string;
  host: HostSpec;
  cmds: Command[];
  /** differences applying to the whole scenario (all commands and state) */
  diffs?: string[];
  /** the callout log ours must write (needs an expect-log difference) */
  expectOursLog?: string[];
}

// ---------------------------------------------------------------- fixtures

/**
 * A legacy callout (tests/helpers/scripts.ts) as 1.2.0 knows them: it logs
 * its pre/post runs (argv and stdin) to the call log, answers the
 * capabilities query with 2, exits 2 unlogged for types not in `types` (when given),
 * else `pre`/`post` (default 0); get/attributes prints `attrs` (exit 0), any
 * other get exits 2. In 1.2.0's /etc/mdevctl.d/scripts.d unless `dir` is
 * "usrlib" (ours' primary directory; see the callout-dirs difference).
 */
function callout(
  name: string,
  o: { pre?: number; post?: number; types?: string[]; attrs?: string; dir?: "etc" | "usrlib" } = {},
): ScriptFileSpec {
  return {
    name,
    where: o.dir === "usrlib" ? "callouts" : "deprecated-callouts",
    body: {
      logEvents: ["pre", "post"],
      ...(o.types ? { types: o.types, declineUnlogged: true } : {}),
      ...(o.attrs !== undefined ? { attrs: o.attrs } : {}),
      exits: {
        pre: o.pre ?? 0,
        post: o.post ?? 0,
        get: 2,
        ...(o.attrs !== undefined ? { "get/attributes": 0 } : {}),
      },
    },
  };
}

/**
 * A line of the call log (tests/helpers/scripts.ts): the script's name, its
 * argv (from "event action state type parent uuid") and stdin.
 */
function called(script: string, what: string, stdin: string): string {
  const [event, action, state, type, parent, uuid] = what.split(" ");
  return `${script}\t-t ${type} -e ${event} -a ${action} -s ${state} -u ${uuid} -p ${parent}\t${stdin}`;
}

/** A notifier that logs every run, without its stdin (see callout-protocol). */
function notifier(name: string, dir: "etc" | "usrlib" = "etc"): ScriptFileSpec {
  return {
    name,
    where: dir === "usrlib" ? "notifiers" : "deprecated-notifiers",
    body: { logStdin: false },
  };
}

const A = "11111111-2222-3333-4444-555555555555";
const B = "22222222-3333-4444-5555-666666666666";
const C = "33333333-4444-5555-6666-777777777777";
const D = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const E = "0fedcba9-8765-4321-0fed-cba987654321";
/** 70 running devices on one parent: more than the listings' thresholds for listing by type. */
const MANY = Array.from(
  { length: 70 },
  (_, i) =>
    `${(0x5a000000 + i * 0x10101).toString(16)}-0000-4000-8000-${
      (i * 7919).toString(16).padStart(12, "0")
    }`,
);
const A_SIMPLE = A.replaceAll("-", "");
const D_BRACED = `{${D.toUpperCase()}}`;
const D_UP = D.toUpperCase();

const P1 = "0000:00:02.0";
const P2 = "0000:00:03.0";
const P3 = "0.0.26ab";
const PINT = "1234";
const PMISS = "0000:00:09.0";

const T1 = "i915-GVTg_V5_4";
const T2 = "i915-GVTg_V5_8";
const N1 = "nvidia-36";
const N2 = "nvidia-155";
const N3 = "nvidia-37";
const V1 = "vfio_ap-passthrough";

const parent1: ParentSpec = {
  name: P1,
  types: {
    [T1]: {
      available: "2",
      name: "GVTg_V5_4\n",
      description:
        "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n",
    },
    [T2]: { available: "0", name: "GVTg_V5_8\n", description: "low_gm_size: 64MB\n\nweight: 2\n" },
  },
};
const parent2: ParentSpec = {
  name: P2,
  types: {
    [N1]: { available: "16", name: "GRID M10-0B\n", description: "num_heads=2, frl_config=45\n" },
    [N2]: { available: "4", name: "GRID M10-2B\n", description: "\n" },
    [N3]: { available: "8", name: "\n" },
  },
};
const parent3: ParentSpec = {
  name: P3,
  dev: "css0/0.0.26ab",
  types: { [V1]: { available: "65535", deviceApi: "vfio-ccw" } },
};
const parentInt: ParentSpec = {
  name: PINT,
  dev: "platform/1234",
  types: {
    "mtty-2": {
      available: "3",
      deviceApi: "vfio-pci",
      name: "Dual-port\n",
      description: "2 ports\n",
    },
  },
};
const parentNoSupport: ParentSpec = { name: "0000:00:04.0" };
const parentUpper: ParentSpec = { name: "0000:2b:00.0", types: { [N1]: { available: "1" } } };

const std = [parent1, parent2, parent3];

function def(
  parent: string,
  uuid: string,
  type: string,
  start = "manual",
  attrs: Record<string, string>[] = [],
): DefinedSpec {
  return { parent, uuid, config: { mdev_type: type, start, attrs } };
}

/** The configs callout-define-running-attrs defines, as its callouts see them. */
const jsonA = `{"mdev_type":"${T1}","start":"auto","attrs":[]}`;
const jsonB = `{"mdev_type":"${N1}","start":"manual","attrs":[]}`;

const sixAttrs = [
  { mdev_param: "one" },
  { assign_adapter: "5" },
  { assign_domain: "0x13" },
  { "nvidia/vgpu_params": "frame_rate_limiter=0" },
  { assign_adapter: "6" },
  { empty: "" },
];

const listDefinedHost: HostSpec = {
  parents: std,
  defined: [
    def(P1, A, T1, "auto", sixAttrs),
    def(P1, C, T2),
    def(P2, A, N1, "manual", [{ a: "1" }]),
    def(P2, B, N2, "auto"),
    def(P3, D, V1, "manual", [{ assign_adapter: "0x4" }, { assign_domain: "0x26ab" }]),
  ],
};

const twoActive: HostSpec = {
  parents: std,
  active: [{ uuid: B, parent: P1, type: T1 }, { uuid: A, parent: P2, type: N2 }],
};

const TXT = ["text-trailing-newline"];
const USAGE = ["usage-error"];

const goodJson = `{
    "mdev_type":"${N1}",
      "start": "auto", "comment": "ignored key",
  "attrs": [{"assign_adapter": "5"}, {"assign_domain": "0x13"}, {"nvidia/vgpu_params": "a=1 b=\\"2\\""}]}
`;
const manyAttrs = JSON.stringify({
  mdev_type: T1,
  start: "manual",
  attrs: Array.from({ length: 40 }, (_, i) => ({ [`attr${i % 7}`]: `value ${i}` })),
});

// ---------------------------------------------------------------- scenarios

export const SCENARIOS: Scenario[] = [
  // ------------------------------------------------------------ types
  {
    name: "types-empty",
    covers: "§5.7 no parents; §6.4 empty output",
    host: {},
    cmds: [{ args: ["types"], diffs: TXT }, { args: ["types", "--dumpjson"] }],
  },
  {
    name: "types-full",
    covers: "§5.7, §6.4 three parents, name/description variants, sorting nvidia-155 < nvidia-36",
    host: { parents: std },
    cmds: [{ args: ["types"], diffs: TXT }, { args: ["types", "--dumpjson"] }],
  },
  {
    name: "types-parent-filter",
    covers: "§5.7 -p exact filter, no match",
    host: { parents: std },
    cmds: [
      { args: ["types", "-p", P2], diffs: TXT },
      { args: ["types", "--parent", P3, "--dumpjson"] },
      { args: ["types", `--parent=${P1}`], diffs: TXT },
      { args: ["types", "-p", "0000:00:02.1"], diffs: TXT },
      { args: ["types", "-p", "0000:00:02.1", "--dumpjson"] },
      { args: ["types", "-p", P1.toUpperCase()], diffs: TXT },
    ],
  },
  {
    name: "types-integer-parent",
    covers: "§6.5 key order with integer-like parent names; parent with zero types",
    host: {
      parents: [parentInt, { name: "42", dev: "platform/42", types: {} }, parent1, {
        name: "7",
        dev: "platform/7",
        types: { t: { available: "1" } },
      }],
    },
    cmds: [{ args: ["types", "--dumpjson"] }, { args: ["types"], diffs: TXT }],
  },
  // ------------------------------------------------------------ list
  {
    name: "list-empty",
    covers: "§5.6, §6.1–6.3 nothing defined or active",
    host: { parents: std },
    cmds: [
      { args: ["list"], diffs: TXT },
      { args: ["list", "-d"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["list", "-v"], diffs: TXT },
    ],
  },
  {
    name: "list-active",
    covers: "§1.6, §6.1, §6.3 two running devices on two parents, sorting",
    host: twoActive,
    cmds: [
      { args: ["list"], diffs: TXT },
      { args: ["list", "-v"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "--dumpjson", "--verbose"] },
    ],
  },
  {
    name: "list-active-filters",
    covers: "§5.6 -u/-p filters on the active listing, config form for one uuid, uppercase uuid",
    host: twoActive,
    cmds: [
      { args: ["list", "-u", A], diffs: TXT },
      { args: ["list", "-p", P1], diffs: TXT },
      { args: ["list", "-u", A, "--dumpjson"] },
      { args: ["list", "-u", A_SIMPLE, "-p", P2, "--dumpjson"] },
      { args: ["list", "-u", A, "-p", P1], diffs: TXT },
      { args: ["list", "-u", A, "-p", P1, "--dumpjson"] },
      { args: ["list", "-p", P3, "--dumpjson"] },
      { args: ["list", "-u", C], diffs: TXT },
    ],
  },
  {
    name: "list-active-defined",
    covers: "§6.1 start mode and ` (defined)` from the definition (definitions without attrs)",
    host: {
      parents: std,
      active: [{ uuid: B, parent: P1, type: T1 }, { uuid: A, parent: P2, type: N2 }, {
        uuid: C,
        parent: P2,
        type: N1,
      }],
      defined: [def(P1, B, T1, "auto"), def(P2, A, N2, "manual"), def(P1, C, N1, "auto")],
    },
    cmds: [
      { args: ["list"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "-u", B, "--dumpjson"] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "list-active-defined-attrs",
    covers: "§1.6, §11 row 11: active listing of a defined device with attributes",
    host: {
      parents: std,
      active: [{ uuid: B, parent: P1, type: T1 }],
      defined: [def(P1, B, T1, "auto", [{ x: "1" }, { y: "2" }])],
    },
    cmds: [
      {
        args: ["list", "-v"],
        diffs: TXT.concat("active-list-attrs"),
        expectOurs: { status: 0, stdout: `${B} ${P1} ${T1} auto (defined)\n` },
      },
      {
        args: ["list", "--dumpjson"],
        diffs: ["active-list-attrs"],
        expectOurs: {
          status: 0,
          stdout:
            `[\n  {\n    "${P1}": [\n      {\n        "${B}": {\n          "mdev_type": "${T1}",\n          "start": "auto",\n          "attrs": []\n        }\n      }\n    ]\n  }\n]\n`,
        },
      },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "list-defined",
    covers: "§1.5, §6.2, §6.3 defined listing, verbose Attrs, one uuid on two parents",
    host: listDefinedHost,
    cmds: [
      { args: ["list", "-d"], diffs: TXT },
      { args: ["list", "--defined", "--verbose"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["list", "-dv"], diffs: TXT },
    ],
  },
  {
    name: "list-defined-filters",
    covers:
      "§5.6 -u/-p on definitions: hierarchy for two matches, config form for one, uppercase and = forms",
    host: listDefinedHost,
    cmds: [
      { args: ["list", "-d", "-u", A], diffs: TXT },
      { args: ["list", "-d", "-u", A, "--dumpjson"] },
      { args: ["list", "-d", "-u", A, "-p", P2, "--dumpjson"] },
      { args: ["list", "-d", `--uuid=${A_SIMPLE}`, `--parent=${P1}`, "-v"], diffs: TXT },
      { args: ["list", "-d", "-p", P3, "-v"], diffs: TXT },
      { args: ["list", "-dvu", D_UP], diffs: TXT },
      { args: ["list", "-d", "-u", D_BRACED], diffs: TXT },
      { args: ["list", "-d", "-u", `urn:uuid:${A}`, "-p", P2], diffs: TXT },
      { args: ["list", "-d", "-u", E], diffs: TXT },
      { args: ["list", "-d", "-u", E, "--dumpjson"] },
      { args: ["list", "-d", "-p", PMISS, "--dumpjson"] },
    ],
  },
  {
    name: "list-defined-active-suffix",
    covers: "§6.2 ` (active)` only when uuid, parent and type all match",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }, { uuid: B, parent: P2, type: N1 }, {
        uuid: C,
        parent: P2,
        type: N2,
      }],
      defined: [def(P1, A, T1), def(P1, B, T1), def(P2, C, N3, "auto"), def(P2, D, N1)],
    },
    cmds: [
      { args: ["list", "-d"], diffs: TXT },
      {
        args: ["list"],
        diffs: TXT.concat("active-list-attrs"),
        expectOurs: {
          status: 0,
          stdout:
            `${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${N1} manual\n${C} ${P2} ${N2} auto (defined)\n`,
        },
      },
      { args: ["list", "-u", B], diffs: TXT },
    ],
  },
  {
    name: "list-integer-parents",
    covers: "§6.5 parents named like integers keep byte order in JSON",
    host: {
      parents: [parentInt, parent1, {
        name: "99",
        dev: "platform/99",
        types: { "mtty-2": { available: "3" } },
      }],
      active: [
        { uuid: A, parent: PINT, type: "mtty-2" },
        { uuid: C, parent: "99", type: "mtty-2" },
        { uuid: B, parent: P1, type: T1 },
      ],
      defined: [
        def(PINT, D, "mtty-2"),
        def("99", E, "mtty-2", "auto"),
        def(P1, B, T1),
        def("0", C, "x"),
      ],
    },
    cmds: [
      { args: ["list", "--dumpjson"] },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["list", "-d"], diffs: TXT },
      { args: ["list"], diffs: TXT },
    ],
  },
  {
    name: "list-odd-attr-values",
    covers: "§6.2 raw (unescaped) attribute text, §6.5 JSON escaping",
    host: {
      parents: std,
      defined: [{
        parent: P1,
        uuid: A,
        config: {
          mdev_type: T1,
          start: "auto",
          attrs: [{ q: 'say "hi"' }, { tab: "a\tb" }, { path: "a/b\\c" }, { u: "é €" }, {
            ctl: "\u0001",
          }],
        },
      }],
    },
    cmds: [
      { args: ["list", "-d", "-v"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["list", "-d", "-u", A, "--dumpjson"] },
    ],
  },
  {
    name: "lsmdev",
    covers: "§4.1 invocation as lsmdev (list options only)",
    host: {
      ...listDefinedHost,
      active: [{ uuid: B, parent: P1, type: T1 }, { uuid: E, parent: P3, type: V1 }],
    },
    cmds: [
      { args: [], lsmdev: true, diffs: TXT },
      { args: ["-d", "-v"], lsmdev: true, diffs: TXT },
      { args: ["--dumpjson", "-p", P3], lsmdev: true },
      { args: ["-d", "-u", D], lsmdev: true, diffs: TXT },
      { args: ["list"], lsmdev: true, diffs: USAGE },
      { args: ["--version"], lsmdev: true, diffs: ["version-string"] },
    ],
  },
  // ------------------------------------------------------------ cli
  {
    name: "cli-version-help",
    covers: "§4.2 --version, list -V, help exit statuses",
    host: {},
    cmds: [
      { args: ["--version"], diffs: ["version-string"] },
      { args: ["-V"], diffs: ["version-string"] },
      { args: ["list", "-V"], diffs: ["version-string"] },
      { args: ["--help"], diffs: ["help-text"] },
      { args: ["list", "--help"], diffs: ["help-text"] },
      { args: ["help", "define"], diffs: ["help-text"] },
      { args: ["modify", "-h"], diffs: ["help-text"] },
    ],
  },
  {
    name: "cli-usage-errors",
    covers: "§4.2–4.5 usage errors exit 2 (clap rules shared by 1.2.0 and HEAD)",
    host: { parents: std, defined: [def(P1, A, T1)] },
    cmds: [
      { args: [], diffs: USAGE },
      { args: ["frobnicate"], diffs: USAGE },
      { args: ["list", "--bogus"], diffs: USAGE },
      { args: ["types", "-V"], diffs: USAGE },
      { args: ["define"], diffs: USAGE },
      { args: ["define", "-t", T1], diffs: USAGE },
      { args: ["define", "-u", "not-a-uuid", "-p", P1, "-t", T1], diffs: USAGE },
      { args: ["define", "-u", ` ${A}`, "-p", P1, "-t", T1], diffs: USAGE },
      { args: ["define", "-p", P1, "-t", T1, "--jsonfile", "/dev/null"], diffs: USAGE },
      { args: ["define", "-p", P1, "-a", "--jsonfile", "/dev/null"], diffs: USAGE },
      { args: ["undefine"], diffs: USAGE },
      { args: ["undefine", "-p", P1], diffs: USAGE },
      { args: ["stop"], diffs: USAGE },
      { args: ["start"], diffs: USAGE },
      { args: ["start", "-p", P1, "-t", T1, "--jsonfile", "/dev/null"], diffs: USAGE },
      { args: ["modify", "--auto"], diffs: USAGE },
      { args: ["modify", "-u", A, "--auto", "--manual"], diffs: USAGE },
      { args: ["modify", "-u", A, "--addattr", "x"], diffs: USAGE },
      { args: ["modify", "-u", A, "--addattr", "x", "--value", "y", "--delattr"], diffs: USAGE },
      { args: ["modify", "-u", A, "--delattr", "--index", "-1"], diffs: USAGE },
      { args: ["modify", "-u", A, "--delattr", "--index", "x"], diffs: USAGE },
      { args: ["list", "-u", A, "-u", B], diffs: USAGE },
      { args: ["list", "-u"], diffs: USAGE },
      { args: ["stop", "-u", A, "extra"], diffs: USAGE },
    ],
  },
  // ------------------------------------------------------------ define
  {
    name: "define-parent-type",
    covers: "§5.1 B: generated uuid printed, config bytes, default start manual",
    host: { parents: std },
    cmds: [
      { args: ["define", "-p", P1, "-t", T1] },
      { args: ["define", "--parent", P2, "--type", N2, "--auto"] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "define-uuid",
    covers:
      "§5.1 B with uuid: nothing printed; -a; uppercase uuid stored lower-case; absent parent/type allowed",
    host: { parents: std },
    cmds: [
      { args: ["define", "-u", A, "-p", P1, "-t", T1, "-a"] },
      { args: ["define", "--uuid", B, "--parent", P2, "--type", N1] },
      { args: ["define", "-u", D_UP, "-p", PMISS, "-t", "no-such-type"] },
      { args: ["list", "-d", "-u", D], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
    ],
  },
  {
    name: "define-errors",
    covers: "§5.1 B errors: No type specified, No parent specified, already defined",
    host: { parents: std, defined: [def(P1, A, T1)] },
    cmds: [
      { args: ["define", "-u", B, "-p", P1], sameError: true },
      { args: ["define", "-u", B, "-t", T1], sameError: true },
      { args: ["define", "-p", P1], sameError: true },
      { args: ["define", "-u", A, "-p", P1, "-t", T2], sameError: true },
      { args: ["define", "-u", A, "-p", P2, "-t", N1] },
    ],
  },
  {
    name: "define-running",
    covers: "§5.1 B for a running device: parent/type from sysfs, override, errors",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }, { uuid: B, parent: P2, type: N1 }, {
        uuid: C,
        parent: P2,
        type: N2,
      }],
    },
    cmds: [
      { args: ["define", "-u", A] },
      { args: ["define", "-u", B, "-p", P2, "-a"] },
      { args: ["define", "-u", C, "-t", N3], sameError: true },
      { args: ["define", "-u", C, "-p", P1, "-t", T2] },
      { args: ["define", "-u", C, "-p", P2, "-t", N3] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "define-jsonfile",
    covers: "§5.1 A, §2.2: odd indentation, unknown key dropped, attrs order, = forms, stdin",
    host: {
      parents: std,
      inputs: { "a.json": goodJson, "noattrs.json": `{"mdev_type":"${T1}","start":"AUTO"}` },
    },
    cmds: [
      { args: ["define", "-u", A, "-p", P2, "--jsonfile", "@IN/a.json"] },
      { args: ["define", "-p", P1, "--jsonfile", "@IN/noattrs.json"] },
      {
        args: ["define", `--parent=${P3}`, "--jsonfile=/dev/stdin", `--uuid=${D}`],
        stdin: `{"mdev_type":"${V1}","start":"auto","attrs":[{"assign_adapter":"0x4"}]}`,
      },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "define-jsonfile-errors",
    covers:
      "§5.1 A, §2.2 errors: no parent, existing config, invalid json, attrs shape, non-string value",
    host: {
      parents: std,
      defined: [def(P1, A, T1)],
      inputs: {
        "ok.json": `{"mdev_type":"${T1}","start":"manual","attrs":[]}`,
        "nostart.json": `{"mdev_type":"${T1}","attrs":[]}`,
        "nulltype.json": `{"mdev_type":null,"start":"auto"}`,
        "array.json": "[1]",
        "syntax.json": "{mdev_type",
        "empty.json": "",
        "notarray.json": `{"mdev_type":"${T1}","start":"manual","attrs":{"a":"b"}}`,
        "notobj.json": `{"mdev_type":"${T1}","start":"manual","attrs":["a"]}`,
        "twofields.json": `{"mdev_type":"${T1}","start":"manual","attrs":[{"a":"b","c":"d"}]}`,
        "emptyobj.json": `{"mdev_type":"${T1}","start":"manual","attrs":[{}]}`,
        "numval.json": `{"mdev_type":"${T1}","start":"manual","attrs":[{"a":1}]}`,
      },
    },
    cmds: [
      { args: ["define", "-u", B, "--jsonfile", "@IN/ok.json"], sameError: true },
      { args: ["define", "-u", A, "-p", P1, "--jsonfile", "@IN/ok.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/nostart.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/nulltype.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/array.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/syntax.json"] },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/empty.json"] },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/notarray.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/notobj.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/twofields.json"], sameError: true },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/emptyobj.json"], sameError: true },
      {
        args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/numval.json"],
        diffs: ["panic-is-error"],
      },
      { args: ["define", "-u", B, "-p", P1, "--jsonfile", "@IN/missing.json"] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "define-many-attrs-integer-parent",
    covers: "§2.3 many (duplicate) attributes round trip; integer-like parent",
    host: { parents: [parentInt, parent1], inputs: { "many.json": manyAttrs } },
    cmds: [
      { args: ["define", "-u", A, "-p", PINT, "--jsonfile", "@IN/many.json"] },
      { args: ["define", "-u", B, "-p", P1, "-t", T1] },
      { args: ["list", "-d", "-v"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["list", "-d", "-u", A, "--dumpjson"] },
    ],
  },
  // ------------------------------------------------------------ undefine
  {
    name: "undefine-single",
    covers: "§5.2 remove one definition; uppercase uuid",
    host: { parents: std, defined: [def(P1, A, T1), def(P1, B, T1), def(P2, D, N1)] },
    cmds: [
      { args: ["undefine", "-u", A] },
      { args: ["undefine", "--uuid", D_UP] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "undefine-multiple-parents",
    covers: "§5.2 without -p all parents, with -p only that one",
    host: {
      parents: std,
      defined: [def(P1, A, T1), def(P2, A, N1), def(P3, A, V1), def(P2, B, N2)],
    },
    cmds: [
      { args: ["undefine", "-u", A, "-p", P3] },
      { args: ["list", "-d"], diffs: TXT },
      { args: ["undefine", "-u", A] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "undefine-errors",
    covers: "§5.2 no match (also parent mismatch); running devices untouched",
    host: { parents: std, defined: [def(P1, A, T1)], active: [{ uuid: B, parent: P1, type: T1 }] },
    cmds: [
      { args: ["undefine", "-u", C], sameError: true },
      { args: ["undefine", "-u", A, "-p", P2], sameError: true },
      { args: ["undefine", "-u", B], sameError: true },
      { args: ["list"], diffs: TXT },
    ],
  },
  // ------------------------------------------------------------ modify
  {
    name: "modify-start-mode",
    covers: "§5.3 --auto / --manual; -t together with --auto; uppercase uuid",
    host: {
      parents: std,
      defined: [def(P1, A, T1, "manual", [{ x: "1" }]), def(P2, D, N1, "auto")],
    },
    cmds: [
      { args: ["modify", "-u", A, "--auto"] },
      { args: ["modify", "-u", D_UP, "-m"] },
      { args: ["modify", "-u", A, "-t", T2, "-m"] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "modify-addattr",
    covers: "§5.3 --addattr/--value with and without --index, index = count, index > count",
    host: { parents: std, defined: [def(P1, A, T1, "manual", sixAttrs), def(P2, B, N1)] },
    cmds: [
      { args: ["modify", "-u", A, "--addattr", "new", "--value", "v1"] },
      { args: ["modify", "-u", A, "--addattr", "first", "--value", "v0", "--index", "0"] },
      { args: ["modify", "-u", A, "--addattr", "mid", "--value", "with space", "-i", "3"] },
      { args: ["modify", "-u", A, "--addattr=end", "--value=", "--index=9"] },
      {
        args: ["modify", "-u", A, "--addattr", "bad", "--value", "x", "--index", "11"],
        sameError: true,
      },
      {
        args: ["modify", "-u", B, "--addattr", "bad", "--value", "x", "--index", "1"],
        sameError: true,
      },
      {
        args: [
          "modify",
          "-u",
          B,
          "--addattr",
          "nvidia/vgpu_params",
          "--value",
          "a=1",
          "--index",
          "0",
        ],
      },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "modify-delattr",
    covers: "§5.3 --delattr with/without --index, empty list, index out of range",
    host: { parents: std, defined: [def(P1, A, T1, "manual", sixAttrs), def(P2, B, N1)] },
    cmds: [
      { args: ["modify", "-u", A, "--delattr", "--index", "2"] },
      { args: ["modify", "-u", A, "--delattr"] },
      { args: ["modify", "-u", A, "--delattr", "-i", "0"] },
      { args: ["modify", "-u", A, "--delattr", "--index", "7"], sameError: true },
      { args: ["modify", "-u", B, "--delattr"] },
      { args: ["modify", "-u", B, "--delattr", "--index", "0"], diffs: ["panic-is-error"] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "modify-delattr-index-count",
    covers: "§11 row 20: --delattr --index N with N = count (1.2.0 panics)",
    host: { parents: std, defined: [def(P1, A, T1, "manual", [{ a: "1" }, { b: "2" }])] },
    cmds: [
      { args: ["modify", "-u", A, "--delattr", "--index", "2"], diffs: ["panic-is-error"] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "modify-lookup",
    covers: "§1.7 defined lookup: not defined, multiple parents, -p selects, parent mismatch",
    host: { parents: std, defined: [def(P1, A, T1), def(P2, A, N1), def(P2, B, N2)] },
    cmds: [
      { args: ["modify", "-u", C, "--auto"], sameError: true },
      { args: ["modify", "-u", A, "--auto"], sameError: true },
      { args: ["modify", "-u", A, "-p", P2, "--auto"] },
      { args: ["modify", "-u", B, "-p", P1, "--auto"], sameError: true },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "modify-option-rules",
    covers: "§5.3 CLI rules that HEAD added (§11 row 10)",
    host: { parents: std, defined: [def(P1, A, T1, "manual", [{ a: "1" }])] },
    cmds: [
      {
        args: ["modify", "-u", A, "-t", T2],
        diffs: ["modify-option-rules"],
        debianAlt: [],
        expectOurs: { status: 2, stdout: "" },
      },
      {
        args: ["modify", "-u", A],
        diffs: ["modify-option-rules"],
        debianAlt: [],
        expectOurs: { status: 2, stdout: "" },
      },
      {
        args: ["modify", "-u", A, "--value", "x"],
        diffs: ["modify-option-rules"],
        debianAlt: [],
        expectOurs: { status: 2, stdout: "" },
      },
      {
        args: ["modify", "-u", A, "--delattr", "--value", "x"],
        diffs: ["modify-option-rules"],
        debianAlt: [],
        expectOurs: { status: 2, stdout: "" },
      },
      {
        args: ["modify", "-u", A, "--auto", "--index", "0"],
        diffs: ["modify-option-rules"],
        debianAlt: [],
        expectOurs: { status: 2, stdout: "" },
      },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "modify-jsonfile",
    covers: "§5.3 A.1 --jsonfile replaces the definition (1.2.0: undefine + define --jsonfile)",
    host: {
      parents: std,
      defined: [def(P2, A, N2, "manual", [{ a: "1" }])],
      inputs: { "a.json": goodJson },
    },
    cmds: [
      {
        args: ["modify", "-u", A, "-p", P2, "--jsonfile", "@IN/a.json"],
        diffs: ["modify-jsonfile"],
        debianAlt: [["undefine", "-u", A, "-p", P2], [
          "define",
          "-u",
          A,
          "-p",
          P2,
          "--jsonfile",
          "@IN/a.json",
        ]],
      },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  // ------------------------------------------------------------ start
  {
    name: "start-transient",
    covers: "§5.4 B.2, §7: full spec starts (create gets the uuid), generated uuid printed",
    host: { parents: std },
    cmds: [
      { args: ["start", "-u", A, "-p", P1, "-t", T1] },
      { args: ["start", "-p", P2, "-t", N2] },
      { args: ["start", `--uuid=${D_UP}`, `--parent=${P3}`, `--type=${V1}`] },
    ],
  },
  {
    name: "start-defined",
    covers: "§5.4 B.1 start a definition by uuid (and uuid+parent), attrs applied in order",
    host: {
      parents: std,
      defined: [
        def(P1, A, T1, "manual", [{ alpha: "1" }, { beta: "two" }, { alpha: "3" }]),
        def(P2, B, N1),
      ],
      active: [
        {
          uuid: A,
          parent: "pending",
          type: "none",
          noTypeLink: true,
          attributes: { alpha: "", beta: "" },
        },
      ],
    },
    cmds: [
      { args: ["start", "-u", A] },
      { args: ["start", "-u", B, "-p", P2] },
    ],
  },
  {
    name: "start-defined-multiple",
    covers: "§5.4 B.1 uuid defined on two parents: needs -p; wrong type",
    host: { parents: std, defined: [def(P1, A, T1), def(P2, A, N1), def(P2, B, N2)] },
    cmds: [
      { args: ["start", "-u", A], sameError: true },
      { args: ["start", "-u", A, "-p", P2] },
      { args: ["start", "-u", B, "-t", N1], sameError: true },
      { args: ["start", "-u", B, "-p", P2, "-t", N2] },
    ],
  },
  {
    name: "start-errors",
    covers:
      "§5.4, §7 already running, no instances, missing parent, case hint, unsupported type, not registered, underspecified",
    host: {
      parents: [...std, parentNoSupport, parentUpper],
      active: [{ uuid: A, parent: P1, type: T1 }],
    },
    cmds: [
      { args: ["start", "-u", A, "-p", P1, "-t", T1], sameError: true },
      { args: ["start", "-u", A, "-p", P2, "-t", N1], sameError: true },
      { args: ["start", "-u", A, "-p", P1, "-t", T2], sameError: true },
      { args: ["start", "-u", B, "-p", P1, "-t", T2], sameError: true },
      { args: ["start", "-u", B, "-p", PMISS, "-t", T1], sameError: true },
      { args: ["start", "-u", B, "-p", "0000:2B:00.0", "-t", N1], sameError: true },
      { args: ["start", "-u", B, "-p", P2, "-t", "nvidia-999"], sameError: true },
      { args: ["start", "-u", B, "-p", "0000:00:04.0", "-t", N1], sameError: true },
      { args: ["start", "-u", B, "-p", P1], sameError: true },
      { args: ["start", "-u", B, "-t", T1], sameError: true },
      { args: ["start", "-p", P1], sameError: true },
    ],
  },
  {
    name: "start-jsonfile",
    covers: "§5.4 A transient from --jsonfile (file and stdin), attrs written, definitions ignored",
    host: {
      parents: std,
      defined: [def(P1, A, T1)],
      active: [{
        uuid: A,
        parent: "pending",
        type: "none",
        noTypeLink: true,
        attributes: { assign_adapter: "", assign_domain: "", "nvidia/vgpu_params": "" },
      }],
      inputs: { "a.json": goodJson, "plain.json": `{"mdev_type":"${T1}","start":"manual"}` },
    },
    cmds: [
      { args: ["start", "-u", A, "-p", P2, "--jsonfile", "@IN/a.json"] },
      {
        args: ["start", `--parent=${P1}`, "--jsonfile=/dev/stdin"],
        stdin: `{"mdev_type":"${T1}","start":"auto","attrs":[]}`,
      },
      { args: ["start", "-u", B, "--jsonfile", "@IN/plain.json"], sameError: true },
      { args: ["start", "-u", B, "-p", P1, "--jsonfile", "@IN/missing.json"], sameError: true },
    ],
  },
  {
    name: "start-attr-rollback",
    covers: "§7 step 7/8: missing attribute file → Invalid attribute, device removed again",
    host: {
      parents: std,
      defined: [def(P1, A, T1, "manual", [{ good: "1" }, { missing: "2" }])],
      active: [{
        uuid: A,
        parent: "pending",
        type: "none",
        noTypeLink: true,
        attributes: { good: "" },
      }],
    },
    cmds: [{ args: ["start", "-u", A], sameError: true }],
  },
  // ------------------------------------------------------------ stop
  {
    name: "stop-running",
    covers: "§5.5 writes 1 to remove; uppercase uuid; definitions untouched",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }, { uuid: D, parent: P3, type: V1 }],
      defined: [def(P1, A, T1, "auto")],
    },
    cmds: [{ args: ["stop", "-u", A] }, { args: ["stop", "--uuid", D_UP] }],
  },
  {
    name: "stop-inactive",
    covers: "§5.5 stop of a device that is not running (exit 1)",
    host: { parents: std, defined: [def(P1, A, T1)] },
    cmds: [{ args: ["stop", "-u", A], diffs: ["stop-inactive-message"] }, {
      args: ["stop", "-u", C],
      diffs: ["stop-inactive-message"],
    }],
  },
  // ------------------------------------------------------------ callouts (legacy, 1.2.0's dir)
  {
    name: "callout-define-pass",
    covers: "§8.2–8.4 legacy callout pre/post define (argv, state, stdin), notifier",
    host: { parents: std, scripts: [callout("50-log"), notifier("notify-log")] },
    cmds: [
      { args: ["define", "-u", A, "-p", P1, "-t", T1, "-a"] },
      { args: ["define", "-u", B, "-p", P2, "--jsonfile", "/dev/stdin"], stdin: goodJson },
    ],
  },
  {
    name: "callout-define-veto",
    covers: "§8.4 pre callout failure aborts define (nothing written)",
    host: {
      parents: std,
      scripts: [callout("10-veto", { pre: 1 }), notifier("notify-log")],
    },
    cmds: [
      { args: ["define", "-u", A, "-p", P1, "-t", T1] },
      { args: ["define", "-p", P1, "-t", T1] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "callout-type-specific",
    covers: "§8.5 legacy script exits 2 for other types: only its type is vetoed",
    host: { parents: std, scripts: [callout("nvidia-only", { pre: 1, types: [N1] })] },
    cmds: [
      { args: ["define", "-u", A, "-p", P1, "-t", T1] },
      { args: ["define", "-u", B, "-p", P2, "-t", N1] },
      { args: ["start", "-u", C, "-p", P2, "-t", N2] },
      { args: ["start", "-u", D, "-p", P2, "-t", N1] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "callout-start-stop-pass",
    covers: "§8.4 pre/post for start and stop, post state success",
    host: {
      parents: std,
      active: [{ uuid: B, parent: P2, type: N1 }],
      defined: [def(P1, A, T1, "auto")],
      scripts: [callout("log")],
    },
    cmds: [
      { args: ["start", "-u", A] },
      { args: ["stop", "-u", B] },
    ],
  },
  {
    name: "callout-start-stop-veto",
    covers: "§8.4 pre failure stops start (no create) and stop (no remove)",
    host: {
      parents: std,
      active: [{ uuid: B, parent: P2, type: N1 }],
      defined: [def(P1, A, T1)],
      scripts: [callout("veto", { pre: 1 })],
    },
    cmds: [
      { args: ["start", "-u", A] },
      { args: ["start", "-u", C, "-p", P1, "-t", T1] },
      { args: ["stop", "-u", B] },
    ],
  },
  {
    name: "callout-start-failure-post",
    covers: "§8.4 primary step failure: post gets state failure",
    host: { parents: std, scripts: [callout("log")] },
    cmds: [
      { args: ["start", "-u", A, "-p", P1, "-t", T2] },
      { args: ["start", "-u", A, "-p", P1, "-t", "nope"] },
    ],
  },
  {
    name: "callout-modify",
    covers: "§8.4 modify pre/post (stdin is the new config), veto keeps the old file",
    host: {
      parents: std,
      defined: [def(P1, A, T1, "manual", [{ x: "1" }]), def(P2, B, N1)],
      scripts: [callout("n-veto", { pre: 1, types: [N1] }), callout("z-log", { types: [T1] })],
    },
    cmds: [
      { args: ["modify", "-u", A, "--addattr", "y", "--value", "2"] },
      { args: ["modify", "-u", A, "--auto"] },
      { args: ["modify", "-u", B, "--auto"] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "callout-undefine",
    covers: "§5.2, §8.4 undefine pre/post; a vetoed undefine keeps the file",
    host: {
      parents: std,
      defined: [def(P1, A, T1), def(P2, A, N1), def(P2, B, N2)],
      scripts: [
        callout("veto-n1", { pre: 1, types: [N1] }),
        callout("zz-log", { types: [T1, N2] }),
      ],
    },
    cmds: [
      { args: ["undefine", "-u", B] },
      { args: ["undefine", "-u", A], diffs: ["undefine-failure-exit"] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "callout-attributes-list",
    covers: "§1.6 step 5, §8.6 get/attributes from a legacy script in the active listing",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }, { uuid: B, parent: P2, type: N1 }],
      scripts: [
        callout("attrs-i915", { types: [T1], attrs: '[{"gvt_weight": "4"}, {"low_gm": "128"}]' }),
        callout("attrs-nvidia", { types: [N1], attrs: "not json" }),
      ],
    },
    cmds: [
      { args: ["list", "-v"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "-u", A, "--dumpjson"] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  {
    name: "callout-define-running-attrs",
    covers: "§5.1 define of a running device appends the callout's attributes; bad JSON fails",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }, { uuid: B, parent: P2, type: N1 }],
      scripts: [
        callout("attrs-i915", { types: [T1], attrs: '[{"gvt_weight": "4"}]' }),
        callout("attrs-nvidia", { types: [N1], attrs: "not json" }),
      ],
    },
    cmds: [
      { args: ["define", "-u", A, "-a"] },
      { args: ["define", "-u", B] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
    diffs: ["define-running-attrs-order"],
    expectOursLog: [
      called("attrs-i915", `pre define none ${T1} ${P1} ${A}`, jsonA),
      called("attrs-i915", `post define success ${T1} ${P1} ${A}`, jsonA),
      called("attrs-nvidia", `pre define none ${N1} ${P2} ${B}`, jsonB),
      called("attrs-nvidia", `post define failure ${N1} ${P2} ${B}`, jsonB),
    ],
  },
  {
    name: "callout-dirs-primary",
    covers: "§8.1/8.5 ours runs /usr/lib/mdevctl/scripts.d callouts first, then the deprecated dir",
    host: {
      parents: std,
      scripts: [
        callout("50-veto-nvidia", { dir: "usrlib", pre: 1, types: [N1] }),
        callout("60-veto-i915", { dir: "etc", pre: 1, types: [T1] }),
        callout("70-log", { dir: "usrlib", types: [N2] }),
        notifier("notify-usrlib", "usrlib"),
      ],
    },
    diffs: ["callout-dirs"],
    cmds: [
      { args: ["define", "-u", A, "-p", P2, "-t", N1] },
      { args: ["define", "-u", B, "-p", P1, "-t", T1] },
      { args: ["define", "-u", C, "-p", P2, "-t", N2] },
      { args: ["list", "-d"], diffs: TXT },
    ],
  },
  // ------------------------------------------------------------ autostart, robustness
  {
    name: "start-parent-mdevs",
    covers: "§5.8 hidden autostart command: only auto devices of that parent, callouts run",
    host: {
      parents: std,
      defined: [
        def(P1, A, T1, "auto", [{ a: "1" }]),
        def(P1, B, T1, "manual"),
        def(P2, C, N1, "auto"),
      ],
      active: [{
        uuid: A,
        parent: "pending",
        type: "none",
        noTypeLink: true,
        attributes: { a: "" },
      }],
      scripts: [callout("log")],
    },
    cmds: [
      { args: ["start-parent-mdevs", P1] },
      { args: ["start-parent-mdevs", PMISS] },
    ],
  },
  {
    name: "corrupt-config",
    covers: "§0.6 one corrupt config: 1.2.0 aborts list -d, ours warns and lists the rest",
    host: {
      parents: std,
      defined: [def(P1, A, T1), { parent: P1, uuid: B, config: "{ truncated" }, def(P2, C, N1)],
    },
    cmds: [
      {
        args: ["list", "-d"],
        diffs: ["bad-file-skipped"],
        expectOurs: { status: 0, stdout: `${A} ${P1} ${T1} manual\n${C} ${P2} ${N1} manual\n` },
      },
      { args: ["list", "-d", "-p", P2], diffs: TXT },
      { args: ["modify", "-u", B, "--auto"] },
      { args: ["undefine", "-u", C] },
    ],
  },
  {
    name: "kernel-write-errors",
    covers: "§7 step 6/7, §5.5: create/remove/attribute writes that fail (EISDIR), rollback",
    host: {
      parents: [{ name: P1, types: { [T1]: { available: "2", createIsDir: true } } }, parent2],
      active: [
        { uuid: A, parent: P2, type: N1, removeIsDir: true },
        {
          uuid: B,
          parent: "pending",
          type: "none",
          noTypeLink: true,
          attributes: { ok: "" },
          attributeDirs: ["bad"],
        },
      ],
      defined: [def(P2, B, N2, "manual", [{ ok: "1" }, { bad: "2" }, { never: "3" }])],
    },
    cmds: [
      { args: ["start", "-u", C, "-p", P1, "-t", T1], sameError: true },
      { args: ["stop", "-u", A], sameError: true },
      { args: ["start", "-u", B], sameError: true },
    ],
  },
  {
    name: "types-broken-parent",
    covers: "§0.6, §5.7: a parent without mdev_supported_types or a garbled type file",
    host: {
      parents: [
        { name: P2, types: { [N1]: { available: "3" }, [N2]: { available: "abc" } } },
        parentNoSupport,
      ],
    },
    cmds: [
      {
        args: ["types"],
        diffs: ["bad-file-skipped"],
        expectOurs: {
          status: 0,
          stdout: `0000:00:03.0\n  ${N1}\n    Available instances: 3\n    Device API: vfio-pci\n`,
        },
      },
      {
        args: ["types", "-p", "0000:00:04.0"],
        diffs: ["bad-file-skipped"],
        expectOurs: { status: 0, stdout: "" },
      },
      { args: ["start", "-u", A, "-p", P2, "-t", N2], sameError: true },
      { args: ["start", "-u", A, "-p", P2, "-t", N1] },
    ],
  },
  {
    name: "no-self-check",
    covers: "§0.3: no /etc/mdevctl.d/scripts.d — 1.2.0 refuses everything, ours works",
    host: {
      parents: std,
      active: [{ uuid: A, parent: P1, type: T1 }],
      deprecatedScriptDirs: false,
    },
    cmds: [
      {
        args: ["list"],
        diffs: ["no-self-check"],
        expectOurs: { status: 0, stdout: `${A} ${P1} ${T1} manual\n` },
      },
      {
        args: ["list", "-d", "--dumpjson"],
        diffs: ["no-self-check"],
        expectOurs: { status: 0, stdout: "[]\n" },
      },
      { args: ["--version"], diffs: ["no-self-check"], expectOurs: { status: 0 } },
      {
        args: ["types", "-p", P3],
        diffs: ["no-self-check"],
        expectOurs: {
          status: 0,
          stdout: `${P3}\n  ${V1}\n    Available instances: 65535\n    Device API: vfio-ccw\n`,
        },
      },
    ],
  },
  {
    name: "negative-instances",
    covers: "§0.8, §16.7: available_instances -1 is no instances",
    host: { parents: [{ name: P1, types: { [T1]: { available: "-1" } } }] },
    cmds: [
      {
        args: ["start", "-u", A, "-p", P1, "-t", T1],
        diffs: ["negative-instances"],
        debianAlt: [],
        expectOurs: { status: 1, stdout: "" },
      },
    ],
  },
  {
    name: "force-without-failing-callout",
    covers:
      "§4.5 --force accepted by define/modify/start/stop/undefine; no effect when callouts pass",
    host: {
      parents: std,
      active: [{ uuid: B, parent: P2, type: N1 }],
      scripts: [callout("log")],
    },
    cmds: [
      {
        args: ["define", "-u", A, "-p", P1, "-t", T1, "--force"],
        diffs: ["force-option"],
        debianAlt: [["define", "-u", A, "-p", P1, "-t", T1]],
      },
      {
        args: ["modify", "-u", A, "--auto", "-f"],
        diffs: ["force-option"],
        debianAlt: [["modify", "-u", A, "--auto"]],
      },
      { args: ["start", "-u", A, "-f"], diffs: ["force-option"], debianAlt: [["start", "-u", A]] },
      { args: ["stop", "-f", "-u", B], diffs: ["force-option"], debianAlt: [["stop", "-u", B]] },
      {
        args: ["undefine", "--force", "-u", A],
        diffs: ["force-option"],
        debianAlt: [["undefine", "-u", A]],
      },
    ],
  },
  {
    name: "odd-entries-skipped",
    covers: "§1.5 step 4/5, §1.6 step 2/3: non-uuid names and half-created devices are skipped",
    host: {
      parents: std,
      active: [
        { uuid: A, parent: P1, type: T1 },
        { uuid: "invalid-uuid-value", parent: P1, type: T1 },
        { uuid: B, parent: P2, type: N1, noTypeLink: true },
      ],
      defined: [
        def(P1, C, T1),
        { parent: P1, uuid: "README", config: "not a config" },
        def(P2, D, N2),
      ],
    },
    cmds: [
      { args: ["list"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "-d"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["stop", "-u", A] },
    ],
  },
  {
    name: "list-many",
    covers:
      "§1.5, §1.6 a host with many devices (listings read the types' devices/ directories): running devices of two types, defined ones, half-created devices (running only: 1.2.0 fails list -d on a defined one, mdevctl.md §0.6)",
    host: {
      parents: std,
      active: [
        ...MANY.map((uuid, i) => ({ uuid, parent: P1, type: i % 3 === 0 ? T2 : T1 })),
        { uuid: B, parent: P1, type: T1, noTypeLink: true },
        { uuid: C, parent: P2, type: N1 },
        { uuid: D, parent: P2, type: N2, noTypeLink: true },
      ],
      defined: [
        ...MANY.filter((_, i) => i % 2 === 0).map((uuid, i) =>
          def(P1, uuid, MANY.indexOf(uuid) % 3 === 0 ? T2 : T1, i % 4 ? "manual" : "auto")
        ),
        def(P1, A, T2),
        def(P2, C, N1, "auto"),
      ],
    },
    cmds: [
      { args: ["list"], diffs: TXT },
      { args: ["list", "--dumpjson"] },
      { args: ["list", "--parent", P2], diffs: TXT },
      { args: ["list", "-d"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
    ],
  },
  {
    name: "config-rewrite",
    covers:
      "§2.2/2.3: hand-written configs (no attrs key, extra keys, odd start, trailing newline) are rewritten canonically",
    host: {
      parents: std,
      defined: [
        {
          parent: P1,
          uuid: A,
          config: `{"start":"auto","mdev_type":"${T1}","extra":{"x":[1,2]}}\n`,
        },
        {
          parent: P2,
          uuid: B,
          config: `{\n\t"mdev_type": "${N1}",\n\t"start": 5,\n\t"attrs": null\n}\n\n`,
        },
        {
          parent: P2,
          uuid: C,
          config:
            `{"mdev_type":"${N2}","start":"manual","attrs":[{"k":"v"}],"attrs":[{"dup":"last wins"}]}`,
        },
      ],
    },
    cmds: [
      { args: ["list", "-d", "-v"], diffs: TXT },
      { args: ["list", "-d", "--dumpjson"] },
      { args: ["modify", "-u", A, "--manual"] },
      { args: ["modify", "-u", B, "--addattr", "q", "--value", 'a"b\\c\té'] },
      { args: ["modify", "-u", C, "--delattr"] },
      { args: ["list", "-d", "-v"], diffs: TXT },
    ],
  },
  {
    name: "types-whitespace",
    covers: "§5.7 step 3: values trimmed, description newlines joined, empty name omitted",
    host: {
      parents: [{
        name: P1,
        types: {
          "t-spaces": {
            available: "  7 ",
            deviceApi: " vfio-pci\t",
            name: "  Spaced Name  \n",
            description: "\nfirst\n\nlast\n\n",
          },
          "t-empty": { available: "0", name: "\n", description: "\n" },
          "T-upper": { available: "1", name: "Upper\n", description: "one line\n" },
        },
      }],
    },
    cmds: [{ args: ["types"], diffs: TXT }, { args: ["types", "--dumpjson"] }],
  },
];

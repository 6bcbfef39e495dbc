/**
 * The one declaration of every command and option. Parsing, validation,
 * `--help`, the man page, the shell completions and the type of the options
 * each command receives (`OptionsOf`) are all derived from it. Purely
 * declarative: which module runs a command is lib/commands/registry.ts.
 */
import type { NameKind } from "../names.ts";
import { DEFAULT_POLL_INTERVAL_MS, DEFAULT_WAIT_SECONDS } from "../settings.ts";

/** What an option's value is; drives parsing and completion. */
export type ValueKind =
  | "UUID"
  | "PARENT"
  | "TYPE"
  | "FILE"
  | "NAME"
  | "VALUE"
  | "INDEX"
  | "SECONDS"
  | "MS"
  | "N"
  | "SOURCE";

/** Where `monitor --source` takes kernel events from (monitor.md §2.1). */
export const MONITOR_SOURCES = ["auto", "udevadm", "poll"] as const;

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes; also the key of the parsed value. */
  long: string;
  /** One-letter short name without the dash. */
  short?: string;
  /** Present when the option takes a value. */
  value?: ValueKind;
  /** The value is optional and only given as `--long=VALUE`; alone it is a flag. */
  optionalValue?: boolean;
  /** One line for help, man page and completions. */
  help: string;
  /** The command cannot run without it. */
  required?: boolean;
  /** Long names this option cannot be combined with. */
  conflicts?: readonly string[];
  /** Long names that must be present with this option. */
  requires?: readonly string[];
  /** The value becomes a path component: validated (mdevctl.md §0.4). */
  validate?: NameKind;
  /** Left out of help, man page and completions. */
  hidden?: boolean;
}

/** One positional argument of a command (start-parent-mdevs, the original commands). */
export interface PositionalSpec {
  /** Upper-case name, as help shows it and `ctx.positionals` keys it. */
  name: string;
  /** One line for help and the man page. */
  help: string;
  /** The command cannot run without it. */
  required: boolean;
  /** What it is, for validation and completion. */
  kind?: ValueKind;
}

/** One command: its name, texts, options and the rules between them. */
export interface CommandSpec {
  /** The subcommand as typed. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs for `--help` and the man page. */
  description?: string;
  /** Its options, in help order. */
  options: readonly OptionSpec[];
  /** Its positional arguments, in order. */
  positionals?: readonly PositionalSpec[];
  /** At least one of these long names must be given. */
  anyOf?: readonly string[];
  /** Exactly one of these long names must be given... */
  oneOf?: readonly string[];
  /** ...or all of one of these groups of them. */
  together?: readonly (readonly string[])[];
  /** Accepts -V/--version (`mdevctl-<name> <version>`). */
  version?: boolean;
  /** Not listed in help (still documented in the man page). */
  hidden?: boolean;
  /** One of the original 2019 commands: positional arguments, exit 1 on misuse. */
  legacy?: boolean;
}

// The helpers keep their literal types (`const` parameters), so that the
// options a command receives can be typed from the table.
type Extra = Partial<OptionSpec>;
const uuid = <const E extends Extra = Record<never, never>>(help: string, extra?: E) => ({
  long: "uuid" as const,
  short: "u",
  value: "UUID" as const,
  help,
  ...extra as E,
});
const parent = <const E extends Extra = Record<never, never>>(help: string, extra?: E) => ({
  long: "parent" as const,
  short: "p",
  value: "PARENT" as const,
  help,
  ...extra as E,
});
const type = <const E extends Extra = Record<never, never>>(help: string, extra?: E) => ({
  long: "type" as const,
  short: "t",
  value: "TYPE" as const,
  help,
  validate: "type" as const,
  ...extra as E,
});
const force = {
  long: "force",
  short: "f",
  help: "Go on even when a callout script refuses the operation (use with care)",
} as const;
const jsonfile = <const E extends Extra = Record<never, never>>(help: string, extra?: E) => ({
  long: "jsonfile" as const,
  value: "FILE" as const,
  help,
  ...extra as E,
});

/** The options apply and diff share (hostfile.md §1). */
const hostfileOptions = [
  {
    long: "file",
    short: "f",
    value: "FILE",
    help: "Host file to read (- for standard input)",
    required: true,
  },
  { long: "profile", value: "NAME", help: "Profile of the host file to use" },
  { long: "prune", help: "Also undefine managed devices the file no longer wants" },
  { long: "start", help: "Also start wanted auto devices (stop unwanted ones with --prune)" },
  { long: "dumpjson", help: "Print JSON" },
] as const;

const TABLE = [
  {
    name: "define",
    summary: "Define a persistent mediated device",
    description:
      "Stores a device definition in /etc/mdevctl.d/<parent>/<uuid>. With --uuid of a running " +
      "device the parent and type default to the running ones. Without --uuid a new uuid is " +
      "generated and printed.",
    options: [
      uuid("UUID of the device (generated and printed when left out)"),
      { long: "auto", short: "a", help: "Start the device automatically when its parent appears" },
      parent("Parent device name (as in /sys/class/mdev_bus)", { validate: "parent" }),
      type("Mediated device type", { conflicts: ["jsonfile"] }),
      jsonfile("Read type, start mode and attributes from this JSON config file", {
        conflicts: ["type", "auto"],
      }),
      force,
    ],
    anyOf: ["uuid", "parent"],
  },
  {
    name: "undefine",
    summary: "Remove the definition of a mediated device",
    description:
      "Deletes the stored definition. Without --parent every definition of the uuid is removed. " +
      "A running device keeps running.",
    options: [
      uuid("UUID of the device", { required: true }),
      parent("Only remove the definition under this parent", { validate: "parent" }),
      force,
    ],
  },
  {
    name: "modify",
    summary: "Change the definition of a mediated device",
    description:
      "Changes a stored definition: start mode, type or attributes, or replaces it from a JSON " +
      "file. With --live the change is applied to the running device by its callout script.",
    options: [
      uuid("UUID of the device", { required: true }),
      parent("Parent of the device, needed when the uuid is defined under several", {
        validate: "parent",
      }),
      type("New mediated device type", { conflicts: ["live"] }),
      {
        long: "addattr",
        value: "NAME",
        help: "Add an attribute with this name (needs --value)",
        requires: ["value"],
        validate: "attribute",
      },
      { long: "delattr", help: "Remove the attribute at --index, or the last one" },
      {
        long: "index",
        short: "i",
        value: "INDEX",
        help: "Position of the attribute to add or remove (from 0)",
        conflicts: ["auto", "manual", "live", "jsonfile"],
      },
      {
        long: "value",
        value: "VALUE",
        help: "Value of the attribute added with --addattr",
        requires: ["addattr"],
        conflicts: ["delattr", "auto", "manual", "live", "jsonfile"],
      },
      { long: "auto", short: "a", help: "Start the device automatically when its parent appears" },
      { long: "manual", short: "m", help: "Start the device only on request" },
      {
        long: "live",
        short: "l",
        help: "Change the running device (through its callout script)",
        requires: ["jsonfile"],
        conflicts: ["type"],
      },
      { long: "defined", short: "d", help: "With --live: change the stored definition too" },
      jsonfile("Replace the definition with this JSON config file", {
        conflicts: ["type"],
      }),
      force,
    ],
    oneOf: ["auto", "manual", "addattr", "delattr", "jsonfile"],
  },
  {
    name: "start",
    summary: "Start a mediated device",
    description:
      "Creates a running device: a defined one by --uuid, or a transient one from --parent and " +
      "--type or --jsonfile. Without --uuid a new uuid is generated and printed.",
    options: [
      uuid("UUID of the device (generated and printed when left out)"),
      parent("Parent device name", { validate: "parent" }),
      type("Mediated device type", { conflicts: ["jsonfile"] }),
      jsonfile("Start a transient device described by this JSON config file", {
        conflicts: ["type"],
      }),
      force,
      {
        long: "wait",
        value: "SECONDS",
        optionalValue: true,
        help:
          `Wait up to SECONDS (alone: $MDEVCTL_START_WAIT, else ${DEFAULT_WAIT_SECONDS}) for the ` +
          "parent to offer the type before creating",
      },
    ],
    anyOf: ["uuid", "parent"],
  },
  {
    name: "stop",
    summary: "Stop a running mediated device",
    description: "Removes the running device. Its definition, if any, stays.",
    options: [uuid("UUID of the device", { required: true }), force],
  },
  {
    name: "list",
    summary: "List mediated devices",
    description:
      "Lists running devices, or with --defined the stored definitions. --dumpjson prints JSON " +
      "in the config file format.",
    options: [
      { long: "defined", short: "d", help: "List defined devices instead of running ones" },
      { long: "dumpjson", help: "Print JSON" },
      { long: "verbose", short: "v", help: "Also print the attributes" },
      uuid("Only this device"),
      parent("Only devices of this parent"),
      {
        long: "vfio",
        help: "List NVIDIA vendor-VFIO GPUs and the vGPU on each VF instead (-p: one GPU)",
        conflicts: ["defined", "uuid", "verbose"],
      },
    ],
    version: true,
  },
  {
    name: "types",
    summary: "List the mediated device types of every parent",
    description: "Lists each parent device with the types it supports and their properties.",
    options: [
      parent("Only this parent"),
      { long: "dumpjson", help: "Print JSON" },
      {
        long: "vfio",
        help: "List NVIDIA vendor-VFIO GPUs and the vGPU types creatable on each VF instead",
      },
    ],
  },
  // Host files (docs/hostfile.md): a declarative desired state.
  {
    name: "apply",
    summary: "Make the host's mediated devices match a host file",
    description:
      "Reads a host file (YAML, version 1) and defines, modifies or adopts the devices it " +
      "wants, recording them in the owner's ledger under /var/lib/mdevctl/owners. With --prune " +
      "it also undefines managed devices the file no longer wants; with --start it starts the " +
      "wanted auto devices (and, with --prune, stops unwanted ones not in use). Devices it does " +
      "not manage are never touched. Exit status: 0 done, 4 done but something unsatisfiable, " +
      "1 error or a failed change, 130/143 interrupted. See mdevctl-hostfile(5).",
    options: [
      ...hostfileOptions,
      { long: "dry-run", help: "Only print the plan, as diff does" },
      {
        long: "enable-vfs",
        help: "Run sriov-manage -e for selected NVIDIA GPUs whose VFs are not enabled " +
          "($MDEVCTL_SRIOV_MANAGE overrides its path)",
      },
      { long: "keep-going", help: "Go on with independent changes after a failure" },
      {
        long: "force",
        help: "Go on even when a callout script refuses an operation (use with care)",
      },
    ],
  },
  {
    name: "diff",
    summary: "Show what apply would change (exit 3 on drift, 4 when unsatisfiable)",
    description:
      "Compares the host with a host file and prints one line per change apply would make, " +
      "then a summary. Writes nothing and takes no lock. Exit status: 0 in sync, 3 drift, " +
      "4 nothing to change but something unsatisfiable, 1 error.",
    options: [
      ...hostfileOptions,
      { long: "verbose", short: "v", help: "Also list the unmanaged definitions" },
    ],
  },
  {
    name: "export",
    summary: "Print the host's definitions as a host file",
    description:
      "Writes a version 1 host file with one explicit device per definition, sorted, every " +
      "string double-quoted. Applying it on the same host only adopts the devices.",
    options: [
      {
        long: "owner",
        value: "NAME",
        help: "Export for this owner (default: the one owner whose ledger holds devices, else " +
          "default)",
      },
      parent("Only definitions under this parent", { validate: "parent" }),
      { long: "managed", help: "Only devices in the owner's ledger", conflicts: ["unmanaged"] },
      { long: "unmanaged", help: "Only devices in no owner's ledger", conflicts: ["managed"] },
      { long: "active", help: "Also export running devices that have no definition" },
    ],
  },
  {
    name: "monitor",
    summary: "Print changes of definitions, devices and parents as they happen",
    description:
      "Follows /etc/mdevctl.d (inotify) and the kernel (udevadm monitor, or polling) and prints " +
      "one line per change: defined, modified, undefined, started, stopped, parent-registered, " +
      "parent-unregistered, and vgpu-assigned, vgpu-released for vGPUs on the VFs of NVIDIA " +
      "vendor-VFIO GPUs (seen promptly only with --source poll). It takes no lock and writes " +
      "nothing. SIGINT and SIGTERM end it with status 0.",
    options: [
      { long: "dumpjson", help: "Print one JSON object per line" },
      {
        long: "source",
        value: "SOURCE",
        help: "Kernel events from udevadm, poll, or auto (udevadm when it can run, else poll)",
      },
      {
        long: "poll-interval",
        value: "MS",
        help: `Milliseconds between two polls of sysfs (default ${DEFAULT_POLL_INTERVAL_MS})`,
      },
      { long: "snapshot", help: "First print the current state, then a synced event" },
      uuid("Only events of this device"),
      parent("Only events of this parent and its devices (or of this GPU's VFs)"),
      { long: "count", value: "N", help: "Exit after N device, parent or vGPU events" },
      { long: "timeout", value: "SECONDS", help: "Exit after SECONDS" },
    ],
  },
  {
    name: "wait",
    summary: "Wait until a parent, a type or a device is ready",
    description:
      "Exits 0 once the parent is registered (-p), offers the type (-t), has an instance " +
      "available (--capacity), or once the device runs with its vfio group (-u), or every " +
      "auto-start device does (--all-auto), or every NVIDIA vendor-VFIO GPU (-p: that one) has " +
      "its VFs enabled, each with its nvidia/ directory (--vfio). On timeout exits 1 with the " +
      "error start would give.",
    options: [
      parent("Wait for this parent to register with mdev", { validate: "parent" }),
      type("With --parent: wait for this type", { requires: ["parent"] }),
      {
        long: "capacity",
        help: "With --type: wait for an available instance too",
        requires: ["type"],
      },
      uuid("Wait for this device to run"),
      { long: "all-auto", help: "Wait for every device defined with start mode auto to run" },
      {
        long: "start-missing",
        help: "With --all-auto: start auto devices whose parent offers their type",
        requires: ["all-auto"],
      },
      {
        long: "vfio",
        help: "Wait for NVIDIA vendor-VFIO GPUs to have their VFs (with -p: that GPU)",
        conflicts: ["type", "capacity"],
      },
      {
        long: "timeout",
        value: "SECONDS",
        help: `Give up after SECONDS (default ${DEFAULT_WAIT_SECONDS})`,
      },
    ],
    oneOf: ["parent", "uuid", "all-auto", "vfio"],
    together: [["parent", "vfio"]],
  },
  {
    name: "start-parent-mdevs",
    summary: "Start the auto-start devices of a parent (run by udev)",
    description:
      "Starts every device defined with start mode auto under PARENT, in sorted order. " +
      "Devices already running are left alone. Waits for the parent to register its types.",
    options: [],
    positionals: [{ name: "PARENT", help: "Parent device name", required: true, kind: "PARENT" }],
    hidden: true,
  },
  {
    name: "list-all",
    summary: "Original command: every parent with every supported type",
    options: [],
    legacy: true,
  },
  {
    name: "list-available",
    summary: "Original command: parents and types that have instances available",
    options: [],
    legacy: true,
  },
  {
    name: "create-mdev",
    summary: "Original command: define a device (auto-start) and start it",
    options: [],
    positionals: [
      { name: "UUID", help: "UUID of the device", required: true, kind: "UUID" },
      { name: "PARENT", help: "Parent device name", required: true, kind: "PARENT" },
      { name: "TYPE", help: "Mediated device type", required: true, kind: "TYPE" },
    ],
    legacy: true,
  },
  {
    name: "list-mdevs",
    summary: "Original command: running devices, one `uuid parent type` line each",
    options: [],
    legacy: true,
  },
  {
    name: "stop-mdev",
    summary: "Original command: stop a running device, keeping its definition",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
  },
  {
    name: "start-mdev",
    summary: "Original command: start a defined device",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
  },
  {
    name: "list-saved",
    summary: "Original command: defined devices, one `uuid parent type` line each",
    options: [],
    legacy: true,
  },
  {
    name: "remove-mdev",
    summary: "Original command: stop a device if running, then remove its definition",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
  },
] as const satisfies readonly CommandSpec[];

/**
 * Every command, in the order help and the man page list them.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { COMMANDS } from "../../mod.ts";
 *
 * deepEqual(COMMANDS.find((c) => c.name === "list")?.version, true);
 * ```
 */
export const COMMANDS: readonly CommandSpec[] = TABLE;

/** The name of a command of the table. */
export type CommandName = (typeof TABLE)[number]["name"];

type SpecOf<N extends CommandName> = Extract<(typeof TABLE)[number], { name: N }>;
type OptionOf<N extends CommandName> = SpecOf<N>["options"][number];

/**
 * A flag is a boolean; a value option a string, present when required; an
 * optional value `true` when given alone.
 */
type OptionValue<O> = O extends { value: string }
  ? O extends { optionalValue: true } ? string | true | undefined
  : O extends { required: true } ? string
  : string | undefined
  : boolean;

/** The parsed options of command `N`, by long name, typed from its table entry. */
export type OptionsOf<N extends CommandName> = {
  readonly [O in OptionOf<N> as O["long"]]: OptionValue<O>;
};

/** The positional arguments of command `N`, by name, typed from its table entry. */
export type PositionalsOf<N extends CommandName> = SpecOf<N> extends
  { positionals: readonly (infer P extends PositionalSpec)[] } ? {
    readonly [Q in P as Q["name"]]: Q extends { required: true } ? string : string | undefined;
  }
  : Record<never, never>;

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The list command, which `lsmdev` is. */
export const LIST_COMMAND: CommandSpec = findCommand("list")!;

export const PROGRAM_SUMMARY = "Mediated device management utility";

/**
 * The one declaration of every command and option. Parsing, validation,
 * `--help`, the man page and the shell completions are all derived from it.
 */
import type { NameKind } from "../names.ts";
import type { CommandContext } from "./context.ts";

/** What an option's value is; drives parsing and completion. */
export type ValueKind = "UUID" | "PARENT" | "TYPE" | "FILE" | "NAME" | "VALUE" | "INDEX";

export interface OptionSpec {
  /** Long name without dashes; also the key of the parsed value. */
  long: string;
  short?: string;
  /** Present when the option takes a value. */
  value?: ValueKind;
  help: string;
  required?: boolean;
  /** Long names this option cannot be combined with. */
  conflicts?: readonly string[];
  /** Long names that must be present with this option. */
  requires?: readonly string[];
  /** The value becomes a path component: validated (decision §0.4). */
  validate?: NameKind;
  /** Left out of help, man page and completions. */
  hidden?: boolean;
}

export interface PositionalSpec {
  name: string;
  help: string;
  required: boolean;
  kind?: ValueKind;
}

export interface CommandModule {
  run(ctx: CommandContext): Promise<number | void>;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs for `--help` and the man page. */
  description?: string;
  options: readonly OptionSpec[];
  positionals?: readonly PositionalSpec[];
  /** At least one of these long names must be given. */
  anyOf?: readonly string[];
  /** Exactly one of these long names must be given. */
  oneOf?: readonly string[];
  /** Accepts -V/--version (`mdevctl-<name> <version>`). */
  version?: boolean;
  /** Not listed in help (still documented in the man page). */
  hidden?: boolean;
  /** One of the original 2019 commands: positional arguments, exit 1 on misuse. */
  legacy?: boolean;
  load(): Promise<CommandModule>;
}

const uuid = (help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  long: "uuid",
  short: "u",
  value: "UUID",
  help,
  ...extra,
});
const parent = (help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  long: "parent",
  short: "p",
  value: "PARENT",
  help,
  ...extra,
});
const type = (help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  long: "type",
  short: "t",
  value: "TYPE",
  help,
  validate: "type",
  ...extra,
});
const force: OptionSpec = {
  long: "force",
  short: "f",
  help: "Go on even when a callout script refuses the operation (use with care)",
};
const jsonfile = (help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  long: "jsonfile",
  value: "FILE",
  help,
  ...extra,
});

/** The options apply and diff share (hostfile.md §1). */
function hostfileOptions(extra: OptionSpec[]): OptionSpec[] {
  return [
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
    ...extra,
  ];
}

export const COMMANDS: readonly CommandSpec[] = [
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
    load: () => import("../commands/define.ts"),
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
    load: () => import("../commands/undefine.ts"),
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
    load: () => import("../commands/modify.ts"),
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
    ],
    anyOf: ["uuid", "parent"],
    load: () => import("../commands/start.ts"),
  },
  {
    name: "stop",
    summary: "Stop a running mediated device",
    description: "Removes the running device. Its definition, if any, stays.",
    options: [uuid("UUID of the device", { required: true }), force],
    load: () => import("../commands/stop.ts"),
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
    ],
    version: true,
    load: () => import("../commands/list.ts"),
  },
  {
    name: "types",
    summary: "List the mediated device types of every parent",
    description: "Lists each parent device with the types it supports and their properties.",
    options: [
      parent("Only this parent"),
      { long: "dumpjson", help: "Print JSON" },
    ],
    load: () => import("../commands/types.ts"),
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
      "not manage are never touched.",
    options: hostfileOptions([
      { long: "dry-run", help: "Only print the plan, as diff does" },
      { long: "keep-going", help: "Go on with independent changes after a failure" },
      {
        long: "force",
        help: "Go on even when a callout script refuses an operation (use with care)",
      },
    ]),
    load: () => import("../commands/apply.ts"),
  },
  {
    name: "diff",
    summary: "Show what apply would change (exit 3 on drift, 4 when unsatisfiable)",
    description:
      "Compares the host with a host file and prints one line per change apply would make, " +
      "then a summary. Writes nothing and takes no lock. Exit status: 0 in sync, 3 drift, " +
      "4 nothing to change but something unsatisfiable, 1 error.",
    options: hostfileOptions([
      { long: "verbose", short: "v", help: "Also list the unmanaged definitions" },
    ]),
    load: () => import("../commands/diff.ts"),
  },
  {
    name: "export",
    summary: "Print the host's definitions as a host file",
    description:
      "Writes a version 1 host file with one explicit device per definition, sorted, every " +
      "string double-quoted. Applying it on the same host only adopts the devices.",
    options: [
      { long: "owner", value: "NAME", help: "Owner written into the file (default: default)" },
      parent("Only definitions under this parent", { validate: "parent" }),
      {
        long: "managed",
        help: "Only devices in the owner's ledger",
        conflicts: ["unmanaged"],
      },
      { long: "unmanaged", help: "Only devices in no owner's ledger", conflicts: ["managed"] },
      { long: "active", help: "Also export running devices that have no definition" },
    ],
    load: () => import("../commands/export.ts"),
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
    load: () => import("../commands/start_parent_mdevs.ts"),
  },
  {
    name: "list-all",
    summary: "Original command: every parent with every supported type",
    options: [],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "list-available",
    summary: "Original command: parents and types that have instances available",
    options: [],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
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
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "list-mdevs",
    summary: "Original command: running devices, one `uuid parent type` line each",
    options: [],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "stop-mdev",
    summary: "Original command: stop a running device, keeping its definition",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "start-mdev",
    summary: "Original command: start a defined device",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "list-saved",
    summary: "Original command: defined devices, one `uuid parent type` line each",
    options: [],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
  {
    name: "remove-mdev",
    summary: "Original command: stop a device if running, then remove its definition",
    options: [],
    positionals: [{ name: "UUID", help: "UUID of the device", required: true, kind: "UUID" }],
    legacy: true,
    load: () => import("../commands/legacy.ts"),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The list command, which `lsmdev` is. */
export const LIST_COMMAND: CommandSpec = findCommand("list")!;

export const PROGRAM_SUMMARY = "Mediated device management utility";

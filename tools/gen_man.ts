/**
 * Writes the mdevctl(8) man page (roff) from the command table, so the page
 * documents exactly the commands and options the program parses.
 *
 * Usage: deno run --allow-read --allow-write tools/gen_man.ts [OUTFILE]
 * (default: print to stdout). SOURCE_DATE_EPOCH, when set, dates the page;
 * otherwise it carries no date, so rebuilding gives the same bytes.
 */
import {
  COMMANDS,
  type CommandSpec,
  type OptionSpec,
  PROGRAM_SUMMARY,
} from "../lib/cli/command_table.ts";
import { ACTIONS } from "../lib/callouts/protocol.ts";
import {
  CALLOUT_DIRS,
  CONFIG_BASE,
  CONFIG_STAGING,
  LOCK_FILE,
  MDEV_BASE,
  NOTIFIER_DIRS,
  OWNERS_DIR,
  PARENT_BASE,
} from "../lib/environment.ts";
import { DEFAULT_LOG_LEVEL, LOG_LEVELS } from "../lib/logger.ts";
import {
  DEFAULT_AUTOSTART_WAIT,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_WAIT_SECONDS,
} from "../lib/settings.ts";
import { VERSION } from "../lib/version.ts";
import { inline } from "./gen_doc_man.ts";

/** The facts the page states, taken from the code that acts on them. */
const LOCK = `/${LOCK_FILE}`;
const CONFIGS = `/${CONFIG_BASE}`;
const DEVICES = `/${MDEV_BASE}`;
const PARENTS = `/${PARENT_BASE}`;
const [CALLOUTS, OLD_CALLOUTS] = CALLOUT_DIRS.map((dir) => `/${dir}`);
const [NOTIFIERS, OLD_NOTIFIERS] = NOTIFIER_DIRS.map((dir) => `/${dir}`);
const TIMEOUT_SECONDS = DEFAULT_TIMEOUT_MS / 1000;
const OWNERS = `/${OWNERS_DIR}`;
const STAGING = `/${CONFIG_STAGING}`;

/** The reference of host files, whose exit status table this page repeats. */
const HOSTFILE_DOC = new URL("../docs/hostfile.md", import.meta.url);

/** Escapes text for roff: backslashes, and a leading `.` or `'` (control lines). */
export function roffText(text: string): string {
  const escaped = text.replaceAll("\\", "\\e").replaceAll("-", "\\-");
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** Prose keeps its hyphens as hyphens; only backslashes and line starts matter. */
function prose(text: string): string {
  const escaped = text.replaceAll("\\", "\\e");
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

const bold = (s: string) => `\\fB${roffText(s)}\\fR`;
const italic = (s: string) => `\\fI${roffText(s)}\\fR`;

function optionHead(option: OptionSpec): string {
  const names = [
    ...(option.short ? [bold(`-${option.short}`)] : []),
    bold(`--${option.long}`),
  ].join(", ");
  if (option.value && option.optionalValue) return `${names}[=${italic(option.value)}]`;
  return option.value ? `${names} ${italic(option.value)}` : names;
}

const longs = (names: readonly string[]) => names.map((n) => `\\-\\-${n}`).join(", ");

/** The option's help plus the rules the parser enforces for it. */
function optionBody(option: OptionSpec): string {
  const notes = [prose(option.help.replace(/\.?$/, "."))];
  if (option.required) notes.push("Required.");
  if (option.requires?.length) notes.push(`Needs ${longs(option.requires)}.`);
  if (option.conflicts?.length) notes.push(`Cannot be combined with ${longs(option.conflicts)}.`);
  return notes.join(" ");
}

function visibleOptions(command: CommandSpec): OptionSpec[] {
  return command.options.filter((o) => !o.hidden);
}

function synopsis(command: CommandSpec, program = `mdevctl ${command.name}`): string {
  const parts = [bold(program)];
  for (const option of visibleOptions(command)) {
    const flag = option.short ? `-${option.short}` : `--${option.long}`;
    const text = option.value && option.optionalValue
      ? `${bold(`--${option.long}`)}[=${italic(option.value)}]`
      : option.value
      ? `${bold(flag)} ${italic(option.value)}`
      : bold(flag);
    parts.push(option.required ? text : `[${text}]`);
  }
  for (const p of command.positionals ?? []) {
    parts.push(p.required ? italic(p.name) : `[${italic(p.name)}]`);
  }
  return parts.join(" ");
}

function commandSection(command: CommandSpec): string[] {
  const summary = command.summary.replace(/^Original command: /, "");
  const out = [
    `.SS ${roffText(command.name)}`,
    synopsis(command),
    ".PP",
    prose(summary.charAt(0).toUpperCase() + summary.slice(1)) + ".",
  ];
  if (command.description) out.push(".PP", prose(command.description));
  if (command.anyOf?.length) {
    out.push(".PP", `At least one of ${longs(command.anyOf)} must be given.`);
  }
  if (command.oneOf?.length) {
    const together = (command.together ?? []).map((g) => ` (or ${longs(g)} together)`).join("");
    out.push(".PP", `Exactly one of ${longs(command.oneOf)} must be given${together}.`);
  }
  for (const p of command.positionals ?? []) {
    out.push(".TP", italic(p.name), prose(p.help.replace(/\.?$/, ".")));
  }
  for (const option of visibleOptions(command)) {
    out.push(".TP", optionHead(option), optionBody(option));
  }
  out.push(".TP", `${bold("-h")}, ${bold("--help")}`, "Print the help of this command.");
  if (command.version) {
    out.push(".TP", `${bold("-V")}, ${bold("--version")}`, "Print the version.");
  }
  return out;
}

/**
 * Every option once, alphabetically, with the commands that accept it. Where
 * commands give an option different meanings, each meaning is listed.
 */
function optionIndex(): string[] {
  const byLong = new Map<string, { option: OptionSpec; uses: [string, string][] }>();
  for (const command of COMMANDS) {
    for (const option of visibleOptions(command)) {
      const entry = byLong.get(option.long) ?? { option, uses: [] };
      entry.uses.push([command.name, option.help.replace(/\.?$/, ".")]);
      byLong.set(option.long, entry);
    }
  }
  const out: string[] = [];
  for (const long of [...byLong.keys()].sort()) {
    const { option, uses } = byLong.get(long)!;
    const helps = new Set(uses.map(([, help]) => help));
    const text = helps.size === 1
      ? `${prose(uses[0]![1])} Accepted by: ${uses.map(([name]) => bold(name)).join(", ")}.`
      : uses.map(([name, help]) => `${bold(name)}: ${prose(help)}`).join(" ");
    out.push(".TP", optionHead(option), text);
  }
  out.push(
    ".TP",
    `${bold("-h")}, ${bold("--help")}`,
    "Print help, for the program or for one command.",
    ".TP",
    `${bold("-V")}, ${bold("--version")}`,
    `Print the version (${bold("mdevctl")} and ${bold("list")} only).`,
  );
  return out;
}

/** A block of literal text (examples, file contents). */
function example(lines: string[]): string[] {
  return [".PP", ".RS 4", ".nf", ...lines.map((l) => roffText(l)), ".fi", ".RE"];
}

function para(...texts: string[]): string[] {
  return texts.flatMap((t) => [".PP", t]);
}

function item(head: string, ...body: string[]): string[] {
  return [".TP", head, ...body];
}

/**
 * The exit statuses of the host-file commands, by command, from the table
 * under "## Exit status" in docs/hostfile.md (declared there once).
 */
export function hostfileExitStatus(markdown: string): Map<string, [string, string][]> {
  const section = markdown.split(/^## Exit status$/m)[1]?.split(/^## /m)[0] ?? "";
  const rows = section.split("\n").filter((l) => l.startsWith("|"))
    .map((l) => l.slice(1, -1).split("|").map((c) => c.trim()));
  const [head, , ...body] = rows;
  if (head === undefined || body.length === 0) {
    throw new Error("docs/hostfile.md: no exit status table under ## Exit status");
  }
  const byCommand = new Map<string, [string, string][]>();
  head.slice(1).forEach((title, i) => {
    const entries = body.filter((row) => row[i + 1]).map((row): [string, string] => [
      row[0]!,
      row[i + 1]!,
    ]);
    byCommand.set(title.replace(/`/g, ""), entries);
  });
  return byCommand;
}

/** EXIT STATUS: what every command shares, then what each adds or narrows. */
function exitStatus(hostfileDoc: string): string[] {
  const sentence = (text: string) => inline(text.charAt(0).toUpperCase() + text.slice(1)) + ".";
  const timedOut = bold("timed out after") + " " + italic("S") + " " + bold("s waiting for") +
    " " + italic("PATH");
  const out = [
    ".SH EXIT STATUS",
    ...para("Every command exits with one of these:"),
    ...item(bold("0"), "Success."),
    ...item(
      bold("1"),
      "The command failed; the reason is printed on standard error, in a block starting " +
        "with " + bold("Error:") + ".",
    ),
    ...item(
      bold("2"),
      "The command line was wrong (unknown command or option, missing or conflicting options). " +
        bold("mdevctl") + " without a command prints its help on standard error and exits 2.",
    ),
    ...para("Some commands narrow these or add others:"),
    ".SS define, undefine, modify, stop, list, types",
    ...para("0, 1 and 2 as above."),
    ".SS start",
    ...para(
      "0, 1 and 2 as above. With " + bold("--wait") + ", a parent or type that does not appear " +
        "in time exits 1 with the error " + bold("start") + " gives without waiting, then the " +
        `cause ${timedOut}.`,
    ),
    ".SS wait",
    ...item(bold("0"), "The parent, type, capacity or device is ready."),
    ...item(
      bold("1"),
      `Not ready within the timeout (default ${DEFAULT_WAIT_SECONDS} seconds): the error ` +
        bold("start") + " would give (such as " +
        bold("Parent P is not currently registered for mdev support") + "), then the cause " +
        `${timedOut}; or another error.`,
    ),
    ...item(bold("2"), "Usage error."),
    ".SS monitor",
    ...item(
      bold("0"),
      "Ended by SIGINT or SIGTERM, by " + bold("--count") + " or " + bold("--timeout") +
        ", or because the reader closed the pipe.",
    ),
    ...item(bold("1"), "Error."),
    ...item(bold("2"), "Usage error."),
  ];
  for (const [command, entries] of hostfileExitStatus(hostfileDoc)) {
    out.push(`.SS ${command}`);
    for (const [status, text] of entries) out.push(...item(bold(status), sentence(text)));
  }
  out.push(
    ...para("See " + bold("mdevctl-hostfile") + "(5) for when each applies."),
    ".SS start-parent-mdevs",
    ...para(
      "0 also when a device failed to start: each failure is reported on standard error " +
        "and the other devices are still started. 1 when the command itself fails.",
    ),
    ".SS Original commands",
    ...para(
      "0 and 1 as above; a wrong number of arguments prints a usage line and exits 1, not 2.",
    ),
  );
  return out;
}

export function renderMan(date = "", hostfileDoc = Deno.readTextFileSync(HOSTFILE_DOC)): string {
  const current = COMMANDS.filter((c) => !c.legacy);
  const legacy = COMMANDS.filter((c) => c.legacy);
  const lines: string[] = [
    '.\\" Generated by tools/gen_man.ts from lib/cli/command_table.ts; do not edit.',
    `.TH MDEVCTL 8 "${date}" "mdevctl ${VERSION}" "System Administration"`,
    ".SH NAME",
    `mdevctl, lsmdev \\- ${prose(PROGRAM_SUMMARY.toLowerCase())}`,
    ".SH SYNOPSIS",
    `${bold("mdevctl")} ${italic("COMMAND")} [${italic("OPTIONS")}]`,
    ".br",
    `${bold("lsmdev")} [${italic("OPTIONS")}]`,
    ".SH DESCRIPTION",
    ...para(
      "mdevctl manages mediated devices (mdevs): virtual devices that a parent device, such " +
        "as a GPU, a network adapter, an s390 channel subsystem or the AP matrix, creates on " +
        "request through the kernel's mdev framework, usually to hand them to a virtual machine " +
        "with VFIO.",
      "A device is identified by its UUID. It can be " + italic("running") +
        ` (it exists in sysfs under ${DEVICES}) and it can be ` + italic("defined") +
        " (a configuration file describes it, so it can be started again later, and " +
        "automatically when its parent appears if its start mode is " + bold("auto") + ").",
      `${bold("lsmdev")} is another name for ${bold("mdevctl list")} and takes the same options.`,
      "Options are given in long form (" + bold("--uuid") + " " + italic("UUID") + " or " +
        bold("--uuid=") + italic("UUID") + ") or, where one exists, in short form (" +
        bold("-u") + " " + italic("UUID") + "). Parent names are the kernel's names as shown " +
        `in ${PARENTS} and are case sensitive. UUIDs are accepted in any case, with or ` +
        "without hyphens and braces, and are always printed in lower case.",
    ),
    ".SH COMMANDS",
  ];
  for (const command of current) {
    lines.push(...commandSection(command));
    if (command.hidden) {
      lines.push(
        ".PP",
        "This command is not listed by " + bold("--help") + ": the udev rule or the " +
          "systemd unit runs it (see " + bold("AUTOMATIC START") + ").",
      );
    }
  }
  lines.push(
    ".SH ORIGINAL COMMANDS",
    ...para(
      "The first mdevctl (2019) had commands taking positional arguments. They still work, " +
        "mapped onto today's model; a wrong number of arguments prints a usage message and " +
        "exits with status 1. " + bold("list-mdevs") + " and " + bold("list-saved") +
        " print one line " + italic("uuid parent type") + " per device; " + bold("list-all") +
        " and " + bold("list-available") + " print each parent with its types in the original " +
        "layout. Definitions are shared with the commands above.",
    ),
  );
  for (const command of legacy) lines.push(...commandSection(command));
  lines.push(
    ".SH OPTIONS",
    ...para("Every option, with the commands that accept it:"),
    ...optionIndex(),
    ".SH DEVICE SPECIFICATION",
    ...para(
      "At most one running device can have a given UUID, but the same UUID may be defined under " +
        "several parents. Commands that act on one definition then need " + bold("--parent") +
        ". Starting a defined device by UUID alone needs a single definition.",
    ),
    ".SH CONFIGURATION FILE FORMAT",
    ...para(
      `Each defined device is a file ${CONFIGS}/` + italic("PARENT") + "/" + italic("UUID") +
        " holding a JSON object. " + bold("mdev_type") + " names the type, " + bold("start") +
        " is " + bold("auto") + " or " + bold("manual") + ", and " + bold("attrs") +
        " is an array of one-member objects, each naming a sysfs attribute of the device and " +
        "the value written to it when the device starts, in order. The same object is what " +
        bold("--jsonfile") + " reads and what " + bold("list --dumpjson") + " prints per device:",
    ),
    ...example([
      "{",
      '  "mdev_type": "nvidia-63",',
      '  "start": "auto",',
      '  "attrs": [',
      '    {"nvidia/vgpu_params": "frame_rate_limiter=0"}',
      "  ]",
      "}",
    ]),
    ...para(
      "Files are written atomically (a temporary file renamed into place) while holding the " +
        `lock ${LOCK}. A plain text file holding just a type name (written by the ` +
        "original mdevctl) is read as a device with that type and start mode auto.",
    ),
    ".SH CALLOUT SCRIPTS",
    ...para(
      `Executable files in ${CALLOUTS} (and, deprecated, in ` +
        `${OLD_CALLOUTS}) are run around every change of a device so that ` +
        "vendor software can check, prepare or refuse it. They run in file name order, directly " +
        "(not through a shell), with these arguments:",
    ),
    ...example([
      "SCRIPT -t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT",
    ]),
    ...item(bold("-t") + " " + italic("TYPE"), "The mdev type of the device."),
    ...item(
      bold("-e") + " " + italic("EVENT"),
      bold("pre") + " before the change (a failure refuses it), " + bold("post") +
        " after it, " + bold("get") + " to ask for attributes or capabilities, " + bold("live") +
        " to change a running device, " + bold("notify") + " for notifier scripts.",
    ),
    ...item(
      bold("-a") + " " + italic("ACTION"),
      "One of " + ACTIONS.map(bold).join(", ") + ".",
    ),
    ...item(
      bold("-s") + " " + italic("STATE"),
      bold("none") + " before the change, " + bold("success") + " or " + bold("failure") +
        " after it.",
    ),
    ...item(bold("-u") + " " + italic("UUID"), "The device's UUID, lower case."),
    ...item(bold("-p") + " " + italic("PARENT"), "The parent device's name."),
    ...para(
      "For pre and post events the device's configuration (the JSON object above, on one line) " +
        "is written to the script's standard input; for a live modify, the new configuration. " +
        "A script that answers the capabilities query (event get, action capabilities) with a " +
        "JSON object whose " + bold("supports") + " member lists its version, actions and " +
        "events is the one script used for that parent and type; otherwise every script is " +
        "tried until one does not exit with 2. For get attributes the script prints the " +
        bold("attrs") + " array of the running device.",
    ),
    ".SS Exit status of scripts",
    ...item(bold("0"), "Success; the operation goes on."),
    ...item(
      bold("1"),
      "Error: a pre script refuses the operation (unless " + bold("--force") +
        " is given), any other script makes the command fail.",
    ),
    ...item(
      bold("2"),
      "The script does not handle this device type; the next script is tried. A live " +
        "modify answered with 2 fails, reporting that the change is not supported.",
    ),
    ".SS Timeout",
    ...para(
      "Each script run may take at most " + bold("MDEVCTL_CALLOUT_TIMEOUT") +
        ` seconds (default ${TIMEOUT_SECONDS}, 0 waits forever); a script that takes longer ` +
        "is killed and counts as failed, as does a script killed by a signal.",
    ),
    ".SS Notifiers",
    ...para(
      `Executable files in ${NOTIFIERS} (and, deprecated, ` +
        `${OLD_NOTIFIERS}) are all run with event ` + bold("notify") +
        " after every action, with the arguments above and nothing on standard input. Their " +
        "exit status and output are ignored.",
    ),
    ".SH AUTOMATIC START",
    ...para(
      "The udev rule 60-mdevctl.rules reacts when a parent device that has a directory " +
        `${CONFIGS}/` + italic("PARENT") + " registers with the mdev core. On systems " +
        "running systemd it pulls in " + bold("mdevctl-autostart@.service") + " for the parent, " +
        "which runs " + bold("mdevctl start-parent-mdevs") + " " + italic("PARENT") +
        "; elsewhere udev runs that command itself. It starts every device of the parent " +
        "defined with start mode auto, in UUID order, leaving running ones alone, and waits up " +
        "to " + bold("MDEVCTL_AUTOSTART_WAIT") + " seconds for the parent's types to appear.",
      "The template unit " + bold("mdev@") + italic("UUID") + bold(".service") +
        " starts and stops one defined device, so that other units, such as a virtual machine, " +
        "can depend on it with Requires= and After=. It waits up to " +
        bold("MDEVCTL_START_WAIT") + " seconds for the parent to offer the type.",
      "The opt-in unit " + bold("mdevctl-wait-online.service") + ", installed disabled, runs " +
        bold("mdevctl wait --all-auto --start-missing") + " before libvirt starts, so that " +
        "guests find the auto-start devices of parents that register late; order it after " +
        "the vendor daemon that creates them with a drop-in.",
      "An optional rule, 61-mdevctl-record.rules, installed under /usr/share/mdevctl and not " +
        "active until copied to /etc/udev/rules.d, defines every new mediated device with start " +
        "mode auto, as the original mdevctl did.",
    ),
    ".SH NVIDIA VGPU WITHOUT MDEV",
    ...para(
      "On Ada, Hopper and newer NVIDIA GPUs, vGPU software 17 and later uses no mdev: each GPU " +
        "is an SR-IOV physical function bound to nvidia, and a vGPU is a numeric type id " +
        "written to one of its virtual functions (nvidia/current_vgpu_type). The 1.x commands " +
        "never show these vGPUs and their output is unchanged. " + bold("types --vfio") +
        " and " + bold("list --vfio") + " list the GPUs, their VFs, the types creatable on each " +
        "and the current assignments; a host-file pool whose parents select such GPUs places " +
        "vGPUs on free VFs (sticky, owned VFs only, never an open one), and " +
        bold("apply --enable-vfs") + " runs sriov-manage -e for GPUs whose VFs are disabled; " +
        bold("wait --vfio") + " waits for the VFs at boot; " + bold("monitor") +
        " reports vgpu-assigned and vgpu-released events. See mdevctl-hostfile(5). This is " +
        "built on NVIDIA's documented interface and has not run on NVIDIA hardware here.",
    ),
    ".SH SANDBOX",
    ...para(
      "The installed " + bold("mdevctl") + " and " + bold("lsmdev") + " are a launcher that " +
        "runs the program with Deno permissions scoped to its work, never with all of them. " +
        "It may read and write sysfs, /etc/mdevctl.d, /etc/.mdevctl.d.staging (where config " +
        "writes stage their temporary files), /run/lock, /var/lib/mdevctl and /dev/vfio (the " +
        "in-use check of apply); read " +
        "the script directories and the files named on its command line; run the callout " +
        "and notifier scripts present when it starts, and " + bold("udevadm") + "; read " +
        "environment variables whose names start with MDEVCTL_. No network, no foreign " +
        "functions, no system information.",
      "Deno refuses paths under /sys, and device files under /dev, to a program without every " +
        "permission, so the launcher binds /sys to /usr/lib/mdevctl/sysfs and /dev to " +
        "/usr/lib/mdevctl/dev the first time root runs it, and leaves the binds there; the " +
        "program reaches sysfs and /dev/vfio through them (nothing else of /dev), and messages " +
        "still name /sys and /dev. The systemd units make those binds with BindPaths=. Scripts " +
        "see /sys, /dev and everything else " +
        "at their usual places. A user other than root, before root has made the bind, gets " +
        "it in a user namespace for the one command, under the own uid; where none can be " +
        "made, the program runs with every permission, which grants nothing the kernel does " +
        "not refuse that user anyway. When root's sandbox cannot be set up, the command fails " +
        "with one line saying why.",
    ),
    ".SH ENVIRONMENT",
    ...item(
      bold("MDEVCTL_ENV_ROOT"),
      "When set, every path mdevctl uses, sysfs included, is taken relative to this directory " +
        "instead of /. Meant for testing.",
    ),
    ...item(
      bold("MDEVCTL_LOG"),
      "Log level or filter for messages on standard error: " +
        LOG_LEVELS.filter((level) => level !== "off").map(bold).join(", ") +
        ", optionally per module (" + bold("mdevctl::callouts=debug") + "). Default " +
        bold(DEFAULT_LOG_LEVEL) + ".",
    ),
    ...item(
      bold("MDEVCTL_CALLOUT_TIMEOUT"),
      `Seconds a callout or notifier script may run (default ${TIMEOUT_SECONDS}; 0 means no limit).`,
    ),
    ...item(
      bold("MDEVCTL_AUTOSTART_WAIT"),
      "Seconds " + bold("start-parent-mdevs") + " waits for a parent that registers late and " +
        `for its types (default ${DEFAULT_AUTOSTART_WAIT}).`,
    ),
    ...item(
      bold("MDEVCTL_START_WAIT"),
      "Seconds " + bold("start --wait") + " without a value waits for the parent to offer the " +
        "type (default 90).",
    ),
    ...item(
      bold("MDEVCTL_SRIOV_MANAGE"),
      "The program " + bold("apply --enable-vfs") + " runs to enable a GPU's VFs (default " +
        "/usr/lib/nvidia/sriov-manage).",
    ),
    ".SH FILES",
    ...item(`${CONFIGS}/` + italic("PARENT") + "/" + italic("UUID"), "Device definitions."),
    ...item(
      `${CALLOUTS}, ${NOTIFIERS}`,
      "Callout and notifier scripts. mdevctl always looks here, whatever prefix it was " +
        "installed with.",
    ),
    ...item(
      `${OLD_CALLOUTS}, ${OLD_NOTIFIERS}`,
      "Deprecated script directories, used after the ones above.",
    ),
    ...item(
      STAGING,
      "Temporary files of definitions being written, renamed into place when complete, so " +
        "that programs watching " + CONFIGS + " see only whole files.",
    ),
    ...item(
      `${OWNERS}/` + italic("OWNER") + ".json",
      "The ledger of each host file owner: which definitions " + bold("mdevctl apply") +
        " made for it, from which rule (see " + bold("mdevctl-hostfile") + "(5)). The 1.x " +
        "commands only read it, to warn before changing such a definition.",
    ),
    ...item(LOCK, "Serialises commands that change definitions or devices."),
    ...item(
      "/var/cache/mdevctl/deno",
      "Deno's cache of the installed program (its compiled code), for root and the systemd " +
        "units. Deleting its contents only makes starts slower until an installation warms " +
        "it again.",
    ),
    ...item(
      `${DEVICES}, ${PARENTS}`,
      "Running devices and parent devices, as the kernel shows them.",
    ),
    ...item(
      "/usr/lib/mdevctl/sysfs, /usr/lib/mdevctl/dev",
      "Where the launcher binds /sys and /dev for the program (see " + bold("SANDBOX") + ").",
    ),
    ...item(
      "60-mdevctl.rules, mdev@.service, mdevctl-autostart@.service, " +
        "mdevctl-wait-online.service, /usr/share/mdevctl/61-mdevctl-record.rules",
      "The udev rules and systemd units of " + bold("AUTOMATIC START") + ".",
    ),
    ...exitStatus(hostfileDoc),
    ".SH EXAMPLES",
    ...para("Show the types a parent supports:"),
    ...example(["mdevctl types --parent 0000:00:02.0"]),
    ...para("Define a device that starts whenever its parent appears, then start it now:"),
    ...example([
      "mdevctl define --auto --parent 0000:00:02.0 --type i915-GVTg_V5_4",
      "mdevctl start --uuid UUID",
    ]),
    ...para("Add an attribute, then show the definitions with their attributes:"),
    ...example([
      "mdevctl modify --uuid UUID --addattr=assign_adapter --value=5",
      "mdevctl list --defined --verbose",
    ]),
    ...para("Keep a running device: define it from what is running:"),
    ...example(["mdevctl define --uuid UUID"]),
    ...para("Let a virtual machine's unit depend on a device:"),
    ...example([
      "[Unit]",
      "Requires=mdev@UUID.service",
      "After=mdev@UUID.service",
    ]),
    ".SH SEE ALSO",
    `${bold("mdevctl-hostfile")}(5), ${bold("udev")}(7), ${bold("udevadm")}(8), ` +
      `${bold("systemd.service")}(5), ` +
      `${bold("systemd-escape")}(1), ${bold("driverctl")}(8)`,
  );
  return lines.join("\n") + "\n";
}

function pageDate(): string {
  let epoch: string | undefined;
  try {
    epoch = Deno.env.get("SOURCE_DATE_EPOCH");
  } catch {
    epoch = undefined; // no --allow-env: an undated page
  }
  if (!epoch || !/^\d+$/.test(epoch)) return "";
  return new Date(Number(epoch) * 1000).toISOString().slice(0, 10);
}

if (import.meta.main) {
  const text = renderMan(pageDate());
  const out = Deno.args[0];
  if (out) await Deno.writeTextFile(out, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
}

/**
 * Command-line parsing driven by the command table, clap-style (mdevctl.md §4.2):
 * `--name value`, `--name=value`, `-u value`, `-uvalue`, bundled flags
 * (`-dvu<uuid>`), each option at most once, help before any other check.
 *
 * A hand-written tokenizer rather than `node:util` parseArgs: importing the
 * node compatibility layer adds ~9 ms to every start (measured), and callers
 * such as udev and libvirt run the tool often.
 */
import { UsageError } from "../errors.ts";
import { checkName } from "../names.ts";
import { parseUuid } from "../uuid.ts";
import {
  CommandSpec,
  findCommand,
  LIST_COMMAND,
  MONITOR_SOURCES,
  OptionSpec,
} from "./command_table.ts";
import type { ParsedArgs } from "./context.ts";
import { VERSION } from "../version.ts";
import { commandUsage, optionLabel } from "./help.ts";

export type ParseOutcome =
  | { kind: "help"; command: CommandSpec | undefined; toStderr?: boolean }
  | { kind: "version"; text: string }
  | { kind: "run"; command: CommandSpec; args: ParsedArgs };

/** Misuse of an original (2019) command: usage on stderr, exit 1. */
export class LegacyUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LegacyUsageError";
  }
}

const HELP: OptionSpec = { long: "help", short: "h", help: "Print help" };
const VERSION_OPT: OptionSpec = { long: "version", short: "V", help: "Print version" };

/** Parses the whole command line for `mdevctl` or `lsmdev`. */
export function parseCommandLine(argv: readonly string[], program: string): ParseOutcome {
  if (program === "lsmdev") return parseCommand(LIST_COMMAND, argv, "lsmdev");
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: "help", command: undefined, toStderr: true };
  if (first === "-h" || first === "--help") return { kind: "help", command: undefined };
  if (first === "-V" || first === "--version") {
    return { kind: "version", text: `mdevctl ${VERSION}` };
  }
  if (first === "help") {
    const target = rest[0];
    if (target === undefined) return { kind: "help", command: undefined };
    const command = findCommand(target);
    if (!command) {
      throw new UsageError(`unrecognized subcommand '${target}'`, "mdevctl help [COMMAND]");
    }
    return { kind: "help", command };
  }
  const command = findCommand(first);
  if (!command) {
    const what = first.startsWith("-") ? "unexpected argument" : "unrecognized subcommand";
    throw new UsageError(`${what} '${first}' found`, "mdevctl <COMMAND>");
  }
  return parseCommand(command, rest, "mdevctl");
}

interface Token {
  option: OptionSpec;
  value: string | undefined;
}

/** The words of a command line sorted into options and positionals, errors kept for later. */
interface Scan {
  tokens: Token[];
  positionals: string[];
  /** Collected, not thrown: --help anywhere wins (libvirt's probe). */
  errors: string[];
  helpSeen: boolean;
  versionSeen: boolean;
}

/** Parses the arguments of one command. */
export function parseCommand(
  command: CommandSpec,
  argv: readonly string[],
  program: string,
): ParseOutcome {
  const known = [...command.options, HELP, ...(command.version ? [VERSION_OPT] : [])];
  const byLong = new Map(known.map((o) => [o.long, o]));
  const byShort = new Map(known.filter((o) => o.short).map((o) => [o.short!, o]));
  const usage = commandUsage(command, program);
  const scan = scanWords(argv, byLong, byShort);
  const { tokens, positionals, errors } = scan;

  if (scan.helpSeen) return { kind: "help", command };
  if (command.legacy) return legacyArgs(command, errors.length > 0 ? null : tokens, positionals);
  if (errors.length > 0) throw new UsageError(errors[0]!, usage);
  if (scan.versionSeen) {
    const name = program === "lsmdev" ? "lsmdev" : `mdevctl-${command.name}`;
    return { kind: "version", text: `${name} ${VERSION}` };
  }
  const options = new Map<string, string | true>();
  for (const t of tokens) {
    if (options.has(t.option.long)) {
      throw new UsageError(
        `the argument '${optionLabel(t.option)}' cannot be used multiple times`,
        usage,
      );
    }
    options.set(t.option.long, t.value === undefined ? true : checkValue(t.option, t.value, usage));
  }
  checkArguments(command, options, positionals, byLong, usage);
  return { kind: "run", command, args: { options, positionals } };
}

/** Sorts the words into options (long and short) and positionals. */
function scanWords(
  argv: readonly string[],
  byLong: ReadonlyMap<string, OptionSpec>,
  byShort: ReadonlyMap<string, OptionSpec>,
): Scan {
  const scan: Scan = {
    tokens: [],
    positionals: [],
    errors: [],
    helpSeen: false,
    versionSeen: false,
  };
  const seen = (option: OptionSpec) => {
    if (option === HELP) scan.helpSeen = true;
    if (option === VERSION_OPT) scan.versionSeen = true;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      scan.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) i = longOption(argv, i, byLong, scan, seen);
    else if (arg.startsWith("-") && arg.length > 1) i = shortOptions(argv, i, byShort, scan, seen);
    else scan.positionals.push(arg);
  }
  return scan;
}

/** One `--name[=value]` word (and its value word); returns the index of the last word used. */
function longOption(
  argv: readonly string[],
  i: number,
  byLong: ReadonlyMap<string, OptionSpec>,
  scan: Scan,
  seen: (o: OptionSpec) => void,
): number {
  const arg = argv[i]!;
  const eq = arg.indexOf("=");
  const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
  const option = byLong.get(name);
  if (!option) {
    scan.errors.push(`unexpected argument '${eq < 0 ? arg : arg.slice(0, eq)}' found`);
    return i;
  }
  seen(option);
  let v: string | undefined;
  if (option.value && option.optionalValue) {
    if (eq >= 0) v = arg.slice(eq + 1);
  } else if (option.value) {
    if (eq >= 0) v = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) v = argv[++i];
    else {
      scan.errors.push(`a value is required for '${optionLabel(option)}' but none was supplied`);
      return i;
    }
  } else if (eq >= 0) {
    scan.errors.push(
      `unexpected value '${arg.slice(eq + 1)}' for '--${name}' found; no more were expected`,
    );
    return i;
  }
  scan.tokens.push({ option, value: v });
  return i;
}

/** One `-abc` word of short options (and a value word); returns the index of the last word used. */
function shortOptions(
  argv: readonly string[],
  i: number,
  byShort: ReadonlyMap<string, OptionSpec>,
  scan: Scan,
  seen: (o: OptionSpec) => void,
): number {
  const arg = argv[i]!;
  for (let j = 1; j < arg.length; j++) {
    const ch = arg[j]!;
    const option = byShort.get(ch);
    if (!option) {
      scan.errors.push(`unexpected argument '-${ch}' found`);
      break;
    }
    seen(option);
    if (option.value) {
      let v: string | undefined = arg.slice(j + 1);
      if (v.startsWith("=")) v = v.slice(1);
      if (v === "") {
        if (i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) v = argv[++i];
        else {
          scan.errors.push(
            `a value is required for '${optionLabel(option)}' but none was supplied`,
          );
          v = undefined;
        }
      }
      if (v !== undefined) scan.tokens.push({ option, value: v });
      break;
    }
    scan.tokens.push({ option, value: undefined });
  }
  return i;
}

/** Positionals, required arguments, option relations and names (before anything is touched). */
function checkArguments(
  command: CommandSpec,
  options: Map<string, string | true>,
  positionals: readonly string[],
  byLong: ReadonlyMap<string, OptionSpec>,
  usage: string,
): void {
  const declared = command.positionals ?? [];
  if (positionals.length > declared.length) {
    throw new UsageError(`unexpected argument '${positionals[declared.length]}' found`, usage);
  }
  const missing = declared.slice(positionals.length).filter((p) => p.required);
  const missingOptions = command.options.filter((o) => o.required && !options.has(o.long));
  if (missingOptions.length > 0 || missing.length > 0) {
    const names = [...missingOptions.map(optionLabel), ...missing.map((p) => `<${p.name}>`)];
    throw new UsageError(
      `the following required arguments were not provided:\n  ${names.join("\n  ")}`,
      usage,
    );
  }
  checkRelations(command, options, byLong, usage);
  // Names that become path components are refused before anything is touched.
  for (const [long, v] of options) {
    const kind = byLong.get(long)?.validate;
    if (kind && typeof v === "string") checkName(kind, v);
  }
  for (const [i, p] of declared.entries()) {
    if (p.kind === "PARENT" && positionals[i] !== undefined) checkName("parent", positionals[i]!);
  }
}

function looksLikeOption(arg: string): boolean {
  return arg.startsWith("-") && arg.length > 1;
}

function checkValue(option: OptionSpec, text: string, usage: string): string {
  if (option.value === "UUID") {
    const uuid = parseUuid(text);
    if (uuid === null) {
      throw new UsageError(
        `invalid value '${text}' for '${optionLabel(option)}': not a valid UUID`,
        usage,
      );
    }
    return uuid;
  }
  if (option.optionalValue && text === "") return text; // `--wait=` from an unset variable
  const invalid = (why: string) =>
    new UsageError(`invalid value '${text}' for '${optionLabel(option)}': ${why}`, usage);
  if (option.value === "SECONDS" && !/^\d+(\.\d+)?$/.test(text)) {
    throw invalid("not a number of seconds");
  }
  if (
    (option.value === "MS" || option.value === "N") &&
    (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
  ) throw invalid("not a positive integer");
  if (option.value === "SOURCE" && !(MONITOR_SOURCES as readonly string[]).includes(text)) {
    throw invalid(`one of ${MONITOR_SOURCES.join(", ")}`);
  }
  if (option.value === "INDEX") {
    if (!/^\+?\d+$/.test(text) || Number(text.replace("+", "")) > 0xffffffff) {
      throw new UsageError(
        `invalid value '${text}' for '${optionLabel(option)}': not an unsigned 32-bit integer`,
        usage,
      );
    }
    return String(Number(text.replace("+", "")));
  }
  return text;
}

function checkRelations(
  command: CommandSpec,
  options: Map<string, string | true>,
  byLong: ReadonlyMap<string, OptionSpec>,
  usage: string,
): void {
  const label = (long: string) => optionLabel(byLong.get(long)!);
  for (const [long] of options) {
    const spec = byLong.get(long)!;
    for (const other of spec.conflicts ?? []) {
      if (options.has(other)) {
        throw new UsageError(
          `the argument '${label(long)}' cannot be used with '${label(other)}'`,
          usage,
        );
      }
    }
    for (const needed of spec.requires ?? []) {
      if (!options.has(needed)) {
        throw new UsageError(
          `the following required arguments were not provided:\n  ${label(needed)}`,
          usage,
        );
      }
    }
  }
  if (command.anyOf && !command.anyOf.some((o) => options.has(o))) {
    throw new UsageError(
      `the following required arguments were not provided:\n  <${
        command.anyOf.map(label).join("|")
      }>`,
      usage,
    );
  }
  if (command.oneOf) {
    const given = command.oneOf.filter((o) => options.has(o));
    if (given.length === 0) {
      throw new UsageError(
        `the following required arguments were not provided:\n  <${
          command.oneOf.map(label).join("|")
        }>`,
        usage,
      );
    }
    if (given.length > 1 && !command.together?.some((g) => given.every((o) => g.includes(o)))) {
      throw new UsageError(
        `the argument '${label(given[0]!)}' cannot be used with '${label(given[1]!)}'`,
        usage,
      );
    }
  }
}

function legacyArgs(
  command: CommandSpec,
  tokens: Token[] | null,
  positionals: string[],
): ParseOutcome {
  const declared = command.positionals ?? [];
  const usage = `Usage: mdevctl ${command.name}${
    declared.map((p) => ` <${p.name.toLowerCase()}>`).join("")
  }`;
  if (tokens === null || tokens.length > 0) throw new LegacyUsageError(usage);
  if (positionals.length !== declared.length) throw new LegacyUsageError(usage);
  return { kind: "run", command, args: { options: new Map(), positionals } };
}

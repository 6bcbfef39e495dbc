/** `--help` text, rendered from the command table. */
import { COMMANDS, CommandSpec, OptionSpec, PROGRAM_SUMMARY } from "./command_table.ts";

/** ` <VALUE>`, `[=<VALUE>]` for an optional one, or nothing for a flag. */
export function valueLabel(option: OptionSpec): string {
  if (!option.value) return "";
  return option.optionalValue ? `[=<${option.value}>]` : ` <${option.value}>`;
}

export function optionLabel(option: OptionSpec): string {
  return `--${option.long}${valueLabel(option)}`;
}

function optionColumn(option: OptionSpec): string {
  const short = option.short ? `-${option.short}, ` : "    ";
  return `${short}--${option.long}${valueLabel(option)}`;
}

/**
 * The usage line, clap's shape: `[OPTIONS]`, then the options the command
 * cannot run without (`mdevctl apply [OPTIONS] --file <FILE>`), then the
 * positional arguments.
 */
export function commandUsage(command: CommandSpec, program: string): string {
  const head = program === "lsmdev" ? "lsmdev" : `mdevctl ${command.name}`;
  const optional = command.options.some((o) => !o.required);
  const opts = optional ? " [OPTIONS]" : "";
  const required = command.options.filter((o) => o.required).map((o) => ` ${optionLabel(o)}`)
    .join("");
  const pos = (command.positionals ?? []).map((p) => (p.required ? ` <${p.name}>` : ` [${p.name}]`))
    .join("");
  return `${head}${opts}${required}${pos}`;
}

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd() + "\n").join("");
}

function wrap(text: string, width = 79): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** Help for one command (or for lsmdev). */
export function commandHelp(command: CommandSpec, program: string): string {
  const options = command.options.filter((o) => !o.hidden);
  const rows: [string, string][] = options.map((o) => [optionColumn(o), o.help]);
  rows.push(["-h, --help", "Print help"]);
  if (command.version) rows.push(["-V, --version", "Print version"]);
  let text = `${command.summary}\n\n`;
  if (command.description) text += `${wrap(command.description)}\n\n`;
  text += `Usage: ${commandUsage(command, program)}\n`;
  if (command.positionals?.length) {
    text += `\nArguments:\n${table(command.positionals.map((p) => [`<${p.name}>`, p.help]))}`;
  }
  text += `\nOptions:\n${table(rows)}`;
  return text;
}

/** The top-level help listing every command. */
export function programHelp(): string {
  const current = COMMANDS.filter((c) => !c.hidden && !c.legacy);
  const legacy = COMMANDS.filter((c) => c.legacy);
  const commandRows: [string, string][] = current.map((c) => [c.name, c.summary]);
  commandRows.push(["help", "Print this message or the help of the given command"]);
  return `${PROGRAM_SUMMARY}\n\n` +
    `Usage: mdevctl <COMMAND>\n` +
    `       lsmdev [OPTIONS]  (same as mdevctl list)\n\n` +
    `Commands:\n${table(commandRows)}\n` +
    `Original commands (positional arguments):\n${
      table(legacy.map((c) => [
        `${c.name}${(c.positionals ?? []).map((p) => ` <${p.name.toLowerCase()}>`).join("")}`,
        c.summary.replace(/^Original command: /, ""),
      ]))
    }\n` +
    `Options:\n${table([["-h, --help", "Print help"], ["-V, --version", "Print version"]])}`;
}

/** What a command receives: its options and arguments, typed from the table, and the run context. */
import type { Environment } from "../environment.ts";
import type { CommandName, CommandSpec, OptionsOf, PositionalsOf } from "./command_table.ts";

/** The parser's result: option values by long name and the positional arguments. */
export interface ParsedArgs {
  /** Option values by long name: `true` for flags, the text for values. */
  readonly options: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

/** The context command `N` runs in. */
export interface CommandContext<N extends CommandName = CommandName> {
  readonly env: Environment;
  readonly command: N;
  /** Every option of the command: flags `true`/`false`, values their text or `undefined`. */
  readonly options: OptionsOf<N>;
  /** The positional arguments by their names in the table. */
  readonly positionals: PositionalsOf<N>;
  /** Writes text to stdout in full (the environment's stdout). */
  stdout(text: string): void;
}

/** Builds the context of a parsed command line: every declared option and positional by name. */
export function commandContext(
  env: Environment,
  spec: CommandSpec,
  args: ParsedArgs,
): CommandContext {
  const options: Record<string, string | boolean | undefined> = {};
  for (const option of spec.options) {
    const given = args.options.get(option.long);
    options[option.long] = option.value
      ? (typeof given === "string"
        ? given
        : option.optionalValue && given === true
        ? true
        : undefined)
      : given === true;
  }
  const positionals: Record<string, string | undefined> = {};
  (spec.positionals ?? []).forEach((p, i) => positionals[p.name] = args.positionals[i]);
  return {
    env,
    command: spec.name as CommandName,
    options: options as unknown as OptionsOf<CommandName>,
    positionals: positionals as unknown as PositionalsOf<CommandName>,
    stdout: env.stdout,
  };
}

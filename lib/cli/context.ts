/** What a command receives: parsed arguments, the environment, output. */
import type { Environment } from "../environment.ts";

export interface ParsedArgs {
  /** Option values by long name: `true` for flags, the text for values. */
  readonly options: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export interface CommandContext {
  readonly env: Environment;
  readonly command: string;
  readonly args: ParsedArgs;
  /** Writes text to stdout in full. */
  stdout(text: string): void;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

export function value(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === "string" ? v : undefined;
}

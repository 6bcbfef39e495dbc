/** Checking the values of the monitor, wait and start --wait options. */
import type { ParsedArgs } from "../cli/context.ts";
import { findCommand } from "../cli/command_table.ts";
import { commandUsage, optionLabel } from "../cli/help.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_WAIT_SECONDS, parseSeconds } from "./waiter.ts";

function invalid(command: string, long: string, text: string, why: string): never {
  const spec = findCommand(command)!;
  const option = spec.options.find((o) => o.long === long)!;
  throw new UsageError(
    `invalid value '${text}' for '${optionLabel(option)}': ${why}`,
    commandUsage(spec, "mdevctl"),
  );
}

/** A seconds option as given (for messages) and as milliseconds. */
export interface Seconds {
  text: string;
  ms: number;
}

/** `--<long> SECONDS`, or the default. */
export function secondsOption(
  command: string,
  args: ParsedArgs,
  long: string,
  fallback: number | undefined,
): Seconds | undefined {
  const v = args.options.get(long);
  if (typeof v !== "string") {
    return fallback === undefined ? undefined : { text: String(fallback), ms: fallback * 1000 };
  }
  const n = parseSeconds(v);
  if (n === null) invalid(command, long, v, "not a number of seconds");
  return { text: v, ms: n * 1000 };
}

/** `--<long> N`: a positive integer. */
export function countOption(
  command: string,
  args: ParsedArgs,
  long: string,
): number | undefined {
  const v = args.options.get(long);
  if (typeof v !== "string") return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
    invalid(command, long, v, "not a positive integer");
  }
  return Number(v);
}

/** One of `choices`. */
export function choiceOption<T extends string>(
  command: string,
  args: ParsedArgs,
  long: string,
  choices: readonly T[],
  fallback: T,
): T {
  const v = args.options.get(long);
  if (typeof v !== "string") return fallback;
  if (!(choices as readonly string[]).includes(v)) {
    invalid(command, long, v, `one of ${choices.join(", ")}`);
  }
  return v as T;
}

/**
 * `start --wait[=S]` (spec §3.2): undefined without the option (no wait, as
 * in 1.x); alone or empty, MDEVCTL_START_WAIT, else 90 seconds.
 */
export function startWait(args: ParsedArgs): Seconds | undefined {
  const v = args.options.get("wait");
  if (v === undefined) return undefined;
  if (v === true || v === "") {
    const env = Deno.env.get("MDEVCTL_START_WAIT");
    const n = env === undefined ? null : parseSeconds(env.trim());
    const seconds = n ?? DEFAULT_WAIT_SECONDS;
    return { text: String(seconds), ms: seconds * 1000 };
  }
  return secondsOption("start", args, "wait", undefined);
}

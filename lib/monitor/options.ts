/** Checking the values of the monitor, wait and start --wait options. */
import { findCommand } from "../cli/command_table.ts";
import { commandUsage, optionLabel } from "../cli/help.ts";
import type { Environment } from "../environment.ts";
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

/** The value of `--<long> SECONDS` of `command`, or the default. */
export function secondsOption(
  command: string,
  long: string,
  given: string | undefined,
  fallback: number | undefined,
): Seconds | undefined {
  if (given === undefined) {
    return fallback === undefined ? undefined : { text: String(fallback), ms: fallback * 1000 };
  }
  const n = parseSeconds(given);
  if (n === null) invalid(command, long, given, "not a number of seconds");
  return { text: given, ms: n * 1000 };
}

/** The value of `--<long> N`: a positive integer. */
export function countOption(
  command: string,
  long: string,
  given: string | undefined,
): number | undefined {
  if (given === undefined) return undefined;
  if (!/^\d+$/.test(given) || Number(given) < 1 || !Number.isSafeInteger(Number(given))) {
    invalid(command, long, given, "not a positive integer");
  }
  return Number(given);
}

/** The value of `--<long>`: one of `choices`. */
export function choiceOption<T extends string>(
  command: string,
  long: string,
  given: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (given === undefined) return fallback;
  if (!(choices as readonly string[]).includes(given)) {
    invalid(command, long, given, `one of ${choices.join(", ")}`);
  }
  return given as T;
}

/**
 * `start --wait[=S]` (spec monitor.md §3.2): undefined without the option
 * (no wait, as in 1.x); alone or empty, MDEVCTL_START_WAIT, else 90 seconds.
 */
export function startWait(env: Environment, given: string | true | undefined): Seconds | undefined {
  if (given === undefined) return undefined;
  if (given === true || given === "") {
    const text = env.startWaitText;
    const n = text === undefined ? null : parseSeconds(text.trim());
    const seconds = n ?? DEFAULT_WAIT_SECONDS;
    return { text: String(seconds), ms: seconds * 1000 };
  }
  return secondsOption("start", "wait", given, undefined);
}

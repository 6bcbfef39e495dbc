/**
 * The values of the monitor, wait and start --wait options as numbers. The
 * parser has checked them (lib/cli/parse_args.ts, kinds SECONDS, MS, N).
 */
import type { Environment } from "../environment.ts";
import { parseSeconds } from "../settings.ts";

/** Seconds as given (for messages) and as milliseconds. */
export interface Seconds {
  text: string;
  ms: number;
}

/** A checked SECONDS value, or the default. */
export function seconds(given: string | undefined, fallback: number): Seconds;
export function seconds(given: string | undefined): Seconds | undefined;
export function seconds(given: string | undefined, fallback?: number): Seconds | undefined {
  if (given === undefined) {
    return fallback === undefined ? undefined : { text: String(fallback), ms: fallback * 1000 };
  }
  return { text: given, ms: (parseSeconds(given) ?? 0) * 1000 };
}

/**
 * `start --wait[=S]` (spec monitor.md §3.2): undefined without the option
 * (no wait, as in 1.x); alone or empty, the environment's start wait.
 */
export function startWait(env: Environment, given: string | true | undefined): Seconds | undefined {
  if (given === undefined) return undefined;
  if (given === true || given === "") {
    return seconds(undefined, env.startWaitSeconds);
  }
  return seconds(given);
}

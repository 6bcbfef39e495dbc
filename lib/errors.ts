/**
 * The two ways a command fails: a usage error (exit 2) and a runtime error
 * (exit 1, `Error: <top>` plus an optional `Caused by:` block, mdevctl.md §10.1).
 */

/**
 * A runtime error with its chain of causes, outermost first.
 *
 * @example A failure with its cause
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatError, MdevError } from "../mod.ts";
 *
 * const error = MdevError.wrap("Failed to write config for device x", new Error("disk full"));
 * deepEqual(formatError(error), "Error: Failed to write config for device x\n\nCaused by:\n    disk full\n");
 * ```
 */
export class MdevError extends Error {
  /** The `Caused by:` lines, outermost first. */
  readonly causes: readonly string[];

  /** An error with `message` as its top line and `causes` below it. */
  constructor(message: string, causes: readonly string[] = []) {
    super(message);
    this.name = "MdevError";
    this.causes = causes;
  }

  /** Wraps any error as the cause of a new top line. */
  static wrap(message: string, cause: unknown): MdevError {
    return new MdevError(message, causeChain(cause));
  }
}

/**
 * A command-line usage error: `error: ...` and exit status 2.
 *
 * @example Misuse of the command line
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { UsageError } from "../mod.ts";
 *
 * const error = new UsageError("unexpected argument '-x' found", "mdevctl list [OPTIONS]");
 * deepEqual([error.message, error.usage], ["unexpected argument '-x' found", "mdevctl list [OPTIONS]"]);
 * ```
 */
export class UsageError extends Error {
  /** The usage line printed after the message. */
  readonly usage: string;

  /** A usage error: `message`, then the command's `usage` line. */
  constructor(message: string, usage: string) {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/**
 * The messages of an error and its causes, outermost first.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { causeChain, MdevError } from "../mod.ts";
 *
 * deepEqual(causeChain(new MdevError("top", ["why"])), ["top", "why"]);
 * deepEqual(causeChain(new Error("plain")), ["plain"]);
 * ```
 */
export function causeChain(error: unknown): string[] {
  if (error instanceof MdevError) return [error.message, ...error.causes];
  return [describeError(error)];
}

/**
 * Renders an error as upstream does: OS errors as
 * `<strerror text> (os error <errno>)`, without Deno's call context.
 */
export function describeError(error: unknown): string {
  if (error instanceof MdevError) return error.message;
  if (error instanceof Error) {
    const os = /^(.*?\(os error \d+\))/.exec(error.message);
    if (os?.[1]) return os[1];
    return error.message;
  }
  return String(error);
}

/**
 * The text printed on stderr for a failed command (ends in a newline).
 *
 * @example Several causes are numbered
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatError, MdevError } from "../mod.ts";
 *
 * deepEqual(
 *   formatError(new MdevError("top", ["first", "second"])),
 *   "Error: top\n\nCaused by:\n    0: first\n    1: second\n",
 * );
 * ```
 */
export function formatError(error: MdevError): string {
  let text = `Error: ${error.message}\n`;
  if (error.causes.length === 1) {
    text += `\nCaused by:\n    ${error.causes[0]}\n`;
  } else if (error.causes.length > 1) {
    text += "\nCaused by:\n";
    error.causes.forEach((cause, index) => text += `    ${index}: ${cause}\n`);
  }
  return text;
}

/** True for a Deno "not found" filesystem error. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound;
}

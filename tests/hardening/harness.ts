/**
 * Shared checks of the hardening suite: a snapshot of a whole fake host that
 * copes with any file type (tests/helpers/tree.ts) less the lock file, and
 * the shape of a clean failure.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { RunResult } from "../helpers/fake_host.ts";
import { snapshotTree as snapshotAll } from "../helpers/tree.ts";

/** The one file a command may leave behind without changing anything. */
const LOCK_PATHS = new Set(["run/", "run/lock/", "run/lock/mdevctl.lock"]);

/**
 * Every entry below `root` with its kind, permission bits and content digest
 * (symlinks by target), except the lock file.
 */
export function snapshotTree(root: string): Promise<Record<string, string>> {
  return snapshotAll(root, { omit: (path) => LOCK_PATHS.has(path) });
}

/** A stack trace or an uncaught exception would show one of these. */
const CRASH = /^\s+at |Uncaught|error: Uncaught|panicked|RUST_BACKTRACE|TypeError|RangeError/m;

/**
 * A runtime failure: `Error: <top line>` (plus upstream's optional
 * `Caused by:` block), exit 1, nothing on stdout, no stack trace.
 * Returns the top line.
 */
export function assertRuntimeError(result: RunResult, context = ""): string {
  const where = `${context}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assertEquals(result.code, 1, `exit status ${result.code}${where}`);
  assert(!CRASH.test(result.stderr), `crash output${where}`);
  // `Error: <top>`, more lines of a multi-line message (an Attrs block), then
  // optionally a blank line, `Caused by:` and indented causes.
  assert(
    /^Error: [^\n]+\n(?:[^\n]*\n)*?(?:\nCaused by:\n(?: {4}[^\n]*\n)+)?$/.test(result.stderr),
    `not an error in the documented shape${where}`,
  );
  return result.stderr.slice("Error: ".length, result.stderr.indexOf("\n"));
}

/** A command-line usage error: `error: ...`, a usage line, exit 2. */
export function assertUsageError(result: RunResult, context = ""): string {
  const where = `${context}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assertEquals(result.code, 2, `exit status ${result.code}${where}`);
  assert(!CRASH.test(result.stderr), `crash output${where}`);
  assert(result.stderr.startsWith("error: "), `not a usage error${where}`);
  assert(result.stderr.includes("\nUsage: "), `no usage line${where}`);
  return result.stderr.slice("error: ".length, result.stderr.indexOf("\n"));
}

/**
 * Shared checks of the hardening suite: a snapshot of a whole fake host that
 * copes with any file type (FIFOs are never opened, big files are hashed),
 * and the shape of a clean failure.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { RunResult } from "../helpers/fake_host.ts";

/** The one file a command may leave behind without changing anything. */
const LOCK_PATHS = new Set(["run/", "run/lock/", "run/lock/mdevctl.lock"]);

async function digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Every entry below `root` with its kind, permission bits and content digest
 * (symlinks by target), except the lock file.
 */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = `${dir}/${entry.name}`;
      const info = await Deno.lstat(full);
      const mode = ((info.mode ?? 0) & 0o7777).toString(8);
      if (info.isSymlink) {
        result[rel] = `link -> ${await Deno.readLink(full)}`;
      } else if (info.isDirectory) {
        if (LOCK_PATHS.has(`${rel}/`)) {
          await walk(full, rel);
          continue;
        }
        result[`${rel}/`] = `dir ${mode}`;
        await walk(full, rel);
      } else if (info.isFile) {
        if (LOCK_PATHS.has(rel)) continue;
        result[rel] = `file ${mode} ${info.size} ${await digest(await Deno.readFile(full))}`;
      } else {
        // FIFOs, sockets, devices: never opened (a FIFO would block).
        result[rel] = `special ${mode}`;
      }
    }
  };
  await walk(root, "");
  return result;
}

/** The entries that differ between two snapshots, for a readable failure. */
export function changes(
  before: Record<string, string>,
  after: Record<string, string>,
): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].sort().filter((k) => before[k] !== after[k]).map((k) =>
    `${k}: ${before[k] ?? "(absent)"} => ${after[k] ?? "(absent)"}`
  );
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

/**
 * Runs one script with piped stdio (mdevctl.md §8.2, mdevctl.md §0.8): stdin is
 * written while stdout and stderr are drained, so a script that prints a lot
 * before reading cannot deadlock us; a script that exits without reading its
 * stdin is fine (the broken pipe is ignored); and one run is bounded by a
 * timeout after which the script is killed with SIGKILL.
 */
import { MdevError } from "../errors.ts";

export interface ScriptResult {
  /** Exit code; null when killed by a signal or timed out. */
  code: number | null;
  signal: Deno.Signal | null;
  /** The script, or a descendant holding its pipes, outlived the timeout. */
  timedOut: boolean;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

interface Drain {
  done: Promise<void>;
  bytes(): Uint8Array;
  cancel(): void;
}

function drain(stream: ReadableStream<Uint8Array>): Drain {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      chunks.push(value);
    }
  })().catch(() => {});
  return {
    done,
    bytes: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return out;
    },
    cancel: () => void reader.cancel().catch(() => {}),
  };
}

export interface Feed {
  /** Resolves with the write error, if any other than a broken pipe. */
  done: Promise<unknown>;
  abort(): void;
}

/** Writes `input` and closes the stream (exported for tests). */
export function feed(stream: WritableStream<Uint8Array>, input: Uint8Array): Feed {
  const writer = stream.getWriter();
  const done = (async () => {
    try {
      if (input.length > 0) await writer.write(input);
      await writer.close();
      return null;
    } catch (e) {
      // The script exited (or closed stdin) without reading everything.
      if (e instanceof Deno.errors.BrokenPipe) return null;
      return e;
    }
  })();
  return { done, abort: () => void writer.abort().catch(() => {}) };
}

/** A write to the script's stdin failed other than by a broken pipe (mdevctl.md §8.2). */
export function stdinError(cause: unknown): MdevError {
  return MdevError.wrap("Failed to write to stdin of command", cause);
}

/**
 * Runs `path` with `args`. Throws the raw error when it cannot be spawned
 * (not executable, a directory, …); `timeoutMs` 0 means no limit.
 */
export async function runScript(
  path: string,
  args: readonly string[],
  input: Uint8Array,
  timeoutMs: number,
): Promise<ScriptResult> {
  const child = new Deno.Command(path, {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  const stdin = feed(child.stdin, input);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    if (timeoutMs > 0) timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  // The run ends when the script has exited and its pipes are closed: a
  // descendant still holding them is part of the run.
  const finished = Promise.all([child.status, stdout.done, stderr.done, stdin.done]);
  const first = await Promise.race([finished, expired]);
  clearTimeout(timer);
  if (first !== "expired") {
    const writeError = await stdin.done;
    if (writeError !== null) throw stdinError(writeError);
    const status = await child.status;
    return {
      code: status.signal !== null ? null : status.code,
      signal: status.signal,
      timedOut: false,
      stdout: stdout.bytes(),
      stderr: stderr.bytes(),
    };
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // it had already exited; a descendant keeps the pipes open
  }
  stdin.abort();
  stdout.cancel();
  stderr.cancel();
  // A process stuck in the kernel (uninterruptible sleep) ignores even
  // SIGKILL for a while: give it a moment, then stop waiting for it.
  let grace: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((resolve) => grace = setTimeout(() => resolve(null), KILL_GRACE_MS)),
  ]);
  clearTimeout(grace);
  return {
    code: null,
    signal: status?.signal ?? null,
    timedOut: true,
    stdout: stdout.bytes(),
    stderr: stderr.bytes(),
  };
}

/** How long to wait for a killed script to be reaped. */
const KILL_GRACE_MS = 1000;

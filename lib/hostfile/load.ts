/**
 * Reading a host file (`-f FILE`, `-f -` for stdin) and loading the YAML
 * library, which only apply/diff/export import (hostfile.md §2, "Loading").
 */
import { describeError, MdevError } from "../errors.ts";
import type { Environment } from "../environment.ts";
import { quotePath } from "../paths.ts";
import { type HostFile, MAX_FILE_BYTES, parseHostFile } from "./schema.ts";
import type { YamlModule } from "./yaml_source.ts";

export type { YamlModule } from "./yaml_source.ts";

/**
 * The yaml module, imported on first use. Its ESM build, by path: the entry
 * `npm:yaml` resolves to under Deno is the CommonJS build, which needs Node's
 * `require` machinery; bundled, that would be set up at every start-up of
 * every command (about 100 ms). The ESM build reads no environment either.
 */
export async function loadYaml(): Promise<YamlModule> {
  return await import("../../node_modules/yaml/browser/index.js") as unknown as YamlModule;
}

async function readLimited(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    // One byte over the limit is enough for the size error.
    if (size > MAX_FILE_BYTES) break;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** `-f` names for the standard input. */
const STDIN_NAMES = ["-", "/dev/stdin", "/proc/self/fd/0"];

/**
 * The bytes of `-f PATH`; `-` is stdin. A regular file or a pipe (`-f
 * <(...)`, `/dev/stdin`); a failure is one line, `Unable to read host file
 * "<path>": <reason>` (a new command: no 1.x `Caused by:` block to match).
 */
export async function readHostFileBytes(path: string): Promise<Uint8Array> {
  let file: Deno.FsFile | undefined;
  try {
    // The standard input we hold: Deno refuses /dev and /proc paths in the sandbox.
    if (STDIN_NAMES.includes(path)) return await readLimited(Deno.stdin.readable);
    if (path === "") throw new Error("the path is empty");
    file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (info.isDirectory) throw new Error("is a directory");
    if (!info.isFile && !info.isFifo && !info.isCharDevice) {
      throw new Error("not a regular file or a pipe");
    }
    // The stream owns the file from here and closes it.
    const stream = file.readable;
    file = undefined;
    return await readLimited(stream);
  } catch (e) {
    throw new MdevError(`Unable to read host file ${quotePath(path)}: ${readReason(e)}`);
  } finally {
    file?.close();
  }
}

/** Why a read failed, in one line; Deno's permission refusal (the sandbox) too. */
function readReason(e: unknown): string {
  if (e instanceof Deno.errors.NotCapable) {
    // Deno names the path it checked: the file's real path, links resolved.
    const real = /access to (".*?"), run again/.exec(e.message)?.[1];
    return `the permission sandbox does not allow reading ${real ?? "it"}`;
  }
  return describeError(e).split("\n")[0]!;
}

/** The name messages give the file. */
export function displayName(path: string): string {
  return path === "-" ? "<stdin>" : path;
}

/** Reads, parses and validates a host file; prints its YAML 1.1 lint warnings. */
export async function loadHostFile(
  env: Environment,
  path: string,
  profile: string | undefined,
): Promise<HostFile> {
  const bytes = await readHostFileBytes(path);
  const Y = await loadYaml();
  const parsed = parseHostFile(Y, displayName(path), bytes, { profile });
  for (const w of parsed.warnings) env.stderr(`W: ${w}\n`);
  return parsed;
}

/**
 * Reading a `--jsonfile` (define, modify, start; mdevctl.md §5.1 A.1, §5.3, §5.4 A):
 * the whole file, strict UTF-8, parsed and its names checked.
 *
 * `/dev/stdin` is read from the standard input we already hold (libvirt pipes
 * the config in): no second open, and read exactly once.
 */
import { type MdevConfig, parseConfig } from "./config.ts";
import { MdevError } from "./errors.ts";
import { checkAttrNames, checkName } from "./names.ts";
import { quotePath } from "./paths.ts";

/** An opened `--jsonfile`, read once. */
export interface Jsonfile {
  /** Reads and validates the config (throws the read or parse error). */
  read(): Promise<MdevConfig>;
  /** Releases the file when it was not read to the end. */
  close(): void;
}

function isStdin(path: string): boolean {
  return path === "/dev/stdin" || path === "/proc/self/fd/0";
}

type Source = { readable: ReadableStream<Uint8Array> };

async function readConfig(source: Source, path: string): Promise<MdevConfig> {
  let text: string;
  try {
    const bytes = await new Response(source.readable).bytes();
    // A byte order mark is kept, so it is refused as in stored configs and upstream.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw MdevError.wrap(`Unable to read jsonfile ${quotePath(path)}`, e);
  }
  const config = parseConfig(text);
  checkName("type", config.type);
  checkAttrNames(config.attrs);
  return config;
}

/**
 * Opens a `--jsonfile`. `openError` is the top line when it cannot be opened:
 * define and modify check the file first (`Unable to read file`), start
 * reads it in one go (`Unable to read jsonfile`), as upstream words them.
 */
export async function openJsonfile(
  path: string,
  openError: "Unable to read file" | "Unable to read jsonfile" = "Unable to read file",
): Promise<Jsonfile> {
  let source: Source;
  let file: Deno.FsFile | undefined;
  if (isStdin(path)) source = Deno.stdin;
  else {
    try {
      source = file = await Deno.open(path, { read: true });
    } catch (e) {
      throw MdevError.wrap(`${openError} ${quotePath(path)}`, e);
    }
  }
  return {
    read: () => readConfig(source, path),
    close: () => {
      try {
        file?.close();
      } catch {
        // already closed by reading it to the end
      }
    },
  };
}

/** Opens and reads a `--jsonfile` in one go. */
export async function readJsonfile(
  path: string,
  openError?: "Unable to read file" | "Unable to read jsonfile",
): Promise<MdevConfig> {
  return await (await openJsonfile(path, openError)).read();
}

/**
 * The one walker for "what is on disk now" checks: every entry below a root
 * with its kind and permission bits, symlinks by target (never followed),
 * FIFOs, sockets and devices never opened. The fake host's `snapshot()`, the
 * hardening suite's before/after comparison and the compatibility suite's
 * final-state capture are views of it.
 */

/** One entry below the root; `path` is relative, directories end in `/`. */
export interface TreeEntry {
  path: string;
  kind: "dir" | "file" | "link" | "special";
  /** Permission bits (mode & 0o7777). */
  mode: number;
  /** Link target, for links. */
  target?: string;
  /** File size, for files. */
  size?: number;
  /** File bytes, for files when `contents` was asked for. */
  bytes?: Uint8Array<ArrayBuffer>;
}

export interface TreeOptions {
  /** Read file contents into `bytes`. */
  contents?: boolean;
  /** Entries not recorded (directories are still walked). */
  omit?: (path: string) => boolean;
  /** Directories neither recorded nor walked. */
  prune?: (path: string) => boolean;
}

/** Every entry below `root` (which must exist), sorted by path. */
export async function readTree(root: string, options: TreeOptions = {}): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = `${dir}/${entry.name}`;
      const info = await Deno.lstat(full);
      const mode = (info.mode ?? 0) & 0o7777;
      if (info.isSymlink) {
        if (!options.omit?.(rel)) {
          out.push({ path: rel, kind: "link", mode, target: await Deno.readLink(full) });
        }
      } else if (info.isDirectory) {
        if (options.prune?.(`${rel}/`)) continue;
        if (!options.omit?.(`${rel}/`)) out.push({ path: `${rel}/`, kind: "dir", mode });
        await walk(full, rel);
      } else if (info.isFile) {
        if (options.omit?.(rel)) continue;
        const file: TreeEntry = { path: rel, kind: "file", mode, size: info.size };
        if (options.contents) file.bytes = await Deno.readFile(full);
        out.push(file);
      } else if (!options.omit?.(rel)) {
        out.push({ path: rel, kind: "special", mode });
      }
    }
  };
  await walk(root, "");
  return out.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

async function digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Every entry below `root` → its kind, permission bits and content digest
 * (symlinks by target): copes with any file type and any size.
 */
export async function snapshotTree(
  root: string,
  options: Omit<TreeOptions, "contents"> = {},
): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const e of await readTree(root, { ...options, contents: true })) {
    const mode = e.mode.toString(8);
    result[e.path] = e.kind === "link"
      ? `link -> ${e.target}`
      : e.kind === "dir"
      ? `dir ${mode}`
      : e.kind === "file"
      ? `file ${mode} ${e.size} ${await digest(e.bytes!)}`
      : `special ${mode}`;
  }
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

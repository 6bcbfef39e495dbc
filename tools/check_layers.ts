/**
 * The import-layer check of `make check`: reads the layer table of
 * docs/architecture.md, builds the module graph of every file the table
 * covers with `deno info --json` (static imports, `import type`, `export …
 * from` and dynamic `import()` of literal paths, as Deno resolves them) and
 * prints each import the table forbids:
 *
 *   lib/order.ts -> lib/config.ts: layer base may not import layer model
 *
 * Exit status 1 when there is any, or when the table is malformed. Usage:
 * `deno run --allow-read --allow-write --allow-run tools/check_layers.ts [ROOT]`.
 */

/** One row of the layer table. */
export interface Layer {
  /** The level: a layer imports only lower levels (and itself, when `shared`). */
  level: number;
  name: string;
  /** `dir/` (a folder, recursively), a name with `*` (within one folder) or a file. */
  paths: string[];
  /** Whether the layer's files may import one another. */
  shared: boolean;
}

/** An import the exceptions table allows for now. */
export interface Exception {
  from: string;
  to: string;
}

/** The two tables of the document. */
export interface LayerTable {
  layers: Layer[];
  exceptions: Exception[];
}

/** One import between two files of the tree, paths relative to its root. */
export interface Edge {
  from: string;
  to: string;
}

/** Where the tables live, relative to the checked tree's root. */
export const DOC = "docs/architecture.md";

const LAYER_HEADER = ["level", "layer", "paths", "inside"];
const EXCEPTION_HEADER = ["from", "to", "why"];

/** The cells of a markdown table row, or null when the line is not one. */
function cells(line: string): string[] | null {
  const t = line.trim();
  if (!t.startsWith("|") || !t.endsWith("|")) return null;
  return t.slice(1, -1).split("|").map((c) => c.trim());
}

/** The rows under the first table whose header is `header` (lower-cased). */
function tableRows(markdown: string, header: string[]): string[][] | null {
  const lines = markdown.split("\n");
  const at = lines.findIndex((l) => {
    const c = cells(l);
    return c !== null && c.map((x) => x.toLowerCase()).join("|") === header.join("|");
  });
  if (at < 0) return null;
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    const c = cells(line);
    if (c === null) break;
    rows.push(c);
  }
  return rows;
}

/** The back-quoted words of a cell. */
function quoted(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/**
 * Parses the layer table (header `Level | Layer | Paths | Inside`) and the
 * optional exceptions table (`From | To | Why`); throws a one-line reason.
 */
export function parseTable(markdown: string): LayerTable {
  const rows = tableRows(markdown, LAYER_HEADER);
  if (rows === null || rows.length === 0) {
    throw new Error(`no layer table (header | ${LAYER_HEADER.join(" | ")} |)`);
  }
  const layers = rows.map((row, i): Layer => {
    const [level, name, paths, inside] = row;
    const where = `layer table row ${i + 1}`;
    if (row.length !== 4 || !/^\d+$/.test(level!)) throw new Error(`${where}: level not a number`);
    if (inside !== "shared" && inside !== "separate") {
      throw new Error(`${where}: inside must be "shared" or "separate", not "${inside}"`);
    }
    const list = quoted(paths!);
    if (list.length === 0) throw new Error(`${where}: no \`path\` given`);
    return { level: Number(level), name: name!, paths: list, shared: inside === "shared" };
  });
  const names = layers.map((l) => l.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`layer table: layer "${twice}" named twice`);
  const exceptions = (tableRows(markdown, EXCEPTION_HEADER) ?? []).map((row, i) => {
    const [from, to] = row.map((c) => quoted(c)[0]);
    if (from === undefined || to === undefined) {
      throw new Error(`exceptions table row ${i + 1}: needs \`from\` and \`to\``);
    }
    return { from, to };
  });
  return { layers, exceptions };
}

/** How well `pattern` names `file`: 0 not at all; a file by name beats a glob beats a folder. */
function specificity(pattern: string, file: string): number {
  if (pattern.endsWith("/")) return file.startsWith(pattern) ? 1 : 0;
  if (pattern.includes("*")) {
    const body = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${body.join("[^/]*")}$`).test(file) ? 2 : 0;
  }
  return pattern === file ? 3 : 0;
}

/** The layer of a file: the row naming it most specifically (longest pattern on a tie). */
export function layerOf(file: string, layers: readonly Layer[]): Layer | undefined {
  let best: { layer: Layer; rank: number; length: number } | undefined;
  for (const layer of layers) {
    for (const pattern of layer.paths) {
      const rank = specificity(pattern, file);
      if (rank === 0) continue;
      if (!best || rank > best.rank || (rank === best.rank && pattern.length > best.length)) {
        best = { layer, rank, length: pattern.length };
      }
    }
  }
  return best?.layer;
}

/** Why `edge` breaks the table, or null when it is allowed. */
function offence(edge: Edge, layers: readonly Layer[]): string | null {
  const from = layerOf(edge.from, layers);
  const to = layerOf(edge.to, layers);
  if (from === undefined) return null;
  if (to === undefined) return `layer ${from.name} may not import a file in no layer`;
  if (from === to) {
    return from.shared || edge.from === edge.to
      ? null
      : `layer ${from.name} may not import layer ${to.name} (its files stand alone)`;
  }
  if (to.level < from.level) return null;
  const way = to.level === from.level ? "sideways" : "upward";
  return `layer ${from.name} may not import layer ${to.name} (${way})`;
}

/**
 * Every problem of a tree: files in no layer, forbidden imports not listed as
 * exceptions, and exceptions no longer needed. One line each, sorted.
 */
export function problems(table: LayerTable, files: readonly string[], edges: readonly Edge[]) {
  const out: string[] = [];
  for (const file of files) {
    if (!layerOf(file, table.layers)) out.push(`${file}: in no layer of ${DOC}`);
  }
  const used = new Set<string>();
  for (const edge of edges) {
    const why = offence(edge, table.layers);
    if (why === null) continue;
    const key = `${edge.from} -> ${edge.to}`;
    if (table.exceptions.some((e) => `${e.from} -> ${e.to}` === key)) used.add(key);
    else out.push(`${key}: ${why}`);
  }
  for (const e of table.exceptions) {
    const key = `${e.from} -> ${e.to}`;
    if (!used.has(key)) out.push(`${key}: listed as an exception in ${DOC} but not needed`);
  }
  return [...new Set(out)].sort();
}

/** Every `.ts` file (not `*_test.ts`) under `root`/`dir`, relative to root. */
function sources(root: string, dir: string): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${root}/${dir}`)];
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules" && !e.name.startsWith(".")) {
      out.push(...sources(root, rel));
    } else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push(rel);
    }
  }
  return out;
}

/** The files the table is about: each row's files, and every module under a row's top folder. */
export function coveredFiles(root: string, layers: readonly Layer[]): string[] {
  const tops = new Set<string>();
  const files = new Set<string>();
  for (const pattern of layers.flatMap((l) => l.paths)) {
    const slash = pattern.indexOf("/");
    if (slash < 0) {
      if (!pattern.includes("*")) {
        try {
          if (Deno.statSync(`${root}/${pattern}`).isFile) files.add(pattern);
        } catch { /* a row may name a file that does not exist (yet) */ }
      } else {
        for (const f of sources(root, "")) if (!f.includes("/") && layerOf(f, layers)) files.add(f);
      }
    } else tops.add(pattern.slice(0, slash));
  }
  for (const top of tops) for (const f of sources(root, top)) files.add(f);
  return [...files].sort();
}

/** The imports among `files` (and from them to other files under root), by `deno info --json`. */
export async function importGraph(root: string, files: readonly string[]): Promise<Edge[]> {
  const base = new URL(`file://${Deno.realPathSync(root)}/`);
  const entry = await Deno.makeTempFile({ prefix: "check_layers_", suffix: ".ts" });
  try {
    Deno.writeTextFileSync(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, base).href)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return edgesOf(JSON.parse(new TextDecoder().decode(out.stdout)), base.href);
  } finally {
    Deno.removeSync(entry);
  }
}

interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: {
    specifier: string;
    code?: { specifier?: string; error?: string };
    type?: { specifier?: string; error?: string };
  }[];
}

/** The edges between files under `base` in a `deno info --json` graph (node_modules left out). */
export function edgesOf(graph: { modules: InfoModule[] }, base: string): Edge[] {
  const inside = (s: string | undefined) =>
    s !== undefined && s.startsWith(base) && !s.slice(base.length).startsWith("node_modules/");
  const edges: Edge[] = [];
  for (const m of graph.modules) {
    if (!inside(m.specifier)) continue;
    const from = decodeURIComponent(m.specifier.slice(base.length));
    for (const dep of m.dependencies ?? []) {
      for (const to of [dep.code, dep.type]) {
        if (to?.error !== undefined) throw new Error(`${from}: ${to.error}`);
        if (inside(to?.specifier)) {
          edges.push({ from, to: decodeURIComponent(to!.specifier!.slice(base.length)) });
        }
      }
    }
  }
  return edges;
}

/** Checks the tree at `root`: the problems, one line each (empty when none). */
export async function checkTree(root: string): Promise<string[]> {
  const table = parseTable(Deno.readTextFileSync(`${root}/${DOC}`));
  const files = coveredFiles(root, table.layers);
  return problems(table, files, await importGraph(root, files));
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  try {
    const found = await checkTree(root);
    for (const line of found) console.error(line);
    if (found.length > 0) {
      console.error(`check_layers: ${found.length} problem(s); the layers are in ${DOC}`);
      Deno.exit(1);
    }
  } catch (e) {
    console.error(`check_layers: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}

/**
 * `make check`'s size rule for lib/ (docs/architecture.md "Sizes"): no
 * module over 450 lines and no function over 100, so that each file holds
 * one concept and each function can be read at once. Data tables are
 * exempt by name (`SIZE_EXEMPT`). Relies on `deno fmt`'s layout: a
 * function's closing brace stands alone at the indentation its first line
 * has.
 *
 * Usage: deno run --allow-read tools/check_sizes.ts [DIR]
 */

/** Modules that are tables of data rather than code. */
export const SIZE_EXEMPT = new Set(["lib/cli/command_table.ts"]);
export const MAX_FILE_LINES = 450;
export const MAX_FUNCTION_LINES = 100;

const START = [
  // top-level functions and arrow functions
  /^(export )?(default )?(async )?function\*? (\w+)/,
  /^(export )?const (\w+)\s*(:[^=]+)?=\s*(async )?(\([^)]*\)|\w+)\s*(:[^=]+)?=>\s*\{$/,
  // class methods, getters, constructors
  /^ {2}(?:(?:private|public|protected|static|async|get|set|readonly) )*(\*?\w+)\s*(<[^>]*>)?\(/,
];

/** One function over the limit: where and how long. */
export interface Oversize {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/**
 * The functions of a module's text longer than `max` lines.
 *
 * @example
 * ```ts
 * import { longFunctions } from "./check_sizes.ts";
 * const text = "function f() {\n" + "  x();\n".repeat(3) + "}\n";
 * console.assert(longFunctions("a.ts", text, 4).length === 1);
 * console.assert(longFunctions("a.ts", text, 5).length === 0);
 * ```
 */
export function longFunctions(file: string, text: string, max: number): Oversize[] {
  const lines = text.split("\n");
  const out: Oversize[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = START.map((re) => re.exec(line)).find((m) => m !== null);
    if (!match) continue;
    const indent = line.length - line.trimStart().length;
    const close = new RegExp(`^ {${indent}}\\}[;,)]*$`);
    // A declaration without a body (an overload, an abstract member) ends in ";".
    let end = i;
    while (end < lines.length && !close.test(lines[end]!)) {
      if (end > i && /^\S/.test(lines[end]!) && indent > 0) break;
      end++;
    }
    if (end >= lines.length) continue;
    const length = end - i + 1;
    if (length > max) {
      const name = match.slice(1).reverse().find((g) => g !== undefined && /^\*?\w+$/.test(g)) ??
        "?";
      out.push({ file, line: i + 1, name, lines: length });
    }
  }
  return out;
}

function* modules(dir: string): Generator<string> {
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* modules(path);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield path;
  }
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "lib";
  const problems: string[] = [];
  for (const file of modules(dir)) {
    if (SIZE_EXEMPT.has(file)) continue;
    const text = Deno.readTextFileSync(file);
    const count = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (count > MAX_FILE_LINES) {
      problems.push(`${file}: ${count} lines (at most ${MAX_FILE_LINES})`);
    }
    for (const f of longFunctions(file, text, MAX_FUNCTION_LINES)) {
      problems.push(
        `${f.file}:${f.line}: function ${f.name} is ${f.lines} lines (at most ${MAX_FUNCTION_LINES})`,
      );
    }
  }
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check_sizes: ${problems.length} problem(s)`);
    Deno.exit(1);
  }
}

/**
 * Writes manual pages (roff) from the user documentation in docs/, so that a
 * reference is written once, in Markdown, and read both on the web and with
 * man: docs/hostfile.md becomes mdevctl-hostfile(5).
 *
 * Usage: deno run --allow-read --allow-write tools/gen_doc_man.ts OUTDIR
 * (writes OUTDIR/<name>.<section> for every page of PAGES). SOURCE_DATE_EPOCH,
 * when set, dates the pages; otherwise they carry no date.
 *
 * The Markdown understood is what docs/ uses: `#`/`##`/`###` headings,
 * paragraphs, `-` and `1.` lists (one nesting level, continuation paragraphs),
 * fenced code blocks, pipe tables, and inline code, bold, emphasis and links.
 */
import { VERSION } from "../lib/version.ts";

/** A manual page made from a Markdown file. */
export interface DocPage {
  /** The Markdown source, relative to the repository's top. */
  source: string;
  /** The page's name (`mdevctl-hostfile`). */
  name: string;
  /** The manual section (5: file formats). */
  section: number;
  /** The centre header of the page. */
  manual: string;
}

/** Every page made from docs/. */
export const PAGES: readonly DocPage[] = [
  { source: "docs/hostfile.md", name: "mdevctl-hostfile", section: 5, manual: "File Formats" },
];

/** Plain text for roff: backslashes escaped, every non-ASCII character by its code point. */
function escapeText(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\e";
    else if (code > 0x7e) out += `\\[u${code.toString(16).toUpperCase().padStart(4, "0")}]`;
    else out += ch;
  }
  return out;
}

/** Literal text (code): also `-` as the minus sign, so it can be copied and run. */
function escapeLiteral(text: string): string {
  return escapeText(text).replaceAll("-", "\\-");
}

const INLINE = new RegExp(
  [
    /(`+)([^]*?)\1/.source, // 1, 2: code span
    /\\([!-/:-@[-`{-~])/.source, // 3: escaped punctuation
    /\[([^\]]*)\]\(([^)]*)\)/.source, // 4, 5: link
    /\*\*([^*]+)\*\*/.source, // 6: bold
    /(?<![\w\\])_([^_]+)_(?!\w)/.source, // 7: emphasis
    /(?<![\w\\*])\*([^*\s][^*]*)\*(?![\w*])/.source, // 8: emphasis
  ].join("|"),
  "g",
);

/** One line of Markdown inline text as roff text (no line break, no control line). */
export function inline(text: string): string {
  let out = "";
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    out += escapeText(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1] !== undefined) out += `\\fB${escapeLiteral(m[2]!.trim())}\\fR`;
    else if (m[3] !== undefined) out += escapeText(m[3]);
    else if (m[4] !== undefined) out += inline(m[4]);
    else if (m[6] !== undefined) out += `\\fB${inline(m[6])}\\fR`;
    else out += `\\fI${inline(m[7] ?? m[8]!)}\\fR`;
  }
  return out + escapeText(text.slice(at));
}

/** A text line that roff must not take for a control line. */
function textLine(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** A heading's words, without Markdown markup. */
function plain(text: string): string {
  return text.replace(/`([^`]*)`/g, "$1").replace(/\*\*([^*]+)\*\*/g, "$1");
}

function cells(row: string): string[] {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

/**
 * A table as one tagged paragraph per row: the first cell is the tag, the
 * others follow, each after its column's heading when there are several.
 */
function table(rows: string[]): string[] {
  const [head, , ...body] = rows.map(cells);
  const out: string[] = [];
  for (const row of body) {
    out.push(".TP", textLine(inline(row[0]!)));
    const rest = row.slice(1).map((cell, i) => [head![i + 1] ?? "", cell] as const)
      .filter(([, cell]) => cell !== "");
    if (rest.length === 0) out.push("\\&");
    rest.forEach(([title, cell], i) => {
      if (i > 0) out.push(".br");
      out.push(textLine(head!.length > 2 ? `${inline(title)}: ${inline(cell)}` : inline(cell)));
    });
  }
  return out;
}

const ITEM = /^( *)([-*]|\d+\.) +(.*)$/;
const FENCE = /^ *```/;

/** Whether a line starts a block of its own (ends a paragraph). */
function startsBlock(line: string): boolean {
  return /^#{1,6} /.test(line) || FENCE.test(line) || /^ *\|/.test(line) || ITEM.test(line);
}

/** An open list item: where its marker and its text start, and its paragraph indentation. */
interface Item {
  marker: number;
  content: number;
  step: number;
}

/** The roff body of Markdown text (everything below the title). */
export function renderBlocks(lines: readonly string[]): string[] {
  const out: string[] = [];
  const items: Item[] = [];
  /** Closes the items whose text (or marker) starts right of `column`; a nested one ends with .RE. */
  const fitTo = (column: number, key: "content" | "marker" = "content") => {
    while (items.length > 0 && items[items.length - 1]![key] > column) {
      items.pop();
      if (items.length > 0) out.push(".RE");
    }
  };
  /** A paragraph start: inside the innermost open item, or at the margin. */
  const paragraph = () => out.push(items.length > 0 ? `.IP "" ${items.at(-1)!.step}` : ".PP");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "") {
      i++;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const heading = /^(#{1,3}) +(.*)$/.exec(line);
    const item = ITEM.exec(line);
    if (heading) {
      fitTo(-1);
      const text = plain(heading[2]!);
      const level = heading[1]!.length;
      out.push(level === 3 ? ".SS" : ".SH", escapeText(level === 2 ? text.toUpperCase() : text));
      i++;
    } else if (FENCE.test(line)) {
      fitTo(indent);
      const literal: string[] = [];
      for (i++; i < lines.length && !FENCE.test(lines[i]!); i++) {
        literal.push(textLine(escapeLiteral(lines[i]!.slice(indent))));
      }
      i++;
      paragraph();
      out.push(".RS 4", ".nf", ...literal, ".fi", ".RE");
    } else if (/^ *\|/.test(line)) {
      fitTo(-1);
      const rows: string[] = [];
      for (; i < lines.length && /^ *\|/.test(lines[i]!); i++) rows.push(lines[i]!);
      out.push(...table(rows));
    } else {
      let text: string;
      if (item) {
        const marker = item[1]!.length;
        fitTo(marker, "marker");
        const numbered = /^\d/.test(item[2]!);
        const entry = { marker, content: marker + item[2]!.length + 1, step: numbered ? 4 : 2 };
        const top = items.at(-1);
        if (top !== undefined && top.marker === marker) items[items.length - 1] = entry;
        else {
          if (top !== undefined) out.push(".RS");
          items.push(entry);
        }
        out.push(`.IP ${numbered ? item[2] : "\\(bu"} ${entry.step}`);
        text = item[3]!;
      } else {
        fitTo(indent);
        paragraph();
        text = line.trim();
      }
      for (i++; i < lines.length && lines[i]!.trim() !== "" && !startsBlock(lines[i]!); i++) {
        text += ` ${lines[i]!.trim()}`;
      }
      out.push(textLine(inline(text)));
    }
  }
  fitTo(-1);
  return out;
}

/**
 * The manual page of a Markdown document: the `#` title gives the NAME line,
 * the text before the first `##` the DESCRIPTION, every `##` a section.
 */
export function markdownToMan(markdown: string, page: DocPage, date = ""): string {
  const lines = markdown.split("\n");
  const titleAt = lines.findIndex((l) => l.startsWith("# "));
  if (titleAt < 0) throw new Error(`${page.source}: no "# " title`);
  const title = plain(lines[titleAt]!.slice(2)).trim();
  const what = title.charAt(0).toLowerCase() + title.slice(1);
  const body = lines.slice(titleAt + 1);
  const firstSection = body.findIndex((l) => l.startsWith("## "));
  const intro = firstSection < 0 ? body : body.slice(0, firstSection);
  const rest = firstSection < 0 ? [] : body.slice(firstSection);
  return [
    `.\\" Generated by tools/gen_doc_man.ts from ${page.source}; do not edit.`,
    `.TH ${page.name.toUpperCase()} ${page.section} "${date}" "mdevctl ${VERSION}" "${page.manual}"`,
    // No hyphenation: option names, paths and output lines must read as they are typed.
    ".nh",
    ".SH NAME",
    `${page.name} \\- ${escapeText(what)}`,
    ".SH DESCRIPTION",
    ...renderBlocks(intro),
    ...renderBlocks(rest),
  ].join("\n") + "\n";
}

function pageDate(): string {
  let epoch: string | undefined;
  try {
    epoch = Deno.env.get("SOURCE_DATE_EPOCH");
  } catch {
    epoch = undefined; // no --allow-env: undated pages
  }
  if (!epoch || !/^\d+$/.test(epoch)) return "";
  return new Date(Number(epoch) * 1000).toISOString().slice(0, 10);
}

if (import.meta.main) {
  const outDir = Deno.args[0];
  if (!outDir) {
    console.error("usage: gen_doc_man.ts OUTDIR");
    Deno.exit(2);
  }
  const top = new URL("../", import.meta.url);
  for (const page of PAGES) {
    const markdown = await Deno.readTextFile(new URL(page.source, top));
    await Deno.writeTextFile(
      `${outDir}/${page.name}.${page.section}`,
      markdownToMan(markdown, page, pageDate()),
    );
  }
}

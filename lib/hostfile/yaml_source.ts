/**
 * From the bytes of a host file to one YAML document (hostfile.md §2,
 * "Parser"), with every refusal in this project's words as
 * `<file>:<line>:<col>: <message>`: size, UTF-8, NUL, directives, a second
 * document, tags outside the core schema, nesting, and the yaml library's
 * own syntax errors, whose texts name its API and are never shown.
 *
 * The library is driven in its three stages (lexer, CST parser, composer)
 * rather than through `parseDocument`, because its parser slows down
 * steeply on deep flow nesting (100 000 `[` take seconds) and its composer
 * recurses until the stack runs out; the lexer stage stops such input at
 * the first bracket over the limit, before either sees it.
 */
import type * as Yaml from "npm:yaml@2.9.1";
import type { CST } from "npm:yaml@2.9.1";
import { MdevError } from "../errors.ts";
import { libraryErrorText } from "./yaml_errors.ts";

/** The yaml package's API (types from its npm entry). */
export type YamlModule = typeof import("npm:yaml@2.9.1");

/** Largest host file read (bytes). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Deepest nesting of maps and lists accepted; the top-level mapping is level 1. */
export const MAX_DEPTH = 32;
/** Most nodes visited, aliases expanded: stops alias bombs. */
export const MAX_NODES = 200_000;
/** Flow nesting at which lexing stops (above MAX_DEPTH: the check is on the CST). */
const FLOW_GUARD = MAX_DEPTH + 2;
/** The message for nesting over MAX_DEPTH (also through aliases, yaml_reader.ts). */
export const TOO_DEEP = `nesting deeper than ${MAX_DEPTH} levels of maps and lists`;
/** The tags of YAML 1.2's core schema: the only ones a host file may write. */
const CORE_TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq"];

/** A host file read as YAML: its text and its one document. */
export interface YamlSource {
  file: string;
  /** The decoded text (a leading byte order mark removed). */
  text: string;
  lc: Yaml.LineCounter;
  /** The lexer and CST parser's tokens, kept for the YAML 1.1 lint. */
  tokens: CST.Token[];
  doc: Yaml.Document.Parsed;
  /** Each alias and the node it stands for (absent: no such anchor before it). */
  anchors: Map<Yaml.Alias, Yaml.Node>;
}

/** The options of both compositions: the file's own (1.2) and the lint's (1.1). */
export function composeOptions(
  version: "1.1" | "1.2",
): Yaml.DocumentOptions & Yaml.SchemaOptions & Yaml.ParseOptions {
  return version === "1.2"
    ? { version, schema: "core", uniqueKeys: true, strict: true, resolveKnownTags: false }
    : { version, uniqueKeys: false, strict: false };
}

/** `<file>:<line>:<col>: <message>` as an error. */
function failAt(file: string, lc: Yaml.LineCounter, offset: number, message: string): never {
  const { line, col } = lc.linePos(offset);
  throw new MdevError(`${file}:${line}:${col}: ${message}`);
}

/** Where the first byte that is not UTF-8 sits, as `line:col` (col in bytes). */
function invalidUtf8At(bytes: Uint8Array): { line: number; col: number } | null {
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let len = 0;
    if (b < 0x80) len = 1;
    else if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) len = 3;
    else if (b >= 0xf0 && b <= 0xf4) len = 4;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (ok && len === 3) {
      const c = bytes[i + 1]!;
      ok = !(b === 0xe0 && c < 0xa0) && !(b === 0xed && c > 0x9f);
    }
    if (ok && len === 4) {
      const c = bytes[i + 1]!;
      ok = !(b === 0xf0 && c < 0x90) && !(b === 0xf4 && c > 0x8f);
    }
    if (!ok) return { line, col: i - lineStart + 1 };
    if (b === 0x0a) {
      line++;
      lineStart = i + 1;
    }
    i += len;
  }
  return null;
}

/** The text of the bytes: at most MAX_FILE_BYTES of UTF-8, no NUL; a BOM dropped. */
function decode(file: string, bytes: Uint8Array): string {
  if (bytes.length > MAX_FILE_BYTES) {
    throw new MdevError(`${file}:1:1: file is larger than ${MAX_FILE_BYTES} bytes`);
  }
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    throw new MdevError(`${file}:1:1: the file is UTF-16; host files are UTF-8`);
  }
  const bad = invalidUtf8At(bytes);
  if (bad !== null) throw new MdevError(`${file}:${bad.line}:${bad.col}: invalid UTF-8`);
  let text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  // YAML allows one byte order mark before the stream; it is no content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const before = text.slice(0, nul);
    const line = before.split("\n").length;
    throw new MdevError(`${file}:${line}:${nul - before.lastIndexOf("\n")}: NUL character`);
  }
  return text;
}

/**
 * Lexes and parses `text` into CST tokens. The parser's cost grows steeply
 * with flow nesting (block nesting costs it nothing), so lexing stops at the
 * first bracket FLOW_GUARD deep: the tokens up to there hold the first
 * collection nested too deep, which checkTokens reports. `stoppedAt` is the
 * offset of that bracket.
 */
function tokenize(
  Y: YamlModule,
  text: string,
  lc: Yaml.LineCounter,
): { tokens: CST.Token[]; stoppedAt: number | null } {
  const parser = new Y.Parser(lc.addNewLine);
  lc.addNewLine(0);
  const tokens: CST.Token[] = [];
  let flow = 0;
  let scalarNext = false;
  let stoppedAt: number | null = null;
  for (const lexeme of new Y.Lexer().lex(text, false)) {
    // A scalar's source follows the SCALAR marker: a bracket there is text.
    if (!scalarNext && (lexeme === "[" || lexeme === "{") && ++flow > FLOW_GUARD) {
      stoppedAt = parser.offset;
      break;
    }
    if (!scalarNext && (lexeme === "]" || lexeme === "}")) flow = Math.max(0, flow - 1);
    scalarNext = lexeme === Y.CST.SCALAR;
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens, stoppedAt };
}

/** The parts of a CST token that hold other tokens. */
function children(t: CST.Token | CST.CollectionItem): (CST.Token | CST.CollectionItem)[] {
  const out: (CST.Token | CST.CollectionItem)[] = [];
  const r = t as Partial<Record<"start" | "sep" | "end" | "items" | "props", unknown>> & {
    key?: CST.Token | null;
    value?: CST.Token;
  };
  for (const part of [r.start, r.key, r.sep, r.value, r.props, r.items, r.end]) {
    if (Array.isArray(part)) out.push(...part);
    else if (part !== null && typeof part === "object") out.push(part as CST.Token);
  }
  return out;
}

/**
 * Checks the CST (iteratively: its depth is not yet bounded): one document,
 * no directive but `%YAML 1.2`, core tags only, nesting within MAX_DEPTH,
 * `x-` keys included.
 */
function checkTokens(file: string, lc: Yaml.LineCounter, tokens: CST.Token[]): void {
  let documents = 0;
  const stack: [CST.Token | CST.CollectionItem, number][] = [];
  for (let i = tokens.length - 1; i >= 0; i--) stack.push([tokens[i]!, 0]);
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    let inner = depth;
    if ("type" in t) {
      if (t.type === "document" && ++documents > 1) {
        failAt(file, lc, t.offset, "a second YAML document: a host file is one document");
      }
      if (t.type === "directive") {
        // A comment may follow: "%YAML 1.2 # ...".
        const words = t.source.replace(/\s#.*$/, "").trim().split(/\s+/);
        if (words[0] !== "%YAML") {
          failAt(file, lc, t.offset, `directive ${words[0]} is not supported`);
        }
        if (words[1] !== "1.2" || words.length > 2) {
          failAt(file, lc, t.offset, `${words.join(" ")}: host files are YAML 1.2`);
        }
      }
      if (t.type === "tag" && !CORE_TAGS.includes(t.source)) {
        failAt(
          file,
          lc,
          t.offset,
          `tag ${t.source} is not supported (only the core tags ${CORE_TAGS.join(", ")})`,
        );
      }
      if (t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection") {
        if (++inner > MAX_DEPTH) failAt(file, lc, t.offset, TOO_DEEP);
      }
    }
    const kids = children(t);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, inner]);
  }
}

/**
 * Every alias and the node its anchor named last before it, in one pass,
 * refusing an alias that contains itself or stands for more than MAX_NODES
 * nodes (a "billion laughs"), wherever it is, `x-` keys included.
 */
function indexAnchors(
  Y: YamlModule,
  file: string,
  lc: Yaml.LineCounter,
  doc: Yaml.Document.Parsed,
): Map<Yaml.Alias, Yaml.Node> {
  // Alias.resolve() walks the whole document at each call: a file of many
  // aliases would take quadratic time. Recursion: nesting is bounded by now.
  const latest = new Map<string, Yaml.Node>();
  const out = new Map<Yaml.Alias, Yaml.Node>();
  /** Nodes below each finished node, aliases expanded (capped above MAX_NODES). */
  const sizes = new Map<Yaml.Node, number>();
  const walk = (node: unknown): number => {
    if (Y.isAlias(node)) {
      const target = latest.get(node.source);
      // An unknown alias is reported where the file uses it (Reader.resolve).
      if (target === undefined) return 1;
      out.set(node, target);
      const size = sizes.get(target);
      const at = node.range?.[0] ?? 0;
      if (size === undefined) {
        failAt(file, lc, at, `alias *${node.source} is inside its own anchor`);
      }
      if (size > MAX_NODES) {
        failAt(file, lc, at, `alias *${node.source} stands for more than ${MAX_NODES} nodes`);
      }
      return size;
    }
    if (!Y.isNode(node)) return Y.isPair(node) ? walk(node.key) + walk(node.value) : 0;
    if (node.anchor) latest.set(node.anchor, node);
    let size = 1;
    if (Y.isCollection(node)) { for (const item of node.items) size += walk(item); }
    sizes.set(node, Math.min(size, MAX_NODES + 1));
    return sizes.get(node)!;
  };
  walk(doc.contents);
  return out;
}

/**
 * Where to point at for a library error: its own position, but the opening
 * quote of a string that is not closed (the library points at its end,
 * often the end of the file).
 */
function errorOffset(error: Yaml.YAMLError, tokens: CST.Token[]): number {
  const at = error.pos[0];
  if (error.code !== "MISSING_CHAR" || !/quote/.test(error.message)) return at;
  const stack: (CST.Token | CST.CollectionItem)[] = [...tokens];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (
      "type" in t && (t.type === "double-quoted-scalar" || t.type === "single-quoted-scalar") &&
      t.offset + t.source.length === at
    ) {
      return t.offset;
    }
    stack.push(...children(t));
  }
  return at;
}

/** Decodes and reads a host file's bytes as one YAML 1.2 document. */
export function readYaml(Y: YamlModule, file: string, bytes: Uint8Array): YamlSource {
  const text = decode(file, bytes);
  const lc = new Y.LineCounter();
  try {
    const { tokens, stoppedAt } = tokenize(Y, text, lc);
    checkTokens(file, lc, tokens);
    // Not reached in practice: the tokens before the bracket nest too deep.
    if (stoppedAt !== null) failAt(file, lc, stoppedAt, TOO_DEEP);
    const docs = [...new Y.Composer(composeOptions("1.2")).compose(tokens, true, text.length)];
    const doc = docs[0]!;
    const error = doc.errors[0];
    if (error !== undefined) {
      failAt(file, lc, errorOffset(error, tokens), libraryErrorText(error, text));
    }
    return { file, text, lc, tokens, doc, anchors: indexAnchors(Y, file, lc, doc) };
  } catch (e) {
    if (e instanceof MdevError) throw e;
    // The library failing in a way it does not report (none known): its
    // text would mean nothing to the user.
    throw new MdevError(`${file}:1:1: not valid YAML (the YAML reader gave up)`);
  }
}

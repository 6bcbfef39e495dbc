/**
 * The yaml library's syntax errors in this project's words. Its own texts
 * are for programmers (some name its API, e.g. `YAML.parseAllDocuments()`,
 * or carry a JavaScript engine message): the user sees one of these lines,
 * chosen by the error's code and, where one code covers several mistakes,
 * by the library's text.
 */
import type * as Yaml from "npm:yaml@2.9.1";

/** Per code, the first entry whose pattern matches the library's text (none: any). */
const MESSAGES: Record<Yaml.ErrorCode, [RegExp | null, string][]> = {
  ALIAS_PROPS: [[null, "an alias cannot have an anchor or a tag"]],
  BAD_ALIAS: [[null, 'an anchor or alias name that is empty or ends in ":"']],
  BAD_COLLECTION_TYPE: [[null, "the tag does not fit this kind of value"]],
  BAD_DIRECTIVE: [[null, "invalid directive"]],
  BAD_DQ_ESCAPE: [[null, "invalid escape sequence in a double-quoted string"]],
  BAD_INDENT: [
    [/same column/, "list items must start at the same column"],
    [null, "wrong indentation"],
  ],
  BAD_PROP_ORDER: [[null, 'an anchor or tag must come after the "-", "?" or ":" before it']],
  BAD_SCALAR_START: [[null, "a plain value cannot start with this character; quote it"]],
  BLOCK_AS_IMPLICIT_KEY: [[null, "a nested block mapping or list cannot stand here"]],
  BLOCK_IN_FLOW: [[null, "a block mapping or list cannot stand inside [...] or {...}"]],
  DUPLICATE_KEY: [[null, "duplicate key"]],
  IMPOSSIBLE: [[null, "not valid YAML"]],
  KEY_OVER_1024_CHARS: [[null, 'a key longer than 1024 characters (use "? " for long keys)']],
  MISSING_CHAR: [
    [/quote/, "a quoted string is not closed"],
    [/Missing , or : between/, 'missing "," or ":" between the items of {...} or [...]'],
    [/Missing , between/, 'missing "," between the items of {...} or [...]'],
    [/Missing space after/, 'missing space after ":"'],
    [/followed by map values/, 'a key without ":" and a value'],
    [/Sequence item without/, 'a list item without "-"'],
    [/white space/, "missing space before this"],
    [/directives-end|doc-start/, 'missing "---" line'],
    [null, "something is missing here"],
  ],
  MULTILINE_IMPLICIT_KEY: [[null, 'a key must be on one line (or start with "? ")']],
  MULTIPLE_ANCHORS: [[null, "a value can have only one anchor"]],
  MULTIPLE_DOCS: [[null, "a second YAML document: a host file is one document"]],
  MULTIPLE_TAGS: [[null, "a value can have only one tag"]],
  NON_STRING_KEY: [[null, "keys must be strings"]],
  RESOURCE_EXHAUSTION: [[null, "too deeply nested to read"]],
  TAB_AS_INDENT: [[null, "tab used as indentation (indent with spaces)"]],
  TAG_RESOLVE_FAILED: [[null, "the value does not fit its tag"]],
  UNEXPECTED_TOKEN: [[null, "unexpected"]],
};

/** The one-line message for a yaml library error (its position is the caller's). */
export function libraryErrorText(error: Yaml.YAMLError, text: string): string {
  const entries = MESSAGES[error.code] ?? [[null, "not valid YAML"]];
  const [, message] = entries.find(([re]) => re === null || re.test(error.message))!;
  if (error.code === "DUPLICATE_KEY") {
    // The key as written: quoted, or plain up to its ":".
    const key = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^:,\]}#\n]*)/.exec(
      text.slice(error.pos[0], error.pos[0] + 1100),
    )![1]!.trim();
    return key === "" ? message : `${message} ${key.startsWith('"') ? key : JSON.stringify(key)}`;
  }
  if (error.code !== "UNEXPECTED_TOKEN") return message;
  // Name what was found: the character there, or the end of the file.
  const at = text.codePointAt(error.pos[0]);
  if (at === undefined) return "unexpected end of file";
  const shown = at === 0x0a ? "end of line" : JSON.stringify(String.fromCodePoint(at));
  return `unexpected ${shown}`;
}

/**
 * Parsing JSON, with syntax errors located and worded as upstream's serde_json
 * words them (mdevctl.md §2.2 step 1): `expected value at line 1 column 1`.
 */

/** Thrown by parseJson with a serde-style message. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/**
 * Parses JSON text. Duplicate keys: the last wins (as upstream). On a syntax
 * error the message names the line and column the way upstream's parser does,
 * e.g. `expected value at line 1 column 1`.
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JsonSyntaxError(locateSyntaxError(text));
  }
  // Like upstream's parser, refuse nesting deeper than 127 (JSON.parse takes
  // any depth, and printing such a value back in a message would overflow).
  if (tooDeep(text)) throw new JsonSyntaxError(locateSyntaxError(text));
  return value;
}

/** Depth at which upstream's parser gives up (serde_json's recursion limit). */
const MAX_DEPTH = 128;

/** True when arrays and objects in valid JSON `text` nest MAX_DEPTH deep. */
function tooDeep(text: string): boolean {
  // Nesting MAX_DEPTH deep takes MAX_DEPTH openers and as many closers: a
  // shorter text (every config file) needs no scan.
  if (text.length < 2 * MAX_DEPTH) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth >= MAX_DEPTH) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Finds the first syntax error in `text` and words it as serde_json does. */
export function locateSyntaxError(text: string): string {
  let pos = 0;
  const at = (message: string, offset = pos): string => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
    const column = Math.min(offset + 1, text.length) - lineStart;
    return `${message} at line ${line} column ${column}`;
  };
  const eofAt = (message: string): string => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
    return `${message} at line ${line} column ${text.length - lineStart}`;
  };
  class Stop {
    constructor(readonly message: string) {}
  }
  const skipWs = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos]!)) pos++;
  };
  const value = (depth: number): void => {
    skipWs();
    if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a value"));
    const c = text[pos]!;
    // The opening bracket that would nest MAX_DEPTH deep is the error.
    if ((c === "{" || c === "[") && depth + 1 >= MAX_DEPTH) {
      throw new Stop(at("recursion limit exceeded"));
    }
    if (c === "{") {
      pos++;
      skipWs();
      if (text[pos] === "}") {
        pos++;
        return;
      }
      for (;;) {
        skipWs();
        if (pos >= text.length) throw new Stop(eofAt("EOF while parsing an object"));
        if (text[pos] !== '"') throw new Stop(at("key must be a string"));
        string();
        skipWs();
        if (pos >= text.length) throw new Stop(eofAt("EOF while parsing an object"));
        if (text[pos] !== ":") throw new Stop(at("expected `:`"));
        pos++;
        value(depth + 1);
        skipWs();
        if (pos >= text.length) throw new Stop(eofAt("EOF while parsing an object"));
        if (text[pos] === ",") {
          pos++;
          skipWs();
          if (text[pos] === "}") throw new Stop(at("trailing comma"));
          continue;
        }
        if (text[pos] === "}") {
          pos++;
          return;
        }
        throw new Stop(at("expected `,` or `}`"));
      }
    }
    if (c === "[") {
      pos++;
      skipWs();
      if (text[pos] === "]") {
        pos++;
        return;
      }
      for (;;) {
        value(depth + 1);
        skipWs();
        if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a list"));
        if (text[pos] === ",") {
          pos++;
          skipWs();
          if (text[pos] === "]") throw new Stop(at("trailing comma"));
          continue;
        }
        if (text[pos] === "]") {
          pos++;
          return;
        }
        throw new Stop(at("expected `,` or `]`"));
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) {
        for (let i = 0; i < word.length; i++, pos++) {
          if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a value"));
          if (text[pos] !== word[i]) throw new Stop(at("expected ident"));
        }
        return;
      }
    }
    throw new Stop(at("expected value"));
  };
  const string = (): void => {
    pos++;
    for (;;) {
      if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a string"));
      const ch = text[pos]!;
      if (ch === '"') {
        pos++;
        return;
      }
      if (ch < " ") {
        throw new Stop(at("control character (\\u0000-\\u001F) found while parsing a string"));
      }
      if (ch === "\\") {
        pos++;
        if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a string"));
        const e = text[pos]!;
        if (e === "u") {
          for (let i = 0; i < 4; i++) {
            pos++;
            if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a string"));
            if (!/[0-9a-fA-F]/.test(text[pos]!)) throw new Stop(at("invalid escape"));
          }
        } else if (!'"\\/bfnrt'.includes(e)) {
          throw new Stop(at("invalid escape"));
        }
      }
      pos++;
    }
  };
  const number = (): void => {
    if (text[pos] === "-") pos++;
    const digits = () => {
      const start = pos;
      while (pos < text.length && text[pos]! >= "0" && text[pos]! <= "9") pos++;
      return pos - start;
    };
    if (pos >= text.length) throw new Stop(eofAt("EOF while parsing a value"));
    if (text[pos] === "0") {
      pos++;
    } else if (digits() === 0) {
      throw new Stop(at("invalid number"));
    }
    if (text[pos] === ".") {
      pos++;
      if (digits() === 0) {
        throw new Stop(
          pos >= text.length ? eofAt("EOF while parsing a value") : at("invalid number"),
        );
      }
    }
    if (text[pos] === "e" || text[pos] === "E") {
      pos++;
      if (text[pos] === "+" || text[pos] === "-") pos++;
      if (digits() === 0) {
        throw new Stop(
          pos >= text.length ? eofAt("EOF while parsing a value") : at("invalid number"),
        );
      }
    }
  };
  try {
    value(0);
    skipWs();
    if (pos < text.length) return at("trailing characters");
  } catch (e) {
    if (e instanceof Stop) return e.message;
    throw e;
  }
  return "invalid JSON";
}

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
  const locator = new SyntaxLocator(text);
  try {
    locator.value(0);
    locator.skipWs();
    if (locator.pos < text.length) return locator.at("trailing characters");
  } catch (e) {
    if (e instanceof Stop) return e.message;
    throw e;
  }
  return "invalid JSON";
}

/** The first error found, already worded: unwinds the recursive scan. */
class Stop {
  constructor(readonly message: string) {}
}

/** A recursive scan of JSON text that stops at the first error, as serde_json words it. */
class SyntaxLocator {
  pos = 0;
  constructor(private readonly text: string) {}

  /** `<message> at line L column C` for an offset (serde_json counts columns from 1). */
  at(message: string, offset = this.pos): string {
    const text = this.text;
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
  }

  /** The same at the end of the text, where serde_json reports EOF errors. */
  eofAt(message: string): string {
    const text = this.text;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
    return `${message} at line ${line} column ${text.length - lineStart}`;
  }

  private get ended(): boolean {
    return this.pos >= this.text.length;
  }

  /** The character at the position (a method: TypeScript would narrow a property). */
  private peek(): string | undefined {
    return this.text[this.pos];
  }

  skipWs(): void {
    while (!this.ended && " \t\n\r".includes(this.peek()!)) this.pos++;
  }

  value(depth: number): void {
    this.skipWs();
    if (this.ended) throw new Stop(this.eofAt("EOF while parsing a value"));
    const c = this.peek()!;
    // The opening bracket that would nest MAX_DEPTH deep is the error.
    if ((c === "{" || c === "[") && depth + 1 >= MAX_DEPTH) {
      throw new Stop(this.at("recursion limit exceeded"));
    }
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) return this.word(word);
    }
    throw new Stop(this.at("expected value"));
  }

  private object(depth: number): void {
    this.pos++;
    this.skipWs();
    if (this.peek() === "}") {
      this.pos++;
      return;
    }
    const eof = () => new Stop(this.eofAt("EOF while parsing an object"));
    for (;;) {
      this.skipWs();
      if (this.ended) throw eof();
      if (this.peek() !== '"') throw new Stop(this.at("key must be a string"));
      this.string();
      this.skipWs();
      if (this.ended) throw eof();
      if (this.peek() !== ":") throw new Stop(this.at("expected `:`"));
      this.pos++;
      this.value(depth + 1);
      this.skipWs();
      if (this.ended) throw eof();
      if (this.peek() === ",") {
        this.pos++;
        this.skipWs();
        if (this.peek() === "}") throw new Stop(this.at("trailing comma"));
        continue;
      }
      if (this.peek() === "}") {
        this.pos++;
        return;
      }
      throw new Stop(this.at("expected `,` or `}`"));
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.skipWs();
    if (this.peek() === "]") {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.skipWs();
      if (this.ended) throw new Stop(this.eofAt("EOF while parsing a list"));
      if (this.peek() === ",") {
        this.pos++;
        this.skipWs();
        if (this.peek() === "]") throw new Stop(this.at("trailing comma"));
        continue;
      }
      if (this.peek() === "]") {
        this.pos++;
        return;
      }
      throw new Stop(this.at("expected `,` or `]`"));
    }
  }

  private word(word: string): void {
    for (let i = 0; i < word.length; i++, this.pos++) {
      if (this.ended) throw new Stop(this.eofAt("EOF while parsing a value"));
      if (this.peek() !== word[i]) throw new Stop(this.at("expected ident"));
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      if (this.ended) throw new Stop(this.eofAt("EOF while parsing a string"));
      const ch = this.peek()!;
      if (ch === '"') {
        this.pos++;
        return;
      }
      if (ch < " ") {
        throw new Stop(
          this.at("control character (\\u0000-\\u001F) found while parsing a string"),
        );
      }
      if (ch === "\\") this.escape();
      this.pos++;
    }
  }

  private escape(): void {
    this.pos++;
    if (this.ended) throw new Stop(this.eofAt("EOF while parsing a string"));
    const e = this.peek()!;
    if (e === "u") {
      for (let i = 0; i < 4; i++) {
        this.pos++;
        if (this.ended) throw new Stop(this.eofAt("EOF while parsing a string"));
        if (!/[0-9a-fA-F]/.test(this.peek()!)) throw new Stop(this.at("invalid escape"));
      }
    } else if (!'"\\/bfnrt'.includes(e)) {
      throw new Stop(this.at("invalid escape"));
    }
  }

  private digits(): number {
    const start = this.pos;
    while (!this.ended && this.peek()! >= "0" && this.peek()! <= "9") this.pos++;
    return this.pos - start;
  }

  /** After `.` or an exponent: digits must follow. */
  private fraction(): void {
    if (this.digits() === 0) {
      throw new Stop(
        this.ended ? this.eofAt("EOF while parsing a value") : this.at("invalid number"),
      );
    }
  }

  private number(): void {
    if (this.peek() === "-") this.pos++;
    if (this.ended) throw new Stop(this.eofAt("EOF while parsing a value"));
    if (this.peek() === "0") {
      this.pos++;
    } else if (this.digits() === 0) {
      throw new Stop(this.at("invalid number"));
    }
    if (this.peek() === ".") {
      this.pos++;
      this.fraction();
    }
    if (this.peek() === "e" || this.peek() === "E") {
      this.pos++;
      if (this.peek() === "+" || this.peek() === "-") this.pos++;
      this.fraction();
    }
  }
}

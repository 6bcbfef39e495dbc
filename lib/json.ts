/**
 * JSON in upstream's exact bytes (mdevctl.md §6.5). Parsing, with errors in
 * upstream's words, is lib/json_parse.ts.
 *
 * Objects whose keys come from data (parent names such as "1234") are built
 * as `JsonObject` entry lists: a plain JavaScript object would move
 * integer-like keys to the front.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** An object whose members are emitted in the order given. */
export class JsonObject {
  readonly entries: readonly (readonly [string, JsonValue])[];

  constructor(entries: readonly (readonly [string, JsonValue])[]) {
    this.entries = entries;
  }
}

/** Shorthand for a JsonObject. */
export function obj(...entries: (readonly [string, JsonValue])[]): JsonObject {
  return new JsonObject(entries);
}

/**
 * Two-space indented form used by config files and `--dumpjson`; no final
 * newline. `indent` is the indentation of the line the value starts on.
 */
export function toPrettyJson(value: JsonValue, indent = ""): string {
  const out: string[] = [];
  writePretty(value, indent, out);
  return out.join("");
}

/** Keys a JavaScript object would reorder (array indices, mdevctl.md §6.5). */
const INDEX_KEY = /^(0|[1-9]\d{0,9})$/;

/**
 * The same value as plain objects when that keeps every key order (no
 * index-like or duplicate keys), so the native JSON.stringify can print it;
 * `undefined` otherwise.
 */
function toPlain(value: JsonValue): unknown {
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = toPlain(value[i]!);
      if (item === undefined) return undefined;
      items[i] = item;
    }
    return items;
  }
  if (value instanceof JsonObject) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of value.entries) {
      if (INDEX_KEY.test(key) && Number(key) < 4294967295) return undefined;
      if (Object.hasOwn(result, key)) return undefined;
      const plain = toPlain(item);
      if (plain === undefined) return undefined;
      result[key] = plain;
    }
    return result;
  }
  return value;
}

function writePretty(value: JsonValue, indent: string, out: string[]): void {
  if (typeof value === "object" && value !== null) {
    // Fast path: the native printer, re-indented to where this value sits.
    const plain = toPlain(value);
    if (plain !== undefined) {
      const text = JSON.stringify(plain, null, 2);
      out.push(indent === "" ? text : text.replaceAll("\n", "\n" + indent));
      return;
    }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push("[]");
      return;
    }
    const inner = indent + "  ";
    out.push("[\n");
    value.forEach((item, i) => {
      out.push(inner);
      writePretty(item, inner, out);
      out.push(i + 1 < value.length ? ",\n" : "\n");
    });
    out.push(indent, "]");
  } else if (value instanceof JsonObject) {
    const entries = value.entries;
    if (entries.length === 0) {
      out.push("{}");
      return;
    }
    const inner = indent + "  ";
    out.push("{\n");
    entries.forEach(([key, item], i) => {
      out.push(inner, JSON.stringify(key), ": ");
      writePretty(item, inner, out);
      out.push(i + 1 < entries.length ? ",\n" : "\n");
    });
    out.push(indent, "}");
  } else {
    out.push(JSON.stringify(value));
  }
}

/** Form without any whitespace, used for callout stdin. */
export function toCompactJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(toCompactJson).join(",")}]`;
  if (value instanceof JsonObject) {
    return `{${
      value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toCompactJson(v)}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/**
 * Typed reading of a parsed host file's nodes (hostfile.md §2,
 * "Validation"): strings that are strings, decimal integers, booleans,
 * mappings with string keys (`x-` keys dropped), lists; aliases followed
 * with a bound on depth and on nodes visited; the YAML 1.1 lint. Every
 * refusal is one `<file>:<line>:<col>: <message>` error.
 */
import type * as Yaml from "npm:yaml@2.9.1";
import type { Attr } from "../config.ts";
import { MdevError } from "../errors.ts";
import { isValidAttributeName, isValidDeviceName } from "../names.ts";
import {
  composeOptions,
  MAX_DEPTH,
  MAX_NODES,
  TOO_DEEP,
  type YamlModule,
  type YamlSource,
} from "./yaml_source.ts";

/** Owner, pool and id names: also UUID name components, so never `/`. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Where something was written, for messages: `<file>:<line>:<col>`. */
export type Where = string;

export type Node = Yaml.Node;

/** A mapping's entries by key, `x-` keys left out. */
export type Entries = Map<string, { key: Node; value: Node | null }>;

/** Reads the nodes of one host file; collects its YAML 1.1 lint warnings. */
export class Reader {
  private nodes = 0;
  readonly warnings: string[] = [];
  private lint11: Map<number, string> | null = null;
  readonly file: string;
  readonly text: string;

  constructor(readonly Y: YamlModule, readonly src: YamlSource) {
    this.file = src.file;
    this.text = src.text;
  }

  pos(offset: number): string {
    const { line, col } = this.src.lc.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  where(node: Node | null | undefined, fallback = 0): Where {
    return this.pos(node?.range?.[0] ?? fallback);
  }

  fail(node: Node | null | undefined, message: string, fallback = 0): never {
    throw new MdevError(`${this.where(node, fallback)}: ${message}`);
  }

  /** Follows aliases, counting every visit (alias bombs) and bounding depth. */
  resolve(node: unknown, depth: number): Node | null {
    if (++this.nodes > MAX_NODES) {
      this.fail(node as Node, `too many nodes (more than ${MAX_NODES} after expanding aliases)`);
    }
    // Reached only through aliases: the file itself was checked (yaml_source.ts).
    if (depth > MAX_DEPTH) this.fail(node as Node, TOO_DEEP);
    let n = node as Node | null;
    let hops = 0;
    while (n !== null && this.Y.isAlias(n)) {
      const target = this.src.anchors.get(n);
      if (target === undefined) this.fail(n, `unknown alias *${n.source}`);
      if (++hops > 64) this.fail(n, "alias chain too long");
      n = target;
    }
    return n;
  }

  /** A map's entries by key; keys must be plain strings; `x-` keys are dropped. */
  map(node: unknown, what: string, depth: number, fallback: Node | null = null): Entries {
    const n = this.resolve(node, depth);
    if (n === null || !this.Y.isMap(n)) {
      this.fail(n ?? fallback, `${what} must be a mapping`);
    }
    const out: Entries = new Map();
    for (const pair of n.items) {
      const key = this.resolve(pair.key, depth + 1);
      if (key === null || !this.Y.isScalar(key) || typeof key.value !== "string") {
        this.fail(key ?? n, `keys of ${what} must be strings`);
      }
      const name = key.value;
      if (name.startsWith("x-")) continue;
      if (out.has(name)) this.fail(key, `duplicate key "${name}" in ${what}`);
      out.set(name, { key, value: (pair.value ?? null) as Node | null });
    }
    return out;
  }

  allowKeys(entries: Entries, allowed: readonly string[], what: string): void {
    for (const [name, { key }] of entries) {
      if (!allowed.includes(name)) {
        this.fail(
          key,
          `unknown key ${JSON.stringify(name)} in ${what} (expected one of: ${allowed.join(", ")})`,
        );
      }
    }
  }

  seq(node: unknown, what: string, depth: number, fallback: Node | null = null): Node[] {
    const n = this.resolve(node, depth);
    if (n === null || !this.Y.isSeq(n)) this.fail(n ?? fallback, `${what} must be a list`);
    return n.items as Node[];
  }

  str(node: unknown, what: string, depth: number, fallback: Node | null = null): string {
    const n = this.resolve(node, depth);
    if (n === null || !this.Y.isScalar(n)) this.fail(n ?? fallback, `${what} must be a string`);
    if (typeof n.value === "number" || typeof n.value === "bigint") {
      this.fail(n, `${what} must be a string, not the number ${this.source(n)}; quote it`);
    }
    if (typeof n.value !== "string") {
      // Only booleans and null are left: the core schema has no other scalars.
      const shown = typeof n.value === "boolean" ? String(n.value) : "null";
      this.fail(n, `${what} must be a string, not ${shown}; quote it if meant literally`);
    }
    this.lint(n);
    return n.value;
  }

  /** A non-negative decimal integer, as written (no 1e3, 0x10 or 2.0). */
  int(node: unknown, what: string, depth: number, min: number, max: number): number {
    const n = this.resolve(node, depth);
    const text = n !== null && this.Y.isScalar(n) ? this.source(n) : "";
    if (
      n === null || !this.Y.isScalar(n) || typeof n.value !== "number" ||
      !/^\+?[0-9]+$/.test(text)
    ) {
      this.fail(n, `${what} must be an integer`);
    }
    const v = n.value as number;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(n, `${what} must be between ${min} and ${max}, not ${text}`);
    }
    return v;
  }

  bool(node: unknown, what: string, depth: number): boolean {
    const n = this.resolve(node, depth);
    if (n === null || !this.Y.isScalar(n) || typeof n.value !== "boolean") {
      this.fail(n, `${what} must be true or false`);
    }
    return n.value as boolean;
  }

  /** One string or a list of them. */
  strings(node: unknown, what: string, depth: number): string[] {
    const n = this.resolve(node, depth);
    if (n !== null && this.Y.isSeq(n)) {
      const items = (n.items as Node[]).map((item, i) =>
        this.str(item, `${what}[${i}]`, depth + 1)
      );
      if (items.length === 0) this.fail(n, `${what} must not be empty`);
      return items;
    }
    return [this.str(n, what, depth)];
  }

  source(n: Node): string {
    const r = n.range;
    return r ? this.text.slice(r[0], r[1]).trim() : "";
  }

  /** Warns when YAML 1.1 tools would read this plain string as something else (§2.2). */
  private lint(n: Yaml.Scalar): void {
    const at = n.range?.[0];
    if (n.type !== "PLAIN" || at === undefined) return;
    this.lint11 ??= this.scalars11();
    const kind = this.lint11.get(at);
    if (kind === undefined) return;
    const line = this.src.lc.linePos(at).line;
    this.warnings.push(
      `${this.file}:${line}: ${
        JSON.stringify(n.value)
      } is read as ${kind} by YAML 1.1 tools (PyYAML/Ansible); quote it`,
    );
  }

  /** Where YAML 1.1 reads a scalar as something other than a string: offset → what. */
  private scalars11(): Map<number, string> {
    const out = new Map<number, string>();
    // The same tokens composed again under 1.1 rules: no second lexing.
    const composer = new this.Y.Composer(composeOptions("1.1"));
    const doc11 = [...composer.compose(this.src.tokens, true, this.text.length)][0]!;
    this.Y.visit(doc11, {
      Scalar: (_key, s) => {
        const at = s.range?.[0];
        if (at === undefined || typeof s.value === "string") return;
        const kind = typeof s.value === "boolean"
          ? "a boolean"
          : s.value === null
          ? "null"
          : typeof s.value === "number" || typeof s.value === "bigint"
          ? "a number"
          : "another type";
        out.set(at, kind);
      },
    });
    return out;
  }
}

/** An owner, pool or id name. */
export function checkIdent(r: Reader, node: Node | null, what: string, value: string): string {
  if (!NAME_PATTERN.test(value)) {
    r.fail(
      node,
      `${what} ${JSON.stringify(value)} is not a valid name ([a-z0-9][a-z0-9._-]{0,62})`,
    );
  }
  return value;
}

/** A parent or type name: a single path component (the 1.x rules). */
export function checkDeviceName(
  r: Reader,
  node: Node | null,
  what: string,
  value: string,
): string {
  if (!isValidDeviceName(value)) {
    r.fail(node, `${what} ${JSON.stringify(value)} is not a valid name (no "/", "." or "..")`);
  }
  if (value.length > 255) r.fail(node, `${what} is longer than 255 bytes`);
  return value;
}

/** `start: auto|manual`, as autostart. */
export function readStart(r: Reader, node: Node | null, what: string, depth: number): boolean {
  const v = r.str(node, what, depth);
  if (v !== "auto" && v !== "manual") {
    r.fail(r.resolve(node, depth), `${what} must be "auto" or "manual", not ${JSON.stringify(v)}`);
  }
  return v === "auto";
}

/** `attrs: [{name: value}, ...]`: order and repeats kept, values strings. */
export function readAttrs(r: Reader, node: Node | null, what: string, depth: number): Attr[] {
  const attrs: Attr[] = [];
  r.seq(node, what, depth).forEach((item, i) => {
    const label = `${what}[${i}]`;
    const entries = r.map(item, label, depth + 1);
    if (entries.size !== 1) {
      r.fail(r.resolve(item, depth + 1), `${label} must have exactly one "name: value" entry`);
    }
    const [name, { key, value }] = [...entries][0]!;
    if (!isValidAttributeName(name)) {
      r.fail(key, `invalid attribute name ${JSON.stringify(name)}`);
    }
    const v = r.resolve(value, depth + 2);
    if (v !== null && r.Y.isScalar(v) && typeof v.value === "number") {
      r.fail(
        v,
        `attribute ${name}: value ${
          r.source(v)
        } is a number; quote it (a number would lose its spelling, e.g. 0x0004)`,
      );
    }
    attrs.push([name, r.str(v, `attribute ${name}`, depth + 2, key)]);
  });
  return attrs;
}

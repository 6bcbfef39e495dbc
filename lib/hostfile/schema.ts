/**
 * Host files, version 1 (hostfile.md §2): the parsed form and its strict
 * validation. Every error is one line `<file>:<line>:<col>: <message>`.
 *
 * Pure: the caller passes the text and the `yaml` module (loaded lazily by
 * load.ts), so this file costs nothing to commands that never read YAML.
 */
import type * as Yaml from "npm:yaml@2.9.1";
import type { Attr } from "../config.ts";
import { MdevError } from "../errors.ts";
import { isValidAttributeName, isValidDeviceName } from "../names.ts";
import { parseUuid } from "../uuid.ts";
import { DEFAULT_NAMESPACE, deviceIdName, uuid5 } from "./uuid5.ts";

/** Owner, pool and id names: also UUID name components, so never `/`. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Largest `perParent` and `count`: far above any real parent's capacity. */
export const MAX_PER_PARENT = 4096;
export const MAX_COUNT = 65536;
/** Largest host file read (bytes). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Deepest nesting of maps and lists accepted. */
const MAX_DEPTH = 32;
/** Most nodes visited, aliases expanded: stops alias bombs. */
const MAX_NODES = 200_000;

export type TypeSelector =
  | { kind: "id"; value: string }
  | { kind: "name"; value: string }
  | { kind: "nameToken"; value: string };

export interface ParentSelector {
  names?: string[];
  driver?: string[];
  pciVendor?: string[];
  pciDevice?: string[];
  physfn?: string[];
}

/** Where something was written, for messages: `<file>:<line>:<col>`. */
export type Where = string;

export interface DeviceSpec {
  uuid: string;
  /** The id the uuid was derived from, when given by id. */
  id: string | undefined;
  parent: string;
  type: string;
  autostart: boolean;
  attrs: Attr[];
  where: Where;
}

export interface PoolSpec {
  name: string;
  type: TypeSelector;
  parents: ParentSelector;
  perParent: number | "max" | undefined;
  count: number | undefined;
  placement: "spread" | "pack";
  exclusive: boolean;
  autostart: boolean;
  attrs: Attr[];
  where: Where;
  /** Where the type selector was written (ambiguity errors point there). */
  typeWhere: Where;
}

export interface HostFile {
  /** The file name as messages show it. */
  file: string;
  owner: string;
  namespace: string;
  devices: DeviceSpec[];
  pools: PoolSpec[];
  /** YAML 1.1 lint lines (without the `W: ` prefix). */
  warnings: string[];
}

/** Shows a type selector as written (`{name: "GRID T4-1Q"}`). */
export function selectorText(sel: TypeSelector): string {
  return sel.kind === "id" ? sel.value : `{${sel.kind}: ${JSON.stringify(sel.value)}}`;
}

type YamlModule = typeof import("npm:yaml@2.9.1");
type Node = Yaml.Node;

class Reader {
  private nodes = 0;
  readonly warnings: string[] = [];
  private lint11: Map<number, string> | null = null;

  constructor(
    readonly Y: YamlModule,
    readonly file: string,
    readonly text: string,
    readonly lc: Yaml.LineCounter,
    readonly doc: Yaml.Document.Parsed,
  ) {}

  pos(offset: number): string {
    const { line, col } = this.lc.linePos(offset);
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
    if (depth > MAX_DEPTH) this.fail(node as Node, `nesting deeper than ${MAX_DEPTH} levels`);
    let n = node as Node | null;
    let hops = 0;
    while (n !== null && this.Y.isAlias(n)) {
      const target = n.resolve(this.doc);
      if (target === undefined) this.fail(n, `unknown alias *${n.source}`);
      if (++hops > 64) this.fail(n, "alias chain too long");
      n = target as Node;
    }
    return n;
  }

  /** A map's entries by key; keys must be plain strings; `x-` keys are dropped. */
  map(node: unknown, what: string, depth: number, fallback: Node | null = null): Map<
    string,
    { key: Node; value: Node | null }
  > {
    const n = this.resolve(node, depth);
    if (n === null || !this.Y.isMap(n)) {
      this.fail(n ?? fallback, `${what} must be a mapping`);
    }
    const out = new Map<string, { key: Node; value: Node | null }>();
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

  allowKeys(
    entries: Map<string, { key: Node }>,
    allowed: readonly string[],
    what: string,
  ): void {
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
      const shown = n.value === null ? "null" : String(n.value);
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
    if (this.lint11 === null) {
      this.lint11 = new Map();
      const doc11 = this.Y.parseDocument(this.text, {
        version: "1.1",
        uniqueKeys: false,
        prettyErrors: false,
      });
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
          this.lint11!.set(at, kind);
        },
      });
    }
    const kind = this.lint11.get(at);
    if (kind === undefined) return;
    const line = this.lc.linePos(at).line;
    this.warnings.push(
      `${this.file}:${line}: ${
        JSON.stringify(n.value)
      } is read as ${kind} by YAML 1.1 tools (PyYAML/Ansible); quote it`,
    );
  }
}

/** An owner, id or name field of a host file (NAME_PATTERN); device names are lib/names.ts's. */
function checkIdent(r: Reader, node: Node | null, what: string, value: string): string {
  if (!NAME_PATTERN.test(value)) {
    r.fail(
      node,
      `${what} ${JSON.stringify(value)} is not a valid name ([a-z0-9][a-z0-9._-]{0,62})`,
    );
  }
  return value;
}

function checkDeviceName(r: Reader, node: Node | null, what: string, value: string): string {
  if (!isValidDeviceName(value)) {
    r.fail(node, `${what} ${JSON.stringify(value)} is not a valid name (no "/", "." or "..")`);
  }
  if (value.length > 255) r.fail(node, `${what} is longer than 255 bytes`);
  return value;
}

function readStart(r: Reader, node: Node | null, what: string, depth: number): boolean {
  const v = r.str(node, what, depth);
  if (v !== "auto" && v !== "manual") {
    r.fail(r.resolve(node, depth), `${what} must be "auto" or "manual", not ${JSON.stringify(v)}`);
  }
  return v === "auto";
}

function readAttrs(r: Reader, node: Node | null, what: string, depth: number): Attr[] {
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

interface Defaults {
  autostart: boolean;
}

function readDefaults(r: Reader, node: Node | null, depth: number, base: Defaults): Defaults {
  const m = r.map(node, "defaults", depth);
  r.allowKeys(m, ["start"], "defaults");
  const start = m.get("start");
  return {
    autostart: start ? readStart(r, start.value, "defaults.start", depth + 1) : base.autostart,
  };
}

function readDevice(
  r: Reader,
  node: Node,
  index: number,
  owner: string,
  namespace: string,
  defaults: Defaults,
  depth: number,
): DeviceSpec {
  const label = `devices[${index}]`;
  const m = r.map(node, label, depth);
  r.allowKeys(m, ["uuid", "id", "parent", "type", "start", "attrs"], label);
  const self = r.resolve(node, depth);
  const uuidEntry = m.get("uuid");
  const idEntry = m.get("id");
  if ((uuidEntry === undefined) === (idEntry === undefined)) {
    r.fail(uuidEntry?.key ?? idEntry?.key ?? self, `${label} needs exactly one of "uuid" or "id"`);
  }
  let uuid: string;
  let id: string | undefined;
  if (uuidEntry) {
    const text = r.str(uuidEntry.value, `${label}.uuid`, depth + 1, uuidEntry.key);
    const parsed = parseUuid(text);
    if (parsed === null) {
      r.fail(uuidEntry.value, `${label}.uuid ${JSON.stringify(text)} is not a UUID`);
    }
    uuid = parsed;
  } else {
    id = checkIdent(
      r,
      idEntry!.value,
      `${label}.id`,
      r.str(idEntry!.value, `${label}.id`, depth + 1, idEntry!.key),
    );
    uuid = uuid5(namespace, deviceIdName(owner, id));
  }
  const required = (key: string) => {
    const e = m.get(key);
    if (e === undefined) r.fail(self, `${label} is missing the required key "${key}"`);
    return e;
  };
  const p = required("parent");
  const parent = checkDeviceName(
    r,
    p.value,
    `${label}.parent`,
    r.str(p.value, `${label}.parent`, depth + 1, p.key),
  );
  const t = required("type");
  const type = checkDeviceName(
    r,
    t.value,
    `${label}.type`,
    r.str(t.value, `${label}.type`, depth + 1, t.key),
  );
  const start = m.get("start");
  const attrs = m.get("attrs");
  return {
    uuid,
    id,
    parent,
    type,
    autostart: start ? readStart(r, start.value, `${label}.start`, depth + 1) : defaults.autostart,
    attrs: attrs ? readAttrs(r, attrs.value, `${label}.attrs`, depth + 1) : [],
    where: r.where(self),
  };
}

function readTypeSelector(
  r: Reader,
  node: Node | null,
  label: string,
  depth: number,
): TypeSelector {
  const n = r.resolve(node, depth);
  if (n !== null && r.Y.isMap(n)) {
    const m = r.map(n, label, depth);
    r.allowKeys(m, ["id", "name", "nameToken"], label);
    if (m.size !== 1) r.fail(n, `${label} needs exactly one of "id", "name" or "nameToken"`);
    const [kind, { key, value }] = [...m][0]!;
    const v = r.str(value, `${label}.${kind}`, depth + 1, key);
    if (kind === "id") return { kind, value: checkDeviceName(r, value, `${label}.id`, v) };
    if (v.trim() === "") r.fail(value ?? key, `${label}.${kind} must not be empty`);
    return { kind: kind as "name" | "nameToken", value: v };
  }
  const v = r.str(n, label, depth);
  return { kind: "id", value: checkDeviceName(r, n, label, v) };
}

function readParents(r: Reader, node: Node | null, label: string, depth: number): ParentSelector {
  const m = r.map(node, label, depth);
  const keys = ["names", "driver", "pciVendor", "pciDevice", "physfn"] as const;
  r.allowKeys(m, keys, label);
  const sel: ParentSelector = {};
  for (const key of keys) {
    const e = m.get(key);
    if (e === undefined) continue;
    const values = r.strings(e.value, `${label}.${key}`, depth + 1);
    if (key === "pciVendor" || key === "pciDevice") {
      values.forEach((v) => {
        if (!/^(0x)?[0-9a-fA-F]{1,4}$/.test(v)) {
          r.fail(
            r.resolve(e.value, depth + 1),
            `${label}.${key}: ${JSON.stringify(v)} is not a PCI id (e.g. "0x10de")`,
          );
        }
      });
    }
    sel[key] = values;
  }
  return sel;
}

function readPool(
  r: Reader,
  node: Node,
  index: number,
  defaults: Defaults,
  depth: number,
): PoolSpec {
  let label = `pools[${index}]`;
  const m = r.map(node, label, depth);
  const self = r.resolve(node, depth);
  r.allowKeys(
    m,
    ["name", "type", "parents", "perParent", "count", "placement", "exclusive", "start", "attrs"],
    label,
  );
  const nameEntry = m.get("name");
  if (nameEntry === undefined) r.fail(self, `${label} is missing the required key "name"`);
  const name = checkIdent(
    r,
    nameEntry.value,
    `${label}.name`,
    r.str(nameEntry.value, `${label}.name`, depth + 1, nameEntry.key),
  );
  label = `pool ${name}`;
  const typeEntry = m.get("type");
  if (typeEntry === undefined) r.fail(self, `${label} is missing the required key "type"`);
  const type = readTypeSelector(r, typeEntry.value, `${label}: type`, depth + 1);
  const per = m.get("perParent");
  const count = m.get("count");
  if ((per === undefined) === (count === undefined)) {
    r.fail(per?.key ?? count?.key ?? self, `${label} needs exactly one of "perParent" or "count"`);
  }
  let perParent: number | "max" | undefined;
  if (per) {
    const n = r.resolve(per.value, depth + 1);
    if (n !== null && r.Y.isScalar(n) && n.value === "max") perParent = "max";
    else {
      if (n !== null && r.Y.isScalar(n) && typeof n.value === "string") {
        r.fail(n, `${label}: perParent must be an integer >= 1 or "max"`);
      }
      perParent = r.int(n, `${label}: perParent`, depth + 1, 1, MAX_PER_PARENT);
    }
  }
  const placement = m.get("placement");
  if (placement && count === undefined) {
    r.fail(placement.key, `${label}: placement applies only with "count"`);
  }
  let placementValue: "spread" | "pack" = "spread";
  if (placement) {
    const v = r.str(placement.value, `${label}: placement`, depth + 1, placement.key);
    if (v !== "spread" && v !== "pack") {
      r.fail(
        placement.value,
        `${label}: placement must be "spread" or "pack", not ${JSON.stringify(v)}`,
      );
    }
    placementValue = v;
  }
  const parents = m.get("parents");
  const exclusive = m.get("exclusive");
  const start = m.get("start");
  const attrs = m.get("attrs");
  return {
    name,
    type,
    parents: parents ? readParents(r, parents.value, `${label}: parents`, depth + 1) : {},
    perParent,
    count: count ? r.int(count.value, `${label}: count`, depth + 1, 0, MAX_COUNT) : undefined,
    placement: placementValue,
    exclusive: exclusive ? r.bool(exclusive.value, `${label}: exclusive`, depth + 1) : false,
    autostart: start ? readStart(r, start.value, `${label}: start`, depth + 1) : defaults.autostart,
    attrs: attrs ? readAttrs(r, attrs.value, `${label}: attrs`, depth + 1) : [],
    where: r.where(self),
    typeWhere: r.where(r.resolve(typeEntry.value, depth + 1) ?? typeEntry.key),
  };
}

/** What varies between profiles: devices, pools and defaults. */
function readBody(
  r: Reader,
  m: Map<string, { key: Node; value: Node | null }>,
  owner: string,
  namespace: string,
  defaults: Defaults,
  depth: number,
): { devices: DeviceSpec[]; pools: PoolSpec[] } {
  const d = m.get("defaults");
  const defs = d ? readDefaults(r, d.value, depth, defaults) : defaults;
  const devicesEntry = m.get("devices");
  const poolsEntry = m.get("pools");
  const devices = devicesEntry === undefined || devicesEntry.value === null
    ? []
    : r.seq(devicesEntry.value, "devices", depth, devicesEntry.key)
      .map((n, i) => readDevice(r, n, i, owner, namespace, defs, depth + 1));
  const pools = poolsEntry === undefined || poolsEntry.value === null
    ? []
    : r.seq(poolsEntry.value, "pools", depth, poolsEntry.key)
      .map((n, i) => readPool(r, n, i, defs, depth + 1));
  const seen = new Map<string, PoolSpec>();
  for (const pool of pools) {
    const earlier = seen.get(pool.name);
    if (earlier) {
      throw new MdevError(
        `${pool.where}: pool name ${JSON.stringify(pool.name)} is already used at ${earlier.where}`,
      );
    }
    seen.set(pool.name, pool);
  }
  const uuids = new Map<string, DeviceSpec>();
  for (const dev of devices) {
    const earlier = uuids.get(dev.uuid);
    if (earlier) {
      throw new MdevError(
        `${dev.where}: uuid ${dev.uuid} (${origin(dev)}) is also used by ${
          origin(earlier)
        } at ${earlier.where}`,
      );
    }
    uuids.set(dev.uuid, dev);
  }
  return { devices, pools };
}

function origin(dev: DeviceSpec): string {
  return dev.id === undefined ? "explicit uuid" : `id ${dev.id}`;
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

export interface ParseOptions {
  /** `--profile`; a lone profile is chosen without it. */
  profile?: string | undefined;
}

/** Decodes, parses and validates a host file (hostfile.md §2). */
export function parseHostFile(
  Y: YamlModule,
  file: string,
  bytes: Uint8Array,
  options: ParseOptions = {},
): HostFile {
  if (bytes.length > MAX_FILE_BYTES) {
    throw new MdevError(`${file}:1:1: file is larger than ${MAX_FILE_BYTES} bytes`);
  }
  const bad = invalidUtf8At(bytes);
  if (bad !== null) {
    throw new MdevError(`${file}:${bad.line}:${bad.col}: invalid UTF-8`);
  }
  let text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf("\0");
  const lc = new Y.LineCounter();
  let doc: Yaml.Document.Parsed;
  try {
    doc = Y.parseDocument(text, {
      version: "1.2",
      schema: "core",
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      lineCounter: lc,
    });
  } catch (e) {
    // The parser itself can run out of stack on absurd nesting.
    throw new MdevError(`${file}:1:1: cannot parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (nul >= 0) {
    const { line, col } = lc.linePos(nul);
    throw new MdevError(`${file}:${line}:${col}: NUL character`);
  }
  const error = doc.errors[0];
  if (error !== undefined) {
    const { line, col } = lc.linePos(error.pos[0]);
    const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new MdevError(`${file}:${line}:${col}: ${message}`);
  }
  const r: Reader = new Reader(Y, file, text, lc, doc);
  if (doc.contents === null) r.fail(null, "empty file: expected a mapping with version: 1");
  const top = r.map(doc.contents, "the file", 0);
  r.allowKeys(
    top,
    ["version", "owner", "uuidNamespace", "defaults", "devices", "pools", "profiles"],
    "the file",
  );
  const version = top.get("version");
  if (version === undefined) {
    r.fail(doc.contents, 'missing the required key "version" (version: 1)');
  }
  const v = r.resolve(version.value, 1);
  if (v === null || !r.Y.isScalar(v) || v.value !== 1 || r.source(v) !== "1") {
    r.fail(v ?? version.key, `unsupported version ${v ? r.source(v) : "null"} (expected 1)`);
  }
  const ownerEntry = top.get("owner");
  const owner = ownerEntry
    ? checkIdent(r, ownerEntry.value, "owner", r.str(ownerEntry.value, "owner", 1, ownerEntry.key))
    : "default";
  const nsEntry = top.get("uuidNamespace");
  let namespace = DEFAULT_NAMESPACE;
  if (nsEntry) {
    const text = r.str(nsEntry.value, "uuidNamespace", 1, nsEntry.key);
    const parsed = parseUuid(text);
    if (parsed === null) {
      r.fail(nsEntry.value, `uuidNamespace ${JSON.stringify(text)} is not a UUID`);
    }
    namespace = parsed;
  }
  const defaultsEntry = top.get("defaults");
  const defaults = defaultsEntry
    ? readDefaults(r, defaultsEntry.value, 1, { autostart: true })
    : { autostart: true };
  const profilesEntry = top.get("profiles");
  let body: { devices: DeviceSpec[]; pools: PoolSpec[] };
  if (profilesEntry !== undefined) {
    for (const k of ["devices", "pools"]) {
      const e = top.get(k);
      if (e) r.fail(e.key, `"${k}" belongs inside a profile when the file has "profiles"`);
    }
    const profiles = r.map(profilesEntry.value, "profiles", 1, profilesEntry.key);
    if (profiles.size === 0) {
      r.fail(r.resolve(profilesEntry.value, 1), "profiles must not be empty");
    }
    const names = [...profiles.keys()];
    let chosen = options.profile;
    if (chosen === undefined) {
      if (names.length > 1) {
        r.fail(
          profilesEntry.key,
          `the file has ${names.length} profiles (${names.join(", ")}): choose one with --profile`,
        );
      }
      chosen = names[0]!;
    }
    const entry = profiles.get(chosen);
    if (entry === undefined) {
      r.fail(
        profilesEntry.key,
        `no profile ${JSON.stringify(chosen)} (profiles: ${names.join(", ")})`,
      );
    }
    const label = `profile ${chosen}`;
    const m = entry.value === null ? new Map() : r.map(entry.value, label, 2, entry.key);
    r.allowKeys(m, ["devices", "pools", "defaults"], label);
    body = readBody(r, m, owner, namespace, defaults, 2);
  } else {
    if (options.profile !== undefined) {
      r.fail(doc.contents, `--profile ${options.profile} given, but the file has no profiles`);
    }
    body = readBody(r, top, owner, namespace, defaults, 1);
  }
  return { file, owner, namespace, ...body, warnings: r.warnings };
}

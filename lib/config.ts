/**
 * The device record and its config-file form (mdevctl.md §2, §3).
 */
import { MdevError } from "./errors.ts";
import { JsonObject, obj, toCompactJson } from "./json.ts";
import { parseJson } from "./json_parse.ts";

/** One attribute: name and value, in the order they are applied. */
export type Attr = readonly [name: string, value: string];

/** What a config file holds. */
export interface MdevConfig {
  /** `mdev_type`. */
  type: string;
  /** `start` is `auto`. */
  autostart: boolean;
  /** `attrs`, in order. */
  attrs: Attr[];
}

/** One supported type of a parent (mdevctl.md §5.7). */
export interface MdevType {
  /** The type's directory name. */
  name: string;
  /** `available_instances` (may be negative, meaning none). */
  availableInstances: number;
  /** `device_api`, trimmed. */
  deviceApi: string;
  /** `name`, trimmed; unset when missing or blank. */
  displayName: string | undefined;
  /** `description`, trimmed, newlines as `, `; unset when missing or blank. */
  description: string | undefined;
  /** The description file as read, for the original `list-all` layout. */
  rawDescription: string | undefined;
}

/** A mediated device as every command sees it (mdevctl.md §3). */
export interface MdevDevice {
  /** Canonical (lower-case, hyphenated) uuid. */
  uuid: string;
  /** The parent device, when known. */
  parent: string | undefined;
  /** The mdev type, when known. */
  type: string | undefined;
  /** Start mode auto. */
  autostart: boolean;
  /** Attributes, in the order they are applied. */
  attrs: Attr[];
  /** A running device with this uuid, parent and type exists. */
  active: boolean;
  /** A config file exists for it. */
  defined: boolean;
  /** The config file the record came from, when it came from one. */
  configPath?: string | undefined;
  /** Why that config file could not be read (scans asked to keep broken files). */
  invalid?: string | undefined;
}

/**
 * A device record: `fields` over the defaults (not running, not defined, manual, no attributes).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { newDevice } from "../mod.ts";
 *
 * const device = newDevice("976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9", { parent: "p" });
 * deepEqual([device.parent, device.type, device.active, device.autostart], ["p", undefined, false, false]);
 * ```
 */
export function newDevice(uuid: string, fields: Partial<MdevDevice> = {}): MdevDevice {
  return {
    uuid,
    parent: undefined,
    type: undefined,
    autostart: false,
    attrs: [],
    active: false,
    defined: false,
    ...fields,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Longest JSON shown in an error before it is cut short with `…`. */
const SHOWN = 200;

/** Keeps a one-line error readable when the offending value is huge. */
function shorten(json: string): string {
  return json.length <= SHOWN ? json : `${json.slice(0, SHOWN)}…`;
}

/** Attribute list from JSON (mdevctl.md §2.2 step 5); `null`/missing is empty. */
export function attrsFromJson(value: unknown): Attr[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MdevError("attributes field is not an array");
  if (value.length === 0) return []; // most configs: no callback per file
  return value.map((item): Attr => {
    if (!isPlainObject(item)) {
      throw new MdevError("invalid JSON format for attribute: not an object");
    }
    const keys = Object.keys(item);
    if (keys.length !== 1) {
      throw new MdevError("invalid JSON format for attribute: too many fields");
    }
    const name = keys[0]!;
    const v = item[name];
    if (typeof v !== "string") {
      throw new MdevError(
        `invalid JSON format for attribute {${shorten(JSON.stringify(name))}, ${
          shorten(JSON.stringify(v) ?? "null")
        }}: value must be of type str`,
      );
    }
    return [name, v];
  });
}

/**
 * A config from parsed JSON (mdevctl.md §2.2 steps 2–6).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { configFromJson } from "../mod.ts";
 *
 * deepEqual(
 *   configFromJson({ mdev_type: "i915-GVTg_V5_4", start: "auto", attrs: [{ x: "1" }] }),
 *   { type: "i915-GVTg_V5_4", autostart: true, attrs: [["x", "1"]] },
 * );
 * ```
 */
export function configFromJson(value: unknown): MdevConfig {
  if (!isPlainObject(value)) throw new MdevError("invalid json");
  const type = value["mdev_type"];
  const start = value["start"];
  if (type === undefined || type === null || start === undefined || start === null) {
    throw new MdevError("invalid json");
  }
  // Upstream panics on a non-string type; we report it (mdevctl.md §0.7).
  if (typeof type !== "string") throw new MdevError("invalid json");
  return { type, autostart: start === "auto", attrs: attrsFromJson(value["attrs"]) };
}

/**
 * Parses JSON text into a config; syntax errors carry serde-style messages.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseConfig } from "../mod.ts";
 *
 * deepEqual(parseConfig('{"mdev_type": "t", "start": "manual"}'), {
 *   type: "t",
 *   autostart: false,
 *   attrs: [],
 * });
 * ```
 */
export function parseConfig(text: string): MdevConfig {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    throw new MdevError((e as Error).message);
  }
  return configFromJson(value);
}

const LEGACY_RECORD = /^[^\s"{}\[\],:]+\n?$/;

/**
 * Parses a stored config file. Besides JSON, the original plain-text record
 * (one line holding a type name) is read as an auto-start device.
 *
 * @example The original plain-text record
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseStoredConfig } from "../mod.ts";
 *
 * deepEqual(parseStoredConfig("i915-GVTg_V5_4\n"), {
 *   type: "i915-GVTg_V5_4",
 *   autostart: true,
 *   attrs: [],
 * });
 * ```
 */
export function parseStoredConfig(text: string): MdevConfig {
  try {
    return parseConfig(text);
  } catch (e) {
    if (LEGACY_RECORD.test(text) && !/^(true|false|null|-?\d[\d.eE+-]*)\n?$/.test(text)) {
      return { type: text.replace(/\n$/, ""), autostart: true, attrs: [] };
    }
    throw e;
  }
}

function attrsToJson(attrs: readonly Attr[]): JsonObject[] {
  return attrs.map(([name, value]) => obj([name, value]));
}

/** The config form `{mdev_type, start, attrs}` (mdevctl.md §3). */
export function configToJson(config: MdevConfig): JsonObject {
  return obj(
    ["mdev_type", config.type],
    ["start", config.autostart ? "auto" : "manual"],
    ["attrs", attrsToJson(config.attrs)],
  );
}

/**
 * Config file bytes: pretty JSON without a trailing newline (mdevctl.md §2.3).
 * `indent` places it inside a larger document (`list --dumpjson`). Written
 * out directly rather than through a JSON tree: listings print tens of
 * thousands of these. Equal to `toPrettyJson(configToJson(config), indent)`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { serializeConfig } from "../mod.ts";
 *
 * deepEqual(
 *   serializeConfig({ type: "t", autostart: false, attrs: [] }),
 *   '{\n  "mdev_type": "t",\n  "start": "manual",\n  "attrs": []\n}',
 * );
 * ```
 */
export function serializeConfig(config: MdevConfig, indent = ""): string {
  const i1 = indent + "  ";
  let attrs = "[]";
  if (config.attrs.length > 0) {
    const i2 = i1 + "  ";
    const i3 = i2 + "  ";
    attrs = "[\n" +
      config.attrs.map(([name, value]) =>
        `${i2}{\n${i3}${JSON.stringify(name)}: ${JSON.stringify(value)}\n${i2}}`
      ).join(",\n") +
      `\n${i1}]`;
  }
  return `{\n${i1}"mdev_type": ${JSON.stringify(config.type)},\n` +
    `${i1}"start": "${config.autostart ? "auto" : "manual"}",\n${i1}"attrs": ${attrs}\n${indent}}`;
}

/**
 * The compact config JSON callouts receive on stdin (mdevctl.md §8.3).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { compactConfig } from "../mod.ts";
 *
 * deepEqual(
 *   compactConfig({ type: "t", autostart: true, attrs: [["x", "1"]] }),
 *   '{"mdev_type":"t","start":"auto","attrs":[{"x":"1"}]}',
 * );
 * ```
 */
export function compactConfig(config: MdevConfig): string {
  return toCompactJson(configToJson(config));
}

/** The config of a device record; it needs a type (mdevctl.md §3). */
export function deviceConfig(device: MdevDevice): MdevConfig {
  if (device.type === undefined) {
    throw new MdevError(`Device ${device.uuid} is missing a mdev_type`);
  }
  return { type: device.type, autostart: device.autostart, attrs: device.attrs };
}

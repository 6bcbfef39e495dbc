/**
 * What `list` and `types` print (mdevctl.md §6), as pure functions of the data.
 * Text: every line ends in a newline, nothing at all when empty; JSON: one
 * final newline (mdevctl.md §0.1).
 */
import { Attr, MdevConfig, MdevDevice, MdevType, serializeConfig } from "./config.ts";
import { JsonObject, JsonValue, obj, toPrettyJson } from "./json.ts";

/** The verbose Attrs block (mdevctl.md §6.2); names and values are printed raw. */
export function formatAttrs(attrs: readonly Attr[]): string {
  if (attrs.length === 0) return "";
  let out = "  Attrs:\n";
  attrs.forEach(([name, value], i) => out += `    @{${i}}: {"${name}":"${value}"}\n`);
  return out;
}

/** One device line of `list` / `list -d` (mdevctl.md §6.1, §6.2). */
function formatDeviceLine(device: MdevDevice, suffix: string): string {
  const mode = device.autostart ? "auto" : "manual";
  return `${device.uuid} ${device.parent} ${device.type} ${mode}${suffix}\n`;
}

/** A device of a `list` listing with the suffix its line ends in. */
export interface ListedDevice {
  /** The device. */
  device: MdevDevice;
  /** ` (defined)`, ` (active)` or "". */
  suffix: string;
}

/**
 * `list` text in pieces of one parent each, for streaming a large host;
 * `suffix` gives the end of each device's line. The devices themselves, not
 * records wrapping them: a large host lists tens of thousands.
 */
export function* listTextChunks<T>(
  groups: Map<string, T[]>,
  deviceOf: (item: T) => MdevDevice,
  suffix: (item: T) => string,
  verbose: boolean,
): Generator<string> {
  for (const list of groups.values()) {
    let out = "";
    for (const item of list) {
      const device = deviceOf(item);
      out += formatDeviceLine(device, suffix(item));
      if (verbose) out += formatAttrs(device.attrs);
    }
    yield out;
  }
}

/**
 * `list` text (mdevctl.md §6.1, §6.2) in one piece.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatListText, newDevice } from "../mod.ts";
 *
 * const device = newDevice("976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9", { parent: "p", type: "t" });
 * deepEqual(
 *   formatListText(new Map([["p", [{ device, suffix: " (defined)" }]]]), false),
 *   "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9 p t manual (defined)\n",
 * );
 * ```
 */
export function formatListText(groups: Map<string, ListedDevice[]>, verbose: boolean): string {
  return [...listTextChunks(groups, (l) => l.device, (l) => l.suffix, verbose)].join("");
}

function listedConfig(device: MdevDevice): MdevConfig {
  return { type: device.type ?? "", autostart: device.autostart, attrs: device.attrs };
}

/**
 * `list --dumpjson` (mdevctl.md §6.3) in pieces of one parent each: the parent
 * hierarchy, `[]` when empty, or the bare config form when a uuid was asked
 * for and exactly one device matched.
 */
export function* listJsonChunks(
  groups: Map<string, MdevDevice[]>,
  uuidGiven: boolean,
): Generator<string> {
  let count = 0;
  for (const devices of groups.values()) count += devices.length;
  if (count === 0) {
    yield "[]\n";
    return;
  }
  if (uuidGiven && count === 1) {
    yield serializeConfig(listedConfig([...groups.values()][0]![0]!)) + "\n";
    return;
  }
  // The bytes toPrettyJson gives for the whole tree, one parent at a time.
  yield "[\n  {\n";
  let left = groups.size;
  for (const [parent, devices] of groups) {
    const items = devices.map((d) =>
      `      {\n        ${JSON.stringify(d.uuid)}: ${
        serializeConfig(listedConfig(d), "        ")
      }\n      }`
    );
    left--;
    yield `    ${JSON.stringify(parent)}: [\n${items.join(",\n")}\n    ]${left > 0 ? "," : ""}\n`;
  }
  yield "  }\n]\n";
}

/**
 * `list --dumpjson` (mdevctl.md §6.3) in one piece.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatListJson } from "../mod.ts";
 *
 * deepEqual(formatListJson(new Map(), false), "[]\n");
 * ```
 */
export function formatListJson(groups: Map<string, MdevDevice[]>, uuidGiven: boolean): string {
  return [...listJsonChunks(groups, uuidGiven)].join("");
}

/**
 * `types` text (mdevctl.md §6.4).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatTypesText } from "../mod.ts";
 *
 * const type = {
 *   name: "t",
 *   availableInstances: 1,
 *   deviceApi: "vfio-pci",
 *   displayName: undefined,
 *   description: undefined,
 *   rawDescription: undefined,
 * };
 * deepEqual(
 *   formatTypesText(new Map([["p", [type]]])),
 *   "p\n  t\n    Available instances: 1\n    Device API: vfio-pci\n",
 * );
 * ```
 */
export function formatTypesText(groups: Map<string, MdevType[]>): string {
  const out: string[] = [];
  for (const [parent, types] of groups) {
    out.push(`${parent}\n`);
    for (const t of types) {
      out.push(`  ${t.name}\n`);
      out.push(`    Available instances: ${t.availableInstances}\n`);
      out.push(`    Device API: ${t.deviceApi}\n`);
      if (t.displayName) out.push(`    Name: ${t.displayName}\n`);
      if (t.description) out.push(`    Description: ${t.description}\n`);
    }
  }
  return out.join("");
}

/**
 * `types --dumpjson` (mdevctl.md §6.4).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatTypesJson } from "../mod.ts";
 *
 * deepEqual(formatTypesJson(new Map()), "[]\n");
 * ```
 */
export function formatTypesJson(groups: Map<string, MdevType[]>): string {
  if (groups.size === 0) return "[]\n";
  const value = new JsonObject(
    [...groups].map(([parent, types]) => [
      parent,
      types.map((t) => {
        const fields: [string, JsonValue][] = [
          ["available_instances", t.availableInstances],
          ["device_api", t.deviceApi],
        ];
        if (t.displayName) fields.push(["name", t.displayName]);
        if (t.description) fields.push(["description", t.description]);
        return obj([t.name, new JsonObject(fields)]);
      }),
    ]),
  );
  return toPrettyJson([value]) + "\n";
}

/** The original `list-all` layout: no Name line, description newlines as spaces. */
export function formatLegacyTypes(groups: Map<string, MdevType[]>, onlyAvailable: boolean): string {
  const out: string[] = [];
  for (const [parent, types] of groups) {
    out.push(`${parent}\n`);
    for (const t of types) {
      if (onlyAvailable && t.availableInstances <= 0) continue;
      out.push(`  ${t.name}\n`);
      out.push(`    Available instances: ${t.availableInstances}\n`);
      out.push(`    Device API: ${t.deviceApi}\n`);
      if (t.rawDescription !== undefined) {
        out.push(`    Description: ${t.rawDescription.replaceAll("\n", " ")}\n`);
      }
    }
  }
  return out.join("");
}

/** The original `list-mdevs` / `list-saved` layout: `uuid parent type` lines. */
export function formatDeviceColumns(groups: Map<string, MdevDevice[]>): string {
  return [...groups.values()].flat().map((d) => `${d.uuid} ${d.parent} ${d.type}\n`).join("");
}

/**
 * What `list` and `types` print (spec §6), as pure functions of the data.
 * Text: every line ends in a newline, nothing at all when empty; JSON: one
 * final newline (decision §0.1).
 */
import { Attr, configToJson, MdevDevice } from "./config.ts";
import { JsonObject, JsonValue, obj, toPrettyJson } from "./json.ts";
import { MdevType } from "./sysfs.ts";

/** The verbose Attrs block (spec §6.2); names and values are printed raw. */
export function formatAttrs(attrs: readonly Attr[]): string {
  if (attrs.length === 0) return "";
  let out = "  Attrs:\n";
  attrs.forEach(([name, value], i) => out += `    @{${i}}: {"${name}":"${value}"}\n`);
  return out;
}

/** One device line of `list` / `list -d` (spec §6.1, §6.2). */
export function formatDeviceLine(device: MdevDevice, suffix: string): string {
  const mode = device.autostart ? "auto" : "manual";
  return `${device.uuid} ${device.parent} ${device.type} ${mode}${suffix}\n`;
}

export interface ListedDevice {
  device: MdevDevice;
  /** ` (defined)`, ` (active)` or "". */
  suffix: string;
}

export function formatListText(
  groups: Map<string, ListedDevice[]>,
  verbose: boolean,
): string {
  const out: string[] = [];
  for (const list of groups.values()) {
    for (const { device, suffix } of list) {
      out.push(formatDeviceLine(device, suffix));
      if (verbose) out.push(formatAttrs(device.attrs));
    }
  }
  return out.join("");
}

function deviceJson(device: MdevDevice): JsonObject {
  return configToJson({
    type: device.type ?? "",
    autostart: device.autostart,
    attrs: device.attrs,
  });
}

/**
 * `list --dumpjson` (spec §6.3): the parent hierarchy, `[]` when empty, or the
 * bare config form when a uuid was asked for and exactly one device matched.
 */
export function formatListJson(
  groups: Map<string, MdevDevice[]>,
  uuidGiven: boolean,
): string {
  const all = [...groups.values()].flat();
  let value: JsonValue;
  if (all.length === 0) value = [];
  else if (uuidGiven && all.length === 1) value = deviceJson(all[0]!);
  else {
    value = [
      new JsonObject(
        [...groups].map(([parent, devices]) => [
          parent,
          devices.map((d) => obj([d.uuid, deviceJson(d)])),
        ]),
      ),
    ];
  }
  return toPrettyJson(value) + "\n";
}

/** `types` text (spec §6.4). */
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

/** `types --dumpjson` (spec §6.4). */
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

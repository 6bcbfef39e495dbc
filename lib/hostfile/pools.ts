/**
 * Pools of a host file (hostfile.md §2): intent rules, a type selector,
 * a parent selector and how many instances.
 */
import type { Attr } from "../config.ts";
import {
  checkDeviceName,
  checkIdent,
  type Node,
  readAttrs,
  type Reader,
  readStart,
  type Where,
} from "./yaml_reader.ts";

/** Largest `perParent` and `count`: far above any real parent's capacity. */
export const MAX_PER_PARENT = 4096;
export const MAX_COUNT = 65536;

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

/** Shows a type selector as written (`{name: "GRID T4-1Q"}`). */
export function selectorText(sel: TypeSelector): string {
  return sel.kind === "id" ? sel.value : `{${sel.kind}: ${JSON.stringify(sel.value)}}`;
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

/** One entry of `pools`, validated. */
export function readPool(
  r: Reader,
  node: Node,
  index: number,
  defaults: { autostart: boolean },
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

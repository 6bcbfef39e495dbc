/**
 * The order of every listing: upstream sorts parents, types, uuids and
 * script names by their bytes, so byte order is the one comparison here.
 */

/**
 * Orders strings by their UTF-8 bytes (equivalently by code point), as
 * upstream sorts parents, types and uuids.
 */
export function compareBytes(a: string, b: string): number {
  if (!HAS_SURROGATE.test(a) && !HAS_SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const HAS_SURROGATE = /[\ud800-\udfff]/;

/**
 * Device order: uuids are canonical (lower-case hex and hyphens, ASCII), so
 * UTF-16 order is byte order and compareBytes' surrogate check can be skipped;
 * listings sort tens of thousands of them.
 */
function byUuid(a: Grouped, b: Grouped): number {
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

/** What groupByParent needs of a device (structural: this module sits below the device model). */
export interface Grouped {
  uuid: string;
  parent: string | undefined;
}

/** Groups devices by parent; parents in byte order, devices by uuid. */
export function groupByParent<D extends Grouped>(devices: readonly D[]): Map<string, D[]> {
  const groups = new Map<string, D[]>();
  for (const d of devices) {
    const key = d.parent ?? "";
    const list = groups.get(key);
    if (list) list.push(d);
    else groups.set(key, [d]);
  }
  const sorted = new Map<string, D[]>();
  for (const parent of [...groups.keys()].sort(compareBytes)) {
    sorted.set(parent, groups.get(parent)!.sort(byUuid));
  }
  return sorted;
}

/**
 * The order host files and the monitor give parents (hostfile.md §3): PCI
 * addresses numerically, separators ignored, as vgpu-device-manager orders
 * GPUs; every other name after them, by UTF-8 bytes.
 */
import { compareBytes } from "./order.ts";

const PCI = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/**
 * The numeric sort key of a PCI address, else null. Every field is
 * fixed-width hex, so the lower-case text without separators sorts as the
 * number does.
 */
function parentKey(name: string): string | null {
  return PCI.test(name) ? name.toLowerCase().replace(/[:.]/g, "") : null;
}

function compareKeyed(ka: string | null, a: string, kb: string | null, b: string): number {
  if (a === b) return 0;
  if (ka !== null && kb !== null) return ka < kb ? -1 : ka > kb ? 1 : compareBytes(a, b);
  if ((ka === null) !== (kb === null)) return ka !== null ? -1 : 1;
  return compareBytes(a, b);
}

/**
 * Compares two parent names in host-file order.
 *
 * @example
 * ```ts
 * import { compareParents } from "./parent_order.ts";
 * const names = ["css0", "0000:0a:00.0", "0000:09:00.0"].sort(compareParents);
 * console.assert(names.join(" ") === "0000:09:00.0 0000:0a:00.0 css0");
 * ```
 */
export function compareParents(a: string, b: string): number {
  return compareKeyed(parentKey(a), a, parentKey(b), b);
}

/**
 * Sorts items by parent (host-file order), then uuid, computing each
 * parent's key once: a large host has thousands of items per parent.
 *
 * @example
 * ```ts
 * import { sortByParent } from "./parent_order.ts";
 * const items = [{ parent: "b", uuid: "2" }, { parent: "0000:00:02.0", uuid: "1" }];
 * sortByParent(items);
 * console.assert(items[0]!.parent === "0000:00:02.0");
 * ```
 */
export function sortByParent<T extends { parent: string; uuid: string }>(items: T[]): void {
  const keys = new Map<string, string | null>();
  const key = (p: string) => {
    let k = keys.get(p);
    if (k === undefined) keys.set(p, k = parentKey(p));
    return k;
  };
  items.sort((x, y) =>
    compareKeyed(key(x.parent), x.parent, key(y.parent), y.parent) || compareBytes(x.uuid, y.uuid)
  );
}

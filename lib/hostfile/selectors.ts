/**
 * Selecting parents and resolving types (hostfile.md §3): which registered
 * parents a pool's `parents` selector picks, which type id its `type`
 * selector names on each, and, when it names none, the near miss to suggest.
 * Pure.
 */
import { MdevError } from "../errors.ts";
import { compareBytes } from "../order.ts";
import type { ParentSelector, TypeSelector } from "./schema.ts";
import { selectorText } from "./schema.ts";
import type { ParentInfo } from "./snapshot.ts";

/**
 * A glob (`*`, `?`, `[...]`, `[!...]`) as an anchored RegExp.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./selectors.ts";
 * console.assert(globToRegExp("0000:3b:*").test("0000:3b:00.0"));
 * console.assert(!globToRegExp("0000:3b:*").test("10000:3b:00.0"));
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

function normalizeHex(id: string): string {
  return id.toLowerCase().replace(/^0x/, "").padStart(4, "0");
}

/** True when the parent passes every given selector key (§2 `parents`). */
export function parentMatches(sel: ParentSelector, p: ParentInfo): boolean {
  if (sel.names && !sel.names.some((g) => globToRegExp(g).test(p.name))) return false;
  if (sel.driver && (p.driver === undefined || !sel.driver.includes(p.driver))) return false;
  const hexIn = (list: string[], v: string | undefined) =>
    v !== undefined && /^(0x)?[0-9a-f]{1,4}$/i.test(v) &&
    list.some((x) => normalizeHex(x) === normalizeHex(v));
  if (sel.pciVendor && !hexIn(sel.pciVendor, p.vendor)) return false;
  if (sel.pciDevice && !hexIn(sel.pciDevice, p.device)) return false;
  if (sel.physfn && (p.physfn === undefined || !sel.physfn.includes(p.physfn))) return false;
  return true;
}

/** The last word of a type's `name` (vgpu-device-manager's spelling). */
function nameToken(name: string): string {
  return name.trim().split(/\s+/).at(-1) ?? "";
}

/** True when a type with this trimmed `name` is what the selector asks for. */
function nameMatches(sel: TypeSelector, name: string): boolean {
  if (sel.kind === "name") return name === sel.value || name === sel.value.replaceAll("_", " ");
  return sel.kind === "nameToken" && nameToken(name) === sel.value;
}

/**
 * The type id a selector picks on a parent (§3), `null` when none; two
 * matches are an error naming where the selector was written.
 */
export function resolveType(sel: TypeSelector, p: ParentInfo, where: string): string | null {
  if (sel.kind === "id") return p.types.has(sel.value) ? sel.value : null;
  const matches: string[] = [];
  for (const [id, info] of p.types) {
    if (info.name !== undefined && nameMatches(sel, info.name.trim())) matches.push(id);
  }
  if (matches.length > 1) {
    throw new MdevError(
      `${where}: type selector ${selectorText(sel)} is ambiguous on ${p.name}: ${
        matches.sort(compareBytes).join(", ")
      }`,
    );
  }
  return matches[0] ?? null;
}

/**
 * What the user probably meant when a type selector matches nothing on these
 * parents (§3 "Unmatched"): the same words in another case, or the id of the
 * name given, or the name of the id given, written as the selector's kind
 * expects it. `undefined` when nothing is close.
 *
 * @example
 * ```ts
 * import { suggestType } from "./selectors.ts";
 * const t4 = {
 *   name: "0000:3b:00.0", driver: "nvidia", vendor: undefined, device: undefined,
 *   physfn: undefined, onBus: true,
 *   types: new Map([["nvidia-222", { name: "GRID T4-1Q", available: 16 }]]),
 * };
 * console.assert(suggestType({ kind: "name", value: "GRID T4-1q" }, [t4]) === "GRID T4-1Q");
 * console.assert(suggestType({ kind: "id", value: "GRID T4-1Q" }, [t4]) === "nvidia-222");
 * console.assert(suggestType({ kind: "name", value: "nvidia-222" }, [t4]) === "GRID T4-1Q");
 * console.assert(suggestType({ kind: "id", value: "nvidia-999" }, [t4]) === undefined);
 * ```
 */
export function suggestType(sel: TypeSelector, parents: readonly ParentInfo[]): string | undefined {
  const wanted = sel.value.trim().toLowerCase();
  const spaced = wanted.replaceAll("_", " ");
  const found = new Set<string>();
  for (const p of parents) {
    for (const [id, info] of p.types) {
      const name = info.name?.trim();
      const token = name === undefined ? undefined : nameToken(name);
      const as = (text: string | undefined) => {
        if (text !== undefined && text !== "") found.add(text);
      };
      const idHit = id.toLowerCase() === wanted;
      const nameHit = name !== undefined &&
        (name.toLowerCase() === wanted || name.toLowerCase() === spaced);
      const tokenHit = token !== undefined && token.toLowerCase() === wanted;
      if (!idHit && !nameHit && !tokenHit) continue;
      if (sel.kind === "id") as(id);
      else if (sel.kind === "name") as(name);
      else as(token);
    }
  }
  return found.size === 0 ? undefined : [...found].sort(compareBytes)[0];
}

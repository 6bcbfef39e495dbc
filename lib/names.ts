/**
 * Validation of names that become path components (mdevctl.md §0.4): a parent,
 * type or attribute name never leaves the directory it is joined onto.
 */
import { MdevError } from "./errors.ts";

function isComponent(part: string): boolean {
  return part !== "" && part !== "." && part !== ".." && !part.includes("/") &&
    !part.includes("\0");
}

/** True when `name` is a safe parent or type name. */
export function isValidDeviceName(name: string): boolean {
  return isComponent(name);
}

/** True when `name` is a safe attribute path: components joined by `/`. */
export function isValidAttributeName(name: string): boolean {
  return name.split("/").every(isComponent);
}

/** What a validated name is: parent and type names are one path component, attributes may be several. */
export type NameKind = "parent" | "type" | "attribute";

const ESCAPES: Record<string, string> = { "\0": "\\0", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** The name as an error shows it: control characters escaped, so the error stays one line. */
function shown(name: string): string {
  return name.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) => ESCAPES[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

/** Throws `Invalid <kind> name '<name>'` for an unsafe name. */
export function checkName(kind: NameKind, name: string): string {
  const ok = kind === "attribute" ? isValidAttributeName(name) : isValidDeviceName(name);
  if (!ok) throw new MdevError(`Invalid ${kind} name '${shown(name)}'`);
  return name;
}

/** Checks every attribute name of a config before anything is written. */
export function checkAttrNames(attrs: readonly (readonly [string, string])[]): void {
  for (const [name] of attrs) checkName("attribute", name);
}

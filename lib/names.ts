/**
 * Validation of names that become path components (decision §0.4): a parent,
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

export type NameKind = "parent" | "type" | "attribute";

/** Throws `Invalid <kind> name '<name>'` for an unsafe name. */
export function checkName(kind: NameKind, name: string): string {
  const ok = kind === "attribute" ? isValidAttributeName(name) : isValidDeviceName(name);
  if (!ok) throw new MdevError(`Invalid ${kind} name '${name.replaceAll("\0", "\\0")}'`);
  return name;
}

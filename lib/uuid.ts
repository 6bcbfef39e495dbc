/**
 * UUIDs as the command line and config file names accept them (mdevctl.md §4.3):
 * hyphenated, simple (32 hex digits), `{braced}` and `urn:uuid:` forms, any
 * letter case. Always printed lower-case hyphenated.
 */
import { MdevError } from "./errors.ts";

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The canonical form of `text`, or `null` when it is not a UUID.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseUuid } from "../mod.ts";
 *
 * const canonical = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
 * deepEqual(parseUuid("{976D8CC2-4BFC-43B9-B9F9-F4AF2DE91AB9}"), canonical);
 * deepEqual(parseUuid("976d8cc24bfc43b9b9f9f4af2de91ab9"), canonical);
 * deepEqual(parseUuid("not-a-uuid"), null);
 * ```
 */
export function parseUuid(text: string): string | null {
  // Names the tool wrote itself are canonical already: the common case of a
  // large listing (tens of thousands of names), checked without a regex and
  // returned without a lower-cased copy.
  if (isCanonical(text)) return text;
  let body = text;
  if (body.length === 38 && body.startsWith("{") && body.endsWith("}")) {
    body = body.slice(1, -1);
  } else if (body.length === 45 && body.startsWith("urn:uuid:")) {
    body = body.slice(9);
  }
  if (body.length === 36) {
    return HYPHENATED.test(body) ? body.toLowerCase() : null;
  }
  if (text === body && body.length === 32 && HEX32.test(body)) {
    const h = body.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
      h.slice(20)
    }`;
  }
  return null;
}

/** True for the canonical form: 36 characters, lower-case hex digits, hyphens at 8, 13, 18, 23. */
function isCanonical(text: string): boolean {
  if (text.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) {
      return false;
    }
  }
  return true;
}

/**
 * A fresh random (version 4) UUID.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { newUuid, parseUuid } from "../mod.ts";
 *
 * const uuid = newUuid();
 * deepEqual(parseUuid(uuid), uuid);
 * ```
 */
export function newUuid(): string {
  return crypto.randomUUID();
}

/** The original (2019) tool's form: `8-4-4-4-12` hex, optionally in braces. */
const LEGACY_UUID =
  /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

/** The canonical form of a uuid given to an original command; throws when it is none. */
export function legacyUuid(text: string): string {
  const m = LEGACY_UUID.exec(text);
  if (!m || (text.startsWith("{") !== text.endsWith("}"))) {
    throw new MdevError(`Invalid uuid '${text}'`);
  }
  return m[1]!.toLowerCase();
}

/**
 * The version `--version` prints (mdevctl.md §0.2); deno.json and package.json
 * carry the same one (checked by lib/version_test.ts).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { VERSION } from "../mod.ts";
 *
 * deepEqual(/^\d+\.\d+\.\d+$/.test(VERSION), true);
 * ```
 */
export const VERSION = "1.4.0";

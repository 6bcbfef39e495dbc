/**
 * The version `--version` prints (decision §0.2); deno.json and package.json
 * carry the same one (checked by lib/version_test.ts).
 */
export const VERSION = "1.4.0";

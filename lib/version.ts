/** The version `--version` prints (decision §0.2); kept equal to deno.json's. */
export const VERSION = "1.4.0";

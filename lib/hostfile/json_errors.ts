/**
 * Fatal errors of the host-file commands under `--dumpjson` (hostfile.md §8):
 * also printed as one JSON object on stdout; the usual `Error:` block still
 * goes to stderr. The 1.x commands never do this (libvirt reads stderr).
 */
import { causeChain, describeError } from "../errors.ts";
import { errorJson } from "./render.ts";

/**
 * Runs `body`; when it throws and `json` is set, prints the error as JSON
 * first, then rethrows for the usual error path.
 *
 * @example
 * ```ts
 * import { withJsonErrors } from "./json_errors.ts";
 * let out = "";
 * await withJsonErrors({ stdout: (t) => out += t }, true, () => Promise.reject(new Error("boom")))
 *   .catch(() => {});
 * console.assert(JSON.parse(out).error.message === "boom");
 * ```
 */
export async function withJsonErrors(
  ctx: { stdout(text: string): void },
  json: boolean,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (json) {
      const chain = causeChain(e);
      ctx.stdout(errorJson(chain[0] ?? describeError(e), chain.slice(1), 1));
    }
    throw e;
  }
}

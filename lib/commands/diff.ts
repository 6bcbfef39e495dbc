/** `mdevctl diff` (hostfile.md §1, §8): what apply would change; writes nothing, no lock. */
import type { CommandContext } from "../cli/context.ts";
import { causeChain, describeError } from "../errors.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadHostFile } from "../hostfile/load.ts";
import { makePlan } from "../hostfile/plan.ts";
import { diffStatus, errorJson, renderJson, renderText } from "../hostfile/render.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";

/**
 * With --dumpjson, a fatal error is also printed as JSON on stdout (§8, new
 * commands only); the usual `Error:` block still goes to stderr.
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

export function run(ctx: CommandContext<"diff">): Promise<number> {
  const { env, options } = ctx;
  return withJsonErrors(ctx, options.dumpjson, async () => {
    const file = await loadHostFile(env, options.file, options.profile);
    const plan = makePlan(file, readSnapshot(env), readLedgers(env, file.owner), {
      prune: options.prune,
      start: options.start,
    });
    ctx.stdout(options.dumpjson ? renderJson(plan) : renderText(plan, options.verbose));
    return diffStatus(plan);
  });
}

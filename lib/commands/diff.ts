/** `mdevctl diff` (hostfile.md §1, §8): what apply would change; writes nothing, no lock. */
import type { CommandContext } from "../cli/context.ts";
import { withJsonErrors } from "../hostfile/json_errors.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadHostFile } from "../hostfile/load.ts";
import { makePlan } from "../hostfile/plan.ts";
import { diffStatus, renderJson, renderText } from "../hostfile/render.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";

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

/** `mdevctl apply` (hostfile.md §1, §7, §8): converge the host to a host file. */
import type { CommandContext } from "../cli/context.ts";
import { formatError } from "../errors.ts";
import { execute } from "../hostfile/execute.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadHostFile } from "../hostfile/load.ts";
import { makePlan } from "../hostfile/plan.ts";
import { failureLine, renderJson, renderText } from "../hostfile/render.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";
import { withLock } from "../lock.ts";
import { withJsonErrors } from "./diff.ts";

export function run(ctx: CommandContext<"apply">): Promise<number> {
  const { env, options } = ctx;
  const json = options.dumpjson;
  return withJsonErrors(ctx, json, async () => {
    const file = await loadHostFile(env, options.file, options.profile);
    const opts = { prune: options.prune, start: options.start };
    if (options["dry-run"]) {
      const plan = makePlan(file, readSnapshot(env), readLedgers(env, file.owner), opts);
      ctx.stdout(json ? renderJson(plan) : renderText(plan, false));
      return 0;
    }
    // The lock is taken before the snapshot: nothing the plan rests on can change.
    return await withLock(env, async () => {
      const plan = makePlan(file, readSnapshot(env), readLedgers(env, file.owner), opts);
      const done = await execute(env, plan, {
        force: options.force,
        keepGoing: options["keep-going"],
      });
      if (json) ctx.stdout(renderJson(plan, done.outcomes, done.result));
      else {
        const text = renderText(plan, false, done.outcomes, "applied");
        ctx.stdout(
          done.firstError === null
            ? text
            : text.replace(/[^\n]*\n$/, `${failureLine(done.outcomes)}\n`),
        );
      }
      if (done.firstError !== null) {
        env.stderr(formatError(done.firstError));
        return 1;
      }
      return 0;
    });
  });
}

/** `mdevctl apply` (hostfile.md §1, §7, §8): converge the host to a host file. */
import type { CommandContext } from "../cli/context.ts";
import { formatError, MdevError } from "../errors.ts";
import { unsatisfiedCount } from "../hostfile/changes.ts";
import { enableGpus } from "../hostfile/enable_vfs.ts";
import { executeRounds, type Rounds } from "../hostfile/apply_rounds.ts";
import { withJsonErrors } from "../hostfile/json_errors.ts";
import { readLedgers } from "../hostfile/ledger.ts";
import { loadHostFile } from "../hostfile/load.ts";
import { makePlan } from "../hostfile/plan.ts";
import {
  failureLine,
  interruptedLine,
  outcomeLine,
  renderJson,
  renderText,
  summaryLine,
  tailLines,
} from "../hostfile/render.ts";
import { readSnapshot } from "../hostfile/snapshot.ts";
import { watchInterrupts } from "../interrupt.ts";
import { withLock } from "../lock.ts";

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
      let plan = makePlan(file, readSnapshot(env), readLedgers(env, file.owner), opts);
      const enabled = options["enable-vfs"] ? await enableGpus(env, plan.vfsDisabled ?? []) : [];
      if (enabled.length > 0) {
        // stdout carries only the JSON object under --dumpjson.
        const text = enabled.map((e) => e.line + "\n").join("");
        if (json) env.stderr(text);
        else ctx.stdout(text);
        plan = makePlan(file, readSnapshot(env), readLedgers(env, file.owner), opts);
      }
      const watch = watchInterrupts();
      let rounds: Rounds;
      try {
        const replan = () => makePlan(file, readSnapshot(env), readLedgers(env, file.owner), opts);
        rounds = await executeRounds(env, plan, replan, {
          force: options.force,
          keepGoing: options["keep-going"],
          signal: watch.signal,
          // Text output shows each action as it completes: a slow callout
          // must not leave the operator looking at nothing.
          onOutcome: json ? undefined : (c, o) => ctx.stdout(outcomeLine(c, o) + "\n"),
        });
      } finally {
        watch.dispose();
      }
      const done = rounds.done;
      plan = rounds.plan;
      if (json) ctx.stdout(renderJson(plan, done.outcomes, done.result));
      else {
        const last = done.interrupted
          ? interruptedLine(done.outcomes)
          : done.errors.length > 0
          ? failureLine(done.outcomes)
          : summaryLine(plan, "applied");
        ctx.stdout([...tailLines(plan, false), last].map((l) => l + "\n").join(""));
      }
      const errors = [...enabled.flatMap((e) => e.error ?? []), ...done.errors];
      if (errors.length > 0) env.stderr(formatError(failures(errors)));
      const interrupted = watch.exitStatus();
      if (done.interrupted && interrupted !== null) return interrupted;
      if (errors.length > 0) return 1;
      return unsatisfiedCount(plan) > 0 || rounds.short ? 4 : 0;
    });
  });
}

/** One failure as it is; several (`--keep-going`) as one error naming each. */
function failures(errors: readonly MdevError[]): MdevError {
  if (errors.length === 1) return errors[0]!;
  return new MdevError(
    `${errors.length} changes failed`,
    errors.map((e) => [e.message, ...e.causes].join(": ")),
  );
}

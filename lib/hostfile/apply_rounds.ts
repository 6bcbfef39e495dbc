/**
 * apply's rounds (docs/vfio-vgpu.md "Capacity"): sysfs says only whether
 * one more vGPU of a type fits on a VF, so a plan may put more vGPUs on a
 * GPU than its capacity holds; those assignments are skipped (capacity) at
 * write time. Another GPU, or a VF a skipped assignment left free, may
 * still have room: apply then plans again on what the host shows now and
 * carries out the new plan, as long as a round changed something and
 * nothing failed. The result reads as one apply.
 */
import type { Environment } from "../environment.ts";
import { type Change, executable, type Plan } from "./changes.ts";
import { execute, type ExecuteOptions, type Execution } from "./execute.ts";
import { CAPACITY } from "./execute_vfio.ts";
import type { Outcome } from "./render.ts";

/** A bound on the rounds; each one after the first needs a round that assigned a vGPU. */
const MAX_ROUNDS = 8;

/** What apply reports: the rounds' executed changes and the last plan, with every outcome. */
export interface Rounds {
  /** The last plan, after the executed changes of the rounds before it. */
  plan: Plan;
  done: Execution;
  /** True when the last round skipped an assignment for capacity. */
  short: boolean;
}

/** A round worth following with another: finished, no failure, a capacity skip, something done. */
function again(done: Execution): boolean {
  const os = [...done.outcomes.values()];
  return !done.interrupted && done.errors.length === 0 &&
    os.some((o) => o.reason === CAPACITY) && os.some((o) => o.status === "done");
}

/** Executes `first`, then plans (`replan`) and executes again while a round calls for it. */
export async function executeRounds(
  env: Environment,
  first: Plan,
  replan: () => Plan,
  opts: ExecuteOptions,
): Promise<Rounds> {
  let plan = first;
  let done = await execute(env, plan, opts);
  const earlier: Change[] = [];
  const outcomes = new Map<Change, Outcome>(done.outcomes);
  const errors = [...done.errors];
  for (let round = 1; round < MAX_ROUNDS && again(done); round++) {
    earlier.push(...executable(plan));
    plan = replan();
    if (executable(plan).length === 0) break;
    done = await execute(env, plan, opts);
    for (const [c, o] of done.outcomes) outcomes.set(c, o);
    errors.push(...done.errors);
  }
  const short = [...done.outcomes.values()].some((o) => o.reason === CAPACITY);
  if (earlier.length === 0) return { plan, done, short };
  const anyDone = [...outcomes.values()].some((o) => o.status === "done");
  return {
    plan: { ...plan, changes: [...earlier, ...plan.changes], ledgerBefore: first.ledgerBefore },
    done: {
      outcomes,
      result: errors.length === 0 ? "success" : anyDone ? "partial" : "failed",
      firstError: errors[0] ?? null,
      errors,
      interrupted: done.interrupted,
    },
    short,
  };
}

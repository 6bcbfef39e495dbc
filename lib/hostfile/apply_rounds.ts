/**
 * apply's rounds (docs/vfio-vgpu.md "Capacity"): sysfs says only whether
 * one more vGPU of a type fits on a VF, so a plan may put more vGPUs on a
 * GPU than its capacity holds; those assignments are skipped (capacity) at
 * write time. Another GPU, or a VF a skipped assignment left free, may
 * still have room: apply then plans again on what the host shows now and
 * carries out the new plan, as long as a round changed something and
 * nothing failed. The result reads as one apply: what a round found in use
 * is not tried again.
 */
import type { Environment } from "../environment.ts";
import { type Change, executable, type Plan } from "./changes.ts";
import { execute, type ExecuteOptions, type Execution } from "./execute.ts";
import { CAPACITY } from "./execute_vfio.ts";
import type { Outcome } from "./render.ts";

/** A bound on the rounds; each one after the first needs a round that changed a VF. */
const MAX_ROUNDS = 8;

/** What apply reports: the rounds' executed changes and the last plan, with every outcome. */
export interface Rounds {
  /** The last plan, after the executed changes of the rounds before it. */
  plan: Plan;
  done: Execution;
  /** True when the last round skipped an assignment for capacity. */
  short: boolean;
}

/** The reason of a skip for a device or VF held open (a VM): the run goes on without it. */
const IN_USE = "in-use";

/**
 * A round worth following with another: finished, nothing failed (a skip
 * for a VF or device in use is not a failure that stops a run), and either
 * an assignment skipped for capacity while something else was done, or a
 * vGPU released (a release or a reassign's): the room it freed may offer
 * types the plan could not place, which the next apply would place.
 */
function again(plan: Plan, done: Execution): boolean {
  const os = [...done.outcomes.values()];
  if (done.interrupted || os.some((o) => o.status === "failed")) return false;
  const freed = plan.changes.some((c) =>
    (c.action === "release" || c.action === "reassign") && done.outcomes.get(c)?.status === "done"
  );
  return freed || (os.some((o) => o.reason === CAPACITY) && os.some((o) => o.status === "done"));
}

/**
 * A later round's plan without the changes of what an earlier round found in
 * use (tried once per apply, reported once); their ledger entries stay as
 * they were, as after the skip.
 */
function without(plan: Plan, held: ReadonlySet<string>): Plan {
  if (held.size === 0) return plan;
  const devices = new Map(plan.ledgerAfter.devices);
  const vfs = new Map(plan.ledgerAfter.vfs ?? []);
  for (const id of held) {
    const d = plan.ledgerBefore.devices.get(id);
    if (d !== undefined && !devices.has(id)) devices.set(id, d);
    const v = plan.ledgerBefore.vfs?.get(id);
    if (v !== undefined && !vfs.has(id)) vfs.set(id, v);
  }
  return {
    ...plan,
    changes: plan.changes.filter((c) => !held.has(c.uuid)),
    ledgerAfter: { ...plan.ledgerAfter, devices, vfs },
  };
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
  const held = new Set<string>();
  for (let round = 1; round < MAX_ROUNDS && again(plan, done); round++) {
    earlier.push(...executable(plan));
    for (const [c, o] of done.outcomes) if (o.reason === IN_USE) held.add(c.uuid);
    plan = without(replan(), held);
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

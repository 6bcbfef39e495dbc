/**
 * Carrying out a plan (hostfile.md §7): phases in order, each action through
 * the existing callout bracket under its 1.x name, the ledger written before
 * configs appear and after they go, stop at the first failure unless
 * keep-going. The caller holds the host lock.
 */
import { type MdevConfig, type MdevDevice, newDevice } from "../config.ts";
import type { Environment } from "../environment.ts";
import { causeChain, MdevError } from "../errors.ts";
import { startDevice, stopActive, undefineDevice, writeDefinition } from "../lifecycle.ts";
import { vfioGroupInUse } from "../sysfs/vfio.ts";
import { type Ledger, type LedgerEntry, writeLedgerIfChanged } from "./ledger.ts";
import { type Change, executable, type Plan } from "./changes.ts";
import type { Outcome } from "./render.ts";
import { assignVfs, CAPACITY, reassignVfs, releaseVfs, type Steps } from "./execute_vfio.ts";

export interface ExecuteOptions {
  force: boolean;
  keepGoing: boolean;
  /**
   * Aborted on SIGINT/SIGTERM: the action under way finishes, every later
   * one is skipped (reason `interrupted`), and the ledger is left true.
   */
  signal?: AbortSignal;
  /** Told of each change's outcome as soon as it is known (apply's progress lines). */
  onOutcome?: ((change: Change, outcome: Outcome) => void) | undefined;
}

export interface Execution {
  outcomes: Map<Change, Outcome>;
  result: "success" | "partial" | "failed";
  /** The first failure, for the `Error:` block. */
  firstError: MdevError | null;
  /** Every failure, in the order they happened. */
  errors: MdevError[];
  /** The run stopped early because `signal` was aborted. */
  interrupted: boolean;
}

function deviceOf(c: Change, config: MdevConfig): MdevDevice {
  return newDevice(c.uuid, {
    parent: c.parent,
    type: config.type,
    autostart: config.autostart,
    attrs: [...config.attrs],
    defined: true,
    configPath: c.configPath,
  });
}

function copy(l: Ledger): Ledger {
  return { owner: l.owner, devices: new Map(l.devices), vfs: new Map(l.vfs ?? []) };
}

/**
 * The ledger after the undefine and release phases: a device or VF the plan
 * drops is forgotten unless its undefine or release was planned and did not
 * happen.
 */
function afterRemovals(plan: Plan, ledger: Ledger, outcomes: ReadonlyMap<Change, Outcome>): void {
  for (const uuid of plan.ledgerBefore.devices.keys()) {
    if (plan.ledgerAfter.devices.has(uuid)) continue;
    const c = plan.changes.find((x) => x.action === "undefine" && x.uuid === uuid);
    if (c === undefined || outcomes.get(c)?.status === "done") ledger.devices.delete(uuid);
  }
  for (const vf of plan.ledgerBefore.vfs?.keys() ?? []) {
    if (plan.ledgerAfter.vfs?.has(vf)) continue;
    const c = plan.changes.find((x) => x.action === "release" && x.uuid === vf);
    if (c === undefined || outcomes.get(c)?.status === "done") ledger.vfs!.delete(vf);
  }
}

/**
 * After the assign phases: a VF not (re)assigned goes back to what the ledger
 * said before, except one whose reassign found no room (its hand-set vGPU
 * stays, and is no longer the owner's).
 */
function afterAssigns(plan: Plan, ledger: Ledger, outcomes: ReadonlyMap<Change, Outcome>): void {
  for (const c of plan.changes) {
    if ((c.action !== "assign" && c.action !== "reassign") || outcomes.get(c)?.status === "done") {
      continue;
    }
    if (c.action === "reassign" && outcomes.get(c)?.reason === CAPACITY) {
      ledger.vfs!.delete(c.uuid);
      continue;
    }
    const old = plan.ledgerBefore.vfs?.get(c.uuid);
    if (old === undefined) ledger.vfs!.delete(c.uuid);
    else ledger.vfs!.set(c.uuid, old);
  }
}

/** The outcomes of a run so far, and the rules that skip what follows a failure. */
class Tracker implements Steps {
  readonly outcomes = new Map<Change, Outcome>();
  readonly errors: MdevError[] = [];
  stopped = false;
  anyDone = false;
  anyFailed = false;
  /** uuids (VFs) whose earlier step failed or was skipped: their later steps are skipped. */
  readonly blocked = new Set<string>();

  constructor(readonly env: Environment, private readonly opts: ExecuteOptions) {}

  interrupted(): boolean {
    return this.opts.signal?.aborted ?? false;
  }

  record(c: Change, o: Outcome): void {
    this.outcomes.set(c, o);
    this.opts.onOutcome?.(c, o);
  }

  ready(c: Change): boolean {
    return !this.interrupted() && !this.stopped && !this.blocked.has(c.uuid);
  }

  skip(c: Change, reason: string, failure?: string): void {
    this.record(c, { status: "skipped", reason });
    this.blocked.add(c.uuid);
    if (failure === undefined) return;
    this.anyFailed = true;
    this.errors.push(new MdevError(failure));
  }

  async run(c: Change, step: () => Promise<void | string>): Promise<void> {
    if (this.interrupted()) {
      this.record(c, { status: "skipped", reason: "interrupted" });
      return;
    }
    if (this.stopped || this.blocked.has(c.uuid)) {
      this.record(c, { status: "skipped" });
      this.blocked.add(c.uuid);
      return;
    }
    try {
      const skipped = await step();
      if (typeof skipped === "string") {
        this.record(c, { status: "skipped", reason: skipped });
        this.blocked.add(c.uuid);
        return;
      }
      this.record(c, { status: "done" });
      this.anyDone = true;
    } catch (e) {
      const chain = causeChain(e);
      this.errors.push(new MdevError(`${c.action} of ${c.parent}/${c.uuid} failed`, chain));
      this.anyFailed = true;
      this.record(c, { status: "failed", error: { message: chain[0]!, causes: chain.slice(1) } });
      this.blocked.add(c.uuid);
      if (!this.opts.keepGoing) this.stopped = true;
    }
  }
}

/** Runs the plan's executable changes; never throws for a failed action. */
export async function execute(
  env: Environment,
  plan: Plan,
  opts: ExecuteOptions,
): Promise<Execution> {
  const t = new Tracker(env, opts);
  const { outcomes } = t;
  const todo = executable(plan);
  const run = (c: Change, step: () => Promise<void>) => t.run(c, step);
  const phase = (...actions: string[]) => todo.filter((c) => actions.includes(c.action));

  // 1. stop (in-use devices are skipped, and so is their undefine).
  for (const c of phase("stop")) {
    if (t.ready(c) && vfioGroupInUse(env, c.uuid)) {
      t.skip(c, "in-use", `stop of ${c.parent}/${c.uuid} skipped: the device is in use`);
      continue;
    }
    await run(c, async () => {
      await stopActive(env, c.uuid, opts.force);
    });
  }
  // 2. undefine (and release); the ledger forgets a device only once its config is gone.
  for (const c of phase("undefine")) {
    await run(c, () => undefineDevice(env, deviceOf(c, c.current!), opts.force));
  }
  await releaseVfs(t, phase("release"));
  const ledger = copy(plan.ledgerBefore);
  afterRemovals(plan, ledger, outcomes);
  writeLedgerIfChanged(env, ledger);

  // 3–5. modify, define+adopt, (re)assign, start; the ledger knows a device before its config exists.
  const claims = phase("modify", "define", "adopt");
  if (!t.stopped && !t.interrupted()) {
    const added = new Map<string, LedgerEntry>();
    for (const [uuid, entry] of plan.ledgerAfter.devices) {
      if (!ledger.devices.has(uuid)) added.set(uuid, entry);
      ledger.devices.set(uuid, entry);
    }
    for (const [vf, entry] of plan.ledgerAfter.vfs ?? []) ledger.vfs!.set(vf, entry);
    writeLedgerIfChanged(env, ledger);
    for (const c of phase("modify")) {
      await run(c, () => writeDefinition(env, deviceOf(c, c.config!), "modify", opts.force));
    }
    for (const c of phase("define", "adopt")) {
      if (c.action === "adopt") {
        await run(c, () => Promise.resolve());
        continue;
      }
      await run(c, () => writeDefinition(env, deviceOf(c, c.config!), "define", opts.force));
    }
    await reassignVfs(t, phase("reassign"));
    await assignVfs(t, phase("assign"));
    for (const c of phase("start")) {
      await run(c, () => startDevice(env, deviceOf(c, c.config!), opts.force));
    }
    // Devices this run tried to claim but never wrote are not ours after all.
    // A failed modify leaves the old config: its old entry (and hash) stays true.
    for (const c of claims) {
      if (outcomes.get(c)?.status === "done") continue;
      if (added.has(c.uuid)) ledger.devices.delete(c.uuid);
      const old = plan.ledgerBefore.devices.get(c.uuid);
      if (old !== undefined) ledger.devices.set(c.uuid, old);
    }
    afterAssigns(plan, ledger, outcomes);
    writeLedgerIfChanged(env, ledger);
  }
  for (const c of todo) {
    if (outcomes.has(c)) continue;
    t.record(
      c,
      t.interrupted() ? { status: "skipped", reason: "interrupted" } : { status: "skipped" },
    );
  }
  const result = !t.anyFailed ? "success" : t.anyDone ? "partial" : "failed";
  const cut = [...outcomes.values()].some((o) => o.reason === "interrupted");
  return { outcomes, result, firstError: t.errors[0] ?? null, errors: t.errors, interrupted: cut };
}

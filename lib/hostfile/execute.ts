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
  return { owner: l.owner, devices: new Map(l.devices) };
}

/** Runs the plan's executable changes; never throws for a failed action. */
export async function execute(
  env: Environment,
  plan: Plan,
  opts: ExecuteOptions,
): Promise<Execution> {
  const outcomes = new Map<Change, Outcome>();
  const todo = executable(plan);
  const errors: MdevError[] = [];
  let stopped = false;
  let anyDone = false;
  let anyFailed = false;
  /** uuids whose earlier step failed or was skipped: their later steps are skipped. */
  const blocked = new Set<string>();
  const interrupted = () => opts.signal?.aborted ?? false;
  const record = (c: Change, o: Outcome) => {
    outcomes.set(c, o);
    opts.onOutcome?.(c, o);
  };

  const run = async (c: Change, step: () => Promise<void>) => {
    if (interrupted()) {
      record(c, { status: "skipped", reason: "interrupted" });
      return;
    }
    if (stopped || blocked.has(c.uuid)) {
      record(c, { status: "skipped" });
      blocked.add(c.uuid);
      return;
    }
    try {
      await step();
      record(c, { status: "done" });
      anyDone = true;
    } catch (e) {
      const chain = causeChain(e);
      errors.push(new MdevError(`${c.action} of ${c.parent}/${c.uuid} failed`, chain));
      anyFailed = true;
      record(c, { status: "failed", error: { message: chain[0]!, causes: chain.slice(1) } });
      blocked.add(c.uuid);
      if (!opts.keepGoing) stopped = true;
    }
  };
  const phase = (...actions: string[]) => todo.filter((c) => actions.includes(c.action));

  // 1. stop (in-use devices are skipped, and so is their undefine).
  for (const c of phase("stop")) {
    if (!interrupted() && !stopped && !blocked.has(c.uuid) && vfioGroupInUse(env, c.uuid)) {
      record(c, { status: "skipped", reason: "in-use" });
      blocked.add(c.uuid);
      anyFailed = true;
      errors.push(new MdevError(`stop of ${c.parent}/${c.uuid} skipped: the device is in use`));
      continue;
    }
    await run(c, async () => {
      await stopActive(env, c.uuid, opts.force);
    });
  }
  // 2. undefine; the ledger forgets a device only once its config is gone.
  for (const c of phase("undefine")) {
    await run(c, () => undefineDevice(env, deviceOf(c, c.current!), opts.force));
  }
  const ledger = copy(plan.ledgerBefore);
  for (const uuid of plan.ledgerBefore.devices.keys()) {
    if (plan.ledgerAfter.devices.has(uuid)) continue;
    const undefine = todo.find((c) => c.action === "undefine" && c.uuid === uuid);
    if (undefine === undefined || outcomes.get(undefine)?.status === "done") {
      ledger.devices.delete(uuid);
    }
  }
  writeLedgerIfChanged(env, ledger);

  // 3–5. modify, define+adopt, start; the ledger knows a device before its config exists.
  const claims = phase("modify", "define", "adopt");
  if (!stopped && !interrupted()) {
    const added = new Map<string, LedgerEntry>();
    for (const [uuid, entry] of plan.ledgerAfter.devices) {
      if (!ledger.devices.has(uuid)) added.set(uuid, entry);
      ledger.devices.set(uuid, entry);
    }
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
    writeLedgerIfChanged(env, ledger);
  }
  for (const c of todo) {
    if (outcomes.has(c)) continue;
    record(c, interrupted() ? { status: "skipped", reason: "interrupted" } : { status: "skipped" });
  }
  const result = !anyFailed ? "success" : anyDone ? "partial" : "failed";
  const cut = [...outcomes.values()].some((o) => o.reason === "interrupted");
  return { outcomes, result, firstError: errors[0] ?? null, errors, interrupted: cut };
}

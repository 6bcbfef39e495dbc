/**
 * The planner's vocabulary (hostfile.md §6, §8): the actions a plan holds,
 * their phases, and the plan itself with what it reports besides changes.
 * Types and constants only.
 */
import type { Attr, MdevConfig } from "../config.ts";
import type { Ledger, Origin } from "./ledger.ts";

/** Every plan action, in phase order (§6 table, §8 counts). */
export const PLAN_ACTIONS = [
  "stop",
  "undefine",
  "release",
  "modify",
  "define",
  "adopt",
  "reassign",
  "assign",
  "start",
  "conflict",
  "restart-required",
  "shortfall",
] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** The actions on vendor-VFIO VFs (docs/vfio-vgpu.md); JSON counts show them only for VFIO plans. */
export const VFIO_ACTIONS: ReadonlySet<PlanAction> = new Set(["release", "reassign", "assign"]);

/** A vGPU on a VF, as a change or a surplus line names it (docs/vfio-vgpu.md). */
export interface VfTarget {
  vf: string;
  pf: string;
  typeId: number;
  /** The full name; undefined when no list or ledger names the id. */
  typeName: string | undefined;
  /** reassign: what the VF holds now. */
  from?: { typeId: number; typeName: string | undefined };
}

/** Actions apply executes (those up to `start`); the others are only reported. */
export const EXECUTED: ReadonlySet<PlanAction> = new Set(
  PLAN_ACTIONS.slice(0, PLAN_ACTIONS.indexOf("start") + 1),
);

/**
 * Execution phase of an action: define and adopt share one (§7 "Order").
 *
 * @example
 * ```ts
 * import { phaseOf } from "./changes.ts";
 * console.assert(phaseOf("define") === phaseOf("adopt"));
 * console.assert(phaseOf("stop") < phaseOf("undefine"));
 * ```
 */
export function phaseOf(action: PlanAction): number {
  const i = PLAN_ACTIONS.indexOf(action);
  return i >= PLAN_ACTIONS.indexOf("adopt") ? i - 1 : i;
}

export interface FieldChange<T> {
  before: T;
  after: T;
}

/** One line of a plan: a change apply executes, or an unsatisfiable want it reports. */
export interface Change {
  action: PlanAction;
  /** Empty for a shortfall. */
  parent: string;
  uuid: string;
  type: string;
  origin: Origin;
  /** The definition differs from what apply last wrote (§5 "Drift"). */
  externalChange: boolean;
  /** modify: what differs. */
  fields?: {
    type?: FieldChange<string>;
    start?: FieldChange<string>;
    attrs?: FieldChange<Attr[]>;
  };
  /** define, adopt, modify, start: the wanted config. */
  config?: MdevConfig;
  /** The existing config file (modify, undefine). */
  configPath?: string | undefined;
  /** undefine: the config being removed (what its callouts are told). */
  current?: MdevConfig;
  /** conflict, restart-required. */
  reason?: string;
  /** shortfall. */
  pool?: string;
  wanted?: number;
  placed?: number;
  /** assign, reassign, release, and conflicts on a VF: `parent` is its GPU, `uuid` the VF. */
  vfio?: VfTarget;
}

/** A managed device the file no longer wants, kept because `--prune` was not given. */
export interface Surplus {
  parent: string;
  uuid: string;
  type: string;
  origin: Origin;
  /** A VF's vGPU (parent: its GPU, uuid: the VF). */
  vfio?: VfTarget;
}

/** Why a registered parent is not ready (§5 "Not-ready parent"). */
export type NotReadyReason = "no-driver" | "no-types" | "type-missing" | "vfs-pending";

/** A registered parent that is not ready: its managed devices are kept. */
export interface NotReady {
  parent: string;
  reason: NotReadyReason;
  /** Managed devices of this owner held on it, all retained. */
  kept: number;
}

/** A pool or explicit device that matches nothing on the host (§3 "Unmatched"). */
export type Unmatched =
  | { pool: string; reason: string; suggestion?: string }
  | { parent: string; uuid: string; type: string; reason: string; suggestion?: string };

export interface Plan {
  owner: string;
  changes: Change[];
  /** Managed devices no longer wanted and kept (no `--prune`), sorted. */
  surplus: Surplus[];
  /** Registered parents that are not ready and concern this file, sorted. */
  notReady: NotReady[];
  /** Pools (file order), then explicit devices (file order) that match nothing. */
  unmatched: Unmatched[];
  /** GPUs a VFIO pool selects whose VFs are not enabled (`apply --enable-vfs`), sorted. */
  vfsDisabled?: string[];
  /** The file has a VFIO pool or the owner's ledger holds VFs (JSON shows the VFIO keys). */
  vfio?: boolean;
  /** Definitions of nobody, left alone (§5), sorted. */
  unmanaged: { parent: string; uuid: string; type: string }[];
  /** The owner's ledger before the plan. */
  ledgerBefore: Ledger;
  /** The owner's ledger once every change has succeeded. */
  ledgerAfter: Ledger;
  warnings: string[];
}

export interface PlanOptions {
  prune: boolean;
  start: boolean;
}

/** Changes apply would execute (conflicts, shortfalls and restarts excluded). */
export function executable(plan: Plan): Change[] {
  return plan.changes.filter((c) => EXECUTED.has(c.action));
}

/**
 * How many wants stay unsatisfied: conflicts, restarts required, shortfalls,
 * unmatched pools and devices, and not-ready parents (§8 exit 4).
 */
export function unsatisfiedCount(plan: Plan): number {
  let n = plan.unmatched.length + plan.notReady.length + (plan.vfsDisabled?.length ?? 0);
  for (const c of plan.changes) if (!EXECUTED.has(c.action)) n++;
  return n;
}

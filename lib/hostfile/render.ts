/**
 * The plan as `diff` prints it (hostfile.md §8): one line per change plus a
 * summary line, or one JSON object. Pure.
 */
import type { Attr, MdevConfig } from "../config.ts";
import type { Origin } from "./ledger.ts";
import {
  type Change,
  EXECUTED,
  type NotReady,
  type Plan,
  PLAN_ACTIONS,
  type PlanAction,
  type Surplus,
  type Unmatched,
  unsatisfiedCount,
  VFIO_ACTIONS,
  type VfTarget,
} from "./changes.ts";

const SIGILS: Record<PlanAction, string> = {
  stop: "<",
  undefine: "-",
  release: "-",
  modify: "~",
  define: "+",
  adopt: "*",
  reassign: "~",
  assign: "+",
  start: ">",
  conflict: "!",
  "restart-required": "!",
  shortfall: "?",
};

/** What happened to a change when apply ran it. */
export type Status = "done" | "failed" | "skipped";

export interface Outcome {
  status: Status;
  error?: { message: string; causes: string[] };
  /** Why it was skipped, when not because of an earlier failure. */
  reason?: string;
}

function attrsText(attrs: readonly Attr[]): string {
  // One key per object: nothing a plain object could reorder.
  return JSON.stringify(attrs.map(([k, v]) => ({ [k]: v })));
}

function originKeys(origin: Origin): string[] {
  return "pool" in origin ? [`rule=${origin.pool}`, `slot=${origin.slot}`] : [];
}

/** `L40S-12Q (id 1155)`: a VF's type as lines show it; `unnamed` when nothing names the id. */
function vfType(t: { typeId: number; typeName: string | undefined }): string {
  const short = t.typeName?.trim().split(/\s+/).at(-1) ?? "unnamed";
  return `${short} (id ${t.typeId})`;
}

/** `<sigil> <VF> <short> (id N) <action>[ from=<short> (id M)] rule=<pool> slot=<n>[ reason=…]`. */
function vfLine(c: Change, t: VfTarget): string {
  const keys: string[] = [];
  if (t.from !== undefined) keys.push(`from=${vfType(t.from)}`);
  keys.push(...originKeys(c.origin));
  if (c.reason !== undefined) keys.push(`reason=${c.reason}`);
  return `${SIGILS[c.action]} ${t.vf} ${vfType(t)} ${c.action} ${keys.join(" ")}`;
}

/** One `<sigil> <parent>/<uuid> <type> <action>[ key=value ...]` line. */
export function changeLine(c: Change): string {
  if (c.vfio !== undefined) return vfLine(c, c.vfio);
  if (c.action === "shortfall") {
    return `? pool:${c.pool} ${c.type} shortfall wanted=${c.wanted} placed=${c.placed}`;
  }
  const keys: string[] = [];
  if (c.action === "modify" && c.fields) {
    const f = c.fields;
    if (f.type) keys.push(`type=${f.type.before}->${f.type.after}`);
    if (f.start) keys.push(`start=${f.start.before}->${f.start.after}`);
    if (f.attrs) keys.push(`attrs=${attrsText(f.attrs.before)}->${attrsText(f.attrs.after)}`);
  }
  if (c.action === "define" && c.config) {
    keys.push(`start=${c.config.autostart ? "auto" : "manual"}`);
    if (c.config.attrs.length > 0) keys.push(`attrs=${attrsText(c.config.attrs)}`);
  }
  keys.push(...originKeys(c.origin));
  if (c.reason !== undefined) keys.push(`reason=${c.reason}`);
  return `${SIGILS[c.action]} ${c.parent}/${c.uuid} ${c.type} ${c.action}${
    keys.length > 0 ? " " + keys.join(" ") : ""
  }`;
}

/** Changes by action; the VFIO actions only in a plan that concerns VFs (mdev JSON unchanged). */
export function countChanges(plan: Plan): Record<PlanAction, number> {
  const shown = PLAN_ACTIONS.filter((a) => plan.vfio === true || !VFIO_ACTIONS.has(a));
  const counts = Object.fromEntries(shown.map((a) => [a, 0])) as Record<PlanAction, number>;
  for (const c of plan.changes) counts[c.action]++;
  return counts;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `# <parent>/<uuid> <type> surplus rule=<pool> slot=<n>` (or `device=<id>`). */
export function surplusLine(s: Surplus): string {
  if (s.vfio !== undefined) {
    return `# ${s.vfio.vf} ${vfType(s.vfio)} surplus ${originKeys(s.origin).join(" ")}`;
  }
  const keys = "pool" in s.origin ? originKeys(s.origin) : [`device=${s.origin.device}`];
  return `# ${s.parent}/${s.uuid} ${s.type} surplus ${keys.join(" ")}`;
}

/** `? <parent> not-ready reason=<reason> kept=<n>`. */
export function notReadyLine(n: NotReady): string {
  return `? ${n.parent} not-ready reason=${n.reason} kept=${n.kept}`;
}

/** `? <PF> vfs-disabled hint="…"`: a GPU a VFIO pool selects whose VFs are not enabled. */
export function vfsDisabledLine(pf: string): string {
  return `? ${pf} vfs-disabled hint=${
    JSON.stringify(`apply --enable-vfs runs sriov-manage -e ${pf}`)
  }`;
}

/** The reason as the `reason=` key quotes it, with the suggestion after it. */
function unmatchedReason(u: Unmatched): string {
  const text = u.suggestion === undefined
    ? u.reason
    : `${u.reason}; did you mean ${JSON.stringify(u.suggestion)}?`;
  return JSON.stringify(text);
}

/** `? pool:<name> unmatched reason="…"`, or `? <parent>/<uuid> <type> unmatched reason="…"`. */
export function unmatchedLine(u: Unmatched): string {
  const what = "pool" in u ? `pool:${u.pool}` : `${u.parent}/${u.uuid} ${u.type}`;
  return `? ${what} unmatched reason=${unmatchedReason(u)}`;
}

/** The lines after the changes (§8, amended): surplus, not-ready parents, unmatched wants. */
export function reportLines(plan: Plan): string[] {
  return [
    ...plan.surplus.map(surplusLine),
    ...plan.notReady.map(notReadyLine),
    ...(plan.vfsDisabled ?? []).map(vfsDisabledLine),
    ...plan.unmatched.map(unmatchedLine),
  ];
}

/** The last line of §8. `verb` is "drift" for diff, "applied" after an apply. */
export function summaryLine(plan: Plan, verb = "drift"): string {
  const counts = countChanges(plan);
  const k = plan.changes.filter((c) => EXECUTED.has(c.action)).length;
  const unsatisfied = unsatisfiedCount(plan);
  let line: string;
  if (k === 0) {
    const vfs = plan.ledgerAfter.vfs?.size ?? 0;
    line = `in sync: ${plan.ledgerAfter.devices.size + vfs} managed`;
    if (unsatisfied > 0) line += `; unsatisfied: ${unsatisfied}`;
  } else {
    const parts = PLAN_ACTIONS.filter((a) => EXECUTED.has(a) && counts[a] > 0)
      .map((a) => `${a} ${counts[a]}`);
    line = `${verb}: ${plural(k, "change", "changes")} (${parts.join(", ")})`;
  }
  if (plan.surplus.length > 0) line += `; surplus: ${plan.surplus.length} kept (--prune removes)`;
  const u = plan.unmanaged.length;
  if (u > 0) line += `; ${plural(u, "unmanaged definition", "unmanaged definitions")} not touched`;
  return line;
}

/** An executed change's line with its status, and its causes when it failed (apply). */
export function outcomeLine(c: Change, o: Outcome): string {
  let line = `${changeLine(c)} status=${o.status}${o.reason ? ` (${o.reason})` : ""}`;
  if (o.error !== undefined) {
    for (const cause of [o.error.message, ...o.error.causes]) line += `\n  cause: ${cause}`;
  }
  return line;
}

/** The lines after the executed changes: reported-only changes, then §8's report lines. */
export function tailLines(plan: Plan, verbose: boolean): string[] {
  const lines = plan.changes.filter((c) => !EXECUTED.has(c.action)).map(changeLine);
  lines.push(...reportLines(plan));
  if (verbose) {
    for (const u of plan.unmanaged) lines.push(`= ${u.parent}/${u.uuid} ${u.type} unmanaged`);
  }
  return lines;
}

/** diff's text output; with `outcomes`, apply's (each executed line gets its status). */
export function renderText(
  plan: Plan,
  verbose: boolean,
  outcomes?: ReadonlyMap<Change, Outcome>,
  verb?: string,
): string {
  const lines = plan.changes.filter((c) => EXECUTED.has(c.action)).map((c) => {
    const o = outcomes?.get(c);
    return o === undefined ? changeLine(c) : outcomeLine(c, o);
  });
  lines.push(...tailLines(plan, verbose), summaryLine(plan, verb));
  return lines.join("\n") + "\n";
}

function originJson(origin: Origin) {
  return "pool" in origin ? { pool: origin.pool, slot: origin.slot } : { device: origin.device };
}

function configJson(config: MdevConfig) {
  return {
    mdev_type: config.type,
    start: config.autostart ? "auto" : "manual",
    attrs: config.attrs.map(([k, v]) => ({ [k]: v })),
  };
}

function attrsJson(attrs: readonly Attr[]) {
  return attrs.map(([k, v]) => ({ [k]: v }));
}

function shortOf(t: { typeName: string | undefined }): string | null {
  return t.typeName?.trim().split(/\s+/).at(-1) ?? null;
}

/** A VF's vGPU in JSON: `vf`, `pf`, `typeId`, `typeName` (null when unnamed), `type` (short). */
function vfJson(t: VfTarget) {
  return { vf: t.vf, pf: t.pf, typeId: t.typeId, typeName: t.typeName ?? null, type: shortOf(t) };
}

function changeJson(c: Change, outcome: Outcome | undefined): Record<string, unknown> {
  let out: Record<string, unknown>;
  if (c.vfio !== undefined) {
    out = { action: c.action, ...vfJson(c.vfio), origin: originJson(c.origin) };
    out.external_change = c.externalChange;
    if (c.vfio.from !== undefined) out.from = { ...c.vfio.from, type: shortOf(c.vfio.from) };
    if (c.reason !== undefined) out.reason = c.reason;
  } else if (c.action === "shortfall") {
    out = { action: c.action, pool: c.pool, type: c.type, wanted: c.wanted, placed: c.placed };
  } else {
    out = {
      action: c.action,
      parent: c.parent,
      uuid: c.uuid,
      type: c.type,
      origin: originJson(c.origin),
      external_change: c.externalChange,
    };
    if (c.action === "modify" && c.fields) {
      const fields: Record<string, unknown> = {};
      if (c.fields.type) fields.type = c.fields.type;
      if (c.fields.start) fields.start = c.fields.start;
      if (c.fields.attrs) {
        fields.attrs = {
          before: attrsJson(c.fields.attrs.before),
          after: attrsJson(c.fields.attrs.after),
        };
      }
      out.fields = fields;
    }
    if ((c.action === "define" || c.action === "adopt") && c.config) {
      out.config = configJson(c.config);
    }
    if (c.reason !== undefined) out.reason = c.reason;
  }
  if (outcome !== undefined) {
    out.status = outcome.status;
    if (outcome.reason !== undefined) out.reason = outcome.reason;
    if (outcome.error !== undefined) out.error = outcome.error;
  }
  return out;
}

/** The `--dumpjson` object (§8, §11), pretty-printed with one final newline. */
export function renderJson(
  plan: Plan,
  outcomes?: ReadonlyMap<Change, Outcome>,
  result?: "success" | "partial" | "failed",
): string {
  const counts = countChanges(plan);
  const k = plan.changes.filter((c) => EXECUTED.has(c.action)).length;
  const doc: Record<string, unknown> = {
    version: 1,
    owner: plan.owner,
    in_sync: k === 0,
    satisfied: unsatisfiedCount(plan) === 0,
    counts,
    changes: plan.changes.map((c) => changeJson(c, outcomes?.get(c))),
    surplus: plan.surplus.map((x) =>
      x.vfio !== undefined ? { ...vfJson(x.vfio), origin: originJson(x.origin) } : {
        parent: x.parent,
        uuid: x.uuid,
        type: x.type,
        origin: originJson(x.origin),
      }
    ),
    notReady: plan.notReady.map((n) => ({ parent: n.parent, reason: n.reason, kept: n.kept })),
    unmatched: plan.unmatched.map((u) => ({ ...u })),
    unmanaged: plan.unmanaged.map((u) => ({ parent: u.parent, uuid: u.uuid, type: u.type })),
    warnings: plan.warnings,
  };
  if (plan.vfio === true) doc.vfsDisabled = plan.vfsDisabled ?? [];
  if (result !== undefined) doc.result = result;
  return JSON.stringify(doc, null, 2) + "\n";
}

/** apply's last line after a failure: what got done of what was planned. */
export function failureLine(outcomes: ReadonlyMap<Change, Outcome>): string {
  let done = 0, failed = 0, skipped = 0;
  for (const o of outcomes.values()) {
    if (o.status === "done") done++;
    else if (o.status === "failed") failed++;
    else skipped++;
  }
  const total = done + failed + skipped;
  return `failed: ${done} of ${
    plural(total, "change", "changes")
  } done, ${failed} failed, ${skipped} skipped`;
}

/** apply's last line after SIGINT/SIGTERM: how many of the executable changes were done. */
export function interruptedLine(outcomes: ReadonlyMap<Change, Outcome>): string {
  let done = 0;
  for (const o of outcomes.values()) if (o.status === "done") done++;
  return `interrupted: ${done} of ${plural(outcomes.size, "change", "changes")} applied`;
}

/** diff's exit status (§8): 3 drift, else 4 unsatisfiable, else 0. */
export function diffStatus(plan: Plan): number {
  if (plan.changes.some((c) => EXECUTED.has(c.action))) return 3;
  return unsatisfiedCount(plan) > 0 ? 4 : 0;
}

/** `{"error":{"message","causes","exit"}}` for --dumpjson fatal errors (§8). */
export function errorJson(message: string, causes: readonly string[], exit: number): string {
  return JSON.stringify({ error: { message, causes, exit } }) + "\n";
}

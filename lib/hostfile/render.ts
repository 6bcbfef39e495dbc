/**
 * The plan as `diff` prints it (hostfile.md §8): one line per change plus a
 * summary line, or one JSON object. Pure.
 */
import type { Attr, MdevConfig } from "../config.ts";
import type { Origin } from "./ledger.ts";
import { type Action, ACTIONS, type Change, EXECUTED, type Plan } from "./plan.ts";

const SIGILS: Record<Action, string> = {
  stop: "<",
  undefine: "-",
  modify: "~",
  define: "+",
  adopt: "*",
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

/** One `<sigil> <parent>/<uuid> <type> <action>[ key=value ...]` line. */
export function changeLine(c: Change): string {
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

export function countChanges(plan: Plan): Record<Action, number> {
  const counts = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>;
  for (const c of plan.changes) counts[c.action]++;
  return counts;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The last line of §8. `verb` is "drift" for diff, "applied" after an apply. */
export function summaryLine(plan: Plan, verb = "drift"): string {
  const counts = countChanges(plan);
  const k = plan.changes.filter((c) => EXECUTED.has(c.action)).length;
  const unsatisfied = counts.conflict + counts["restart-required"] + counts.shortfall;
  let line: string;
  if (k === 0) {
    line = `in sync: ${plan.ledgerAfter.devices.size} managed`;
    if (unsatisfied > 0) line += `; unsatisfied: ${unsatisfied}`;
  } else {
    const parts = ACTIONS.filter((a) => EXECUTED.has(a) && counts[a] > 0)
      .map((a) => `${a} ${counts[a]}`);
    line = `${verb}: ${plural(k, "change", "changes")} (${parts.join(", ")})`;
  }
  const u = plan.unmanaged.length;
  if (u > 0) line += `; ${plural(u, "unmanaged definition", "unmanaged definitions")} not touched`;
  return line;
}

/** diff's text output; with `outcomes`, apply's (each executed line gets its status). */
export function renderText(
  plan: Plan,
  verbose: boolean,
  outcomes?: ReadonlyMap<Change, Outcome>,
  verb?: string,
): string {
  const lines = plan.changes.map((c) => {
    const o = outcomes?.get(c);
    if (o === undefined) return changeLine(c);
    return `${changeLine(c)} status=${o.status}${o.reason ? ` (${o.reason})` : ""}`;
  });
  if (verbose) {
    for (const u of plan.unmanaged) lines.push(`= ${u.parent}/${u.uuid} ${u.type} unmanaged`);
  }
  lines.push(summaryLine(plan, verb));
  return lines.join("\n") + "\n";
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

function changeJson(c: Change, outcome: Outcome | undefined): Record<string, unknown> {
  let out: Record<string, unknown>;
  if (c.action === "shortfall") {
    out = { action: c.action, pool: c.pool, type: c.type, wanted: c.wanted, placed: c.placed };
  } else {
    out = {
      action: c.action,
      parent: c.parent,
      uuid: c.uuid,
      type: c.type,
      origin: "pool" in c.origin
        ? { pool: c.origin.pool, slot: c.origin.slot }
        : { device: c.origin.device },
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
    satisfied: counts.conflict + counts["restart-required"] + counts.shortfall === 0,
    counts,
    changes: plan.changes.map((c) => changeJson(c, outcomes?.get(c))),
    unmanaged: plan.unmanaged.map((u) => ({ parent: u.parent, uuid: u.uuid, type: u.type })),
    warnings: plan.warnings,
  };
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

/** diff's exit status (§8): 3 drift, else 4 unsatisfiable, else 0. */
export function diffStatus(plan: Plan): number {
  if (plan.changes.some((c) => EXECUTED.has(c.action))) return 3;
  if (plan.changes.length > 0) return 4;
  return 0;
}

/** `{"error":{"message","causes","exit"}}` for --dumpjson fatal errors (§8). */
export function errorJson(message: string, causes: readonly string[], exit: number): string {
  return JSON.stringify({ error: { message, causes, exit } }) + "\n";
}

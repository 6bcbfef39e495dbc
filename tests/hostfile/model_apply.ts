/**
 * The model test's apply, in-process: the same steps as `mdevctl apply`
 * (parse, snapshot, ledgers, plan, execute) against a fake tree, without
 * spawning a program per step. Also the body of the crash worker.
 */
import * as Y from "npm:yaml@2.9.1";
import { Environment } from "../../lib/environment.ts";
import { executable, type Plan } from "../../lib/hostfile/changes.ts";
import { execute, type Execution } from "../../lib/hostfile/execute.ts";
import { readLedgers } from "../../lib/hostfile/ledger.ts";
import { makePlan } from "../../lib/hostfile/plan.ts";
import { diffStatus, renderText } from "../../lib/hostfile/render.ts";
import { parseHostFile } from "../../lib/hostfile/schema.ts";
import { readSnapshot } from "../../lib/hostfile/snapshot.ts";

export interface ApplyRequest {
  root: string;
  file: string;
  prune: boolean;
}

function quietEnv(root: string): Environment {
  return new Environment(root, { stdout: () => {}, stderr: () => {} });
}

/** The plan `diff` would print for this request. */
export function planFor(req: ApplyRequest): Plan {
  const env = quietEnv(req.root);
  const file = parseHostFile(Y, "model.yaml", new TextEncoder().encode(req.file));
  return makePlan(file, readSnapshot(env), readLedgers(env, file.owner), {
    prune: req.prune,
    start: false,
  });
}

/** diff's exit status and text, and how many changes apply would execute. */
export function diffOf(req: ApplyRequest): { status: number; executable: number; text: string } {
  const plan = planFor(req);
  return {
    status: diffStatus(plan),
    executable: executable(plan).length,
    text: renderText(plan, true),
  };
}

/** Plans and executes, as apply does (the caller is the only writer: no lock needed). */
export async function applyOnce(req: ApplyRequest): Promise<Execution> {
  return await execute(quietEnv(req.root), planFor(req), { force: false, keepGoing: false });
}

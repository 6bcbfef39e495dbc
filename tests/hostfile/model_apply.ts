/**
 * The model test's apply, in-process: the same steps as `mdevctl apply`
 * (parse, snapshot, ledgers, plan, execute) against a fake tree, without
 * spawning a program per step, and the pieces the model tests share:
 * random choices, the crash (`killedAfter`) and where the trees go.
 */
import * as Y from "npm:yaml@2.9.1";
import { Environment } from "../../lib/environment.ts";
import { executable, type Plan } from "../../lib/hostfile/changes.ts";
import { executeRounds } from "../../lib/hostfile/apply_rounds.ts";
import type { Execution } from "../../lib/hostfile/execute.ts";
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

/** Plans and executes (in rounds), as apply does (the caller is the only writer: no lock needed). */
export async function applyOnce(req: ApplyRequest): Promise<Execution> {
  const opts = { force: false, keepGoing: false };
  return (await executeRounds(quietEnv(req.root), planFor(req), () => planFor(req), opts)).done;
}

/** The model tests' random choices. */
export type Random = () => number;
export const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const chance = (r: Random, p: number) => r() < p;
export const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** The file-system calls the program changes the host with. */
const MUTATORS = [
  "mkdirSync",
  "makeTempDirSync",
  "removeSync",
  "renameSync",
  "symlinkSync",
  "writeFileSync",
  "writeTextFileSync",
  "chmodSync",
  "openSync",
] as const;

/**
 * Runs `body` as if the process were killed after its `k`-th change to the
 * file system: from then on every such call fails and lands nothing, so the
 * tree is left exactly as SIGKILL at that moment would leave it. (Reads go
 * on; they change nothing.) Test-side only: the program has no hook for it.
 */
export async function killedAfter(k: number, body: () => Promise<unknown>): Promise<void> {
  const deno = Deno as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = MUTATORS.map((name) => [name, deno[name]!] as const);
  let left = k;
  for (const [name, original] of saved) {
    deno[name] = (...args: unknown[]) => {
      const opts = args[1] as Deno.OpenOptions | undefined;
      const changes = name !== "openSync" ||
        !!(opts?.write || opts?.create || opts?.append || opts?.truncate || opts?.createNew);
      if (changes && left-- <= 0) throw new Error("killed");
      return original.apply(Deno, args);
    };
  }
  try {
    await body().catch(() => {});
  } finally {
    for (const [name, original] of saved) deno[name] = original;
  }
}

/**
 * Where the cases' trees go: a tmpfs when there is one. Every config write
 * is fsync'ed (file and directory), which on a disk costs milliseconds and
 * would make thousands of cases take minutes; on tmpfs it costs nothing and
 * tests the same code.
 */
export function scratchOptions(): Deno.MakeTempOptions {
  try {
    const probe = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "mdevctl-model-probe-" });
    Deno.removeSync(probe);
    return { prefix: "mdevctl-model-", dir: "/dev/shm" };
  } catch {
    return { prefix: "mdevctl-model-" }; // no tmpfs here: the default temp directory
  }
}

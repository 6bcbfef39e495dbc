/**
 * A randomized model test of the host-file planner and executor
 * (hostfile.md §5–§7): random hosts (parents registering, unregistering and
 * not ready; types appearing and disappearing; hand edits and 1.x-style
 * writes between applies; an apply killed at a random moment) and random
 * host files, checked against invariants an administrator relies on:
 *
 * 1. apply never removes a definition its owner does not manage;
 * 2. never one whose parent is absent or not ready;
 * 3. a second apply is a no-op, and diff after a finished apply exits 0 or 4;
 * 4. after any interruption, every config apply wrote is in the ledger.
 *
 * The cases run in-process (the planner and executor on a fake tree); the
 * crash stops every file-system change after a random step. MDEVCTL_MODEL_CASES sets the
 * number of cases (default 2000); the seed is printed for replay.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { seededRandom, testSeed } from "../helpers/random.ts";
import { TARGET } from "../helpers/fake_host.ts";
import {
  applyOnce,
  type ApplyRequest,
  chance,
  diffOf,
  int,
  killedAfter,
  pick,
  type Random,
  scratchOptions,
} from "./model_apply.ts";

const PARENTS = ["0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0"];
const ABSENT = "0000:af:00.0";
const TYPE_NAMES: Record<string, string> = { t1: "Vendor T-1", t2: "Vendor T-2" };
const OWNER = "own";

interface ParentState {
  registered: boolean;
  driver: boolean;
  /** type -> available_instances; empty: types not (yet) populated. */
  types: Map<string, number>;
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** A fake host the test owns: its state, written to a tree under `root`. */
class ModelHost {
  readonly parents = new Map<string, ParentState>();
  constructor(readonly root: string) {}

  devDir(p: string): string {
    return `${this.root}/sys/devices/pci0000:00/${p}`;
  }

  /** Writes one parent's sysfs from its state (types, driver, registration). */
  sync(p: string): void {
    const s = this.parents.get(p)!;
    const dev = this.devDir(p);
    Deno.mkdirSync(dev, { recursive: true });
    removeIfThere(`${dev}/mdev_supported_types`);
    Deno.mkdirSync(`${dev}/mdev_supported_types`);
    for (const [t, available] of s.types) {
      const dir = `${dev}/mdev_supported_types/${t}`;
      Deno.mkdirSync(dir);
      Deno.writeTextFileSync(`${dir}/name`, `${TYPE_NAMES[t]}\n`);
      Deno.writeTextFileSync(`${dir}/available_instances`, `${available}\n`);
      Deno.writeTextFileSync(`${dir}/device_api`, "vfio-pci\n");
      Deno.writeTextFileSync(`${dir}/create`, "");
    }
    const driver = `${dev}/driver`;
    removeIfThere(driver);
    if (s.driver) Deno.symlinkSync(`${this.root}/sys/bus/pci/drivers/vendor`, driver);
    const link = `${this.root}/sys/class/mdev_bus/${p}`;
    removeIfThere(link);
    if (s.registered) Deno.symlinkSync(dev, link);
  }

  init(r: Random): void {
    for (const d of ["sys/class/mdev_bus", "sys/bus/mdev/devices", "sys/bus/pci/drivers/vendor"]) {
      Deno.mkdirSync(`${this.root}/${d}`, { recursive: true });
    }
    Deno.mkdirSync(`${this.root}/etc/mdevctl.d`, { recursive: true });
    for (const p of PARENTS.slice(0, int(r, 1, PARENTS.length))) {
      const types = new Map<string, number>();
      for (const t of Object.keys(TYPE_NAMES)) if (chance(r, 0.7)) types.set(t, int(r, 0, 6));
      this.parents.set(p, { registered: true, driver: true, types });
      Deno.mkdirSync(this.devDir(p), { recursive: true });
      Deno.symlinkSync(`${this.root}/sys/bus/pci`, `${this.devDir(p)}/subsystem`);
      this.sync(p);
    }
  }

  /** Every definition on disk: uuid -> parent and type. */
  definitions(): Map<string, { parent: string; type: string }> {
    const out = new Map<string, { parent: string; type: string }>();
    for (const p of Deno.readDirSync(`${this.root}/etc/mdevctl.d`)) {
      if (!p.isDirectory) continue;
      for (const f of Deno.readDirSync(`${this.root}/etc/mdevctl.d/${p.name}`)) {
        if (f.name.startsWith(".")) continue;
        const text = Deno.readTextFileSync(`${this.root}/etc/mdevctl.d/${p.name}/${f.name}`);
        out.set(f.name, { parent: p.name, type: JSON.parse(text).mdev_type });
      }
    }
    return out;
  }

  /** An owner's ledger: uuid -> parent and type (empty when there is none). */
  ledger(owner: string): Map<string, { parent: string; type: string }> {
    try {
      const text = Deno.readTextFileSync(`${this.root}/var/lib/mdevctl/owners/${owner}.json`);
      return new Map(Object.entries(JSON.parse(text).devices));
    } catch {
      return new Map();
    }
  }

  /**
   * The oracle for §5: registered, driver bound, types populated, and the
   * types of the managed devices it holds (defined on it) offered.
   */
  ready(
    p: string,
    own: ReadonlyMap<string, { parent: string; type: string }>,
    defs: ReadonlyMap<string, { parent: string; type: string }>,
  ): boolean {
    const s = this.parents.get(p);
    if (s === undefined || !s.registered || !s.driver || s.types.size === 0) return false;
    return [...own].every(([uuid, e]) =>
      e.parent !== p || defs.get(uuid)?.parent !== p || s.types.has(e.type)
    );
  }

  writeConfig(parent: string, uuid: string, type: string, start: string): void {
    Deno.mkdirSync(`${this.root}/etc/mdevctl.d/${parent}`, { recursive: true });
    Deno.writeTextFileSync(
      `${this.root}/etc/mdevctl.d/${parent}/${uuid}`,
      JSON.stringify({ mdev_type: type, start, attrs: [] }, null, 2),
    );
  }
}

function randomType(r: Random): string {
  return pick(r, [
    "t1",
    "t2",
    '{name: "Vendor T-1"}',
    "{nameToken: T-2}",
    "t9",
    '{name: "vendor t-2"}',
  ]);
}

/** A random host file of owner `own`: 0-2 explicit devices, 0-2 pools. */
function randomFile(r: Random): string {
  const lines = ["version: 1", `owner: ${OWNER}`];
  const devices = int(r, 0, 2);
  if (devices > 0) {
    lines.push("devices:");
    for (let i = 0; i < devices; i++) {
      const parent = pick(r, [...PARENTS, ABSENT]);
      lines.push(`  - {id: d${i}, parent: "${parent}", type: ${pick(r, ["t1", "t2", "t9"])}}`);
    }
  }
  const pools = int(r, chance(r, 0.9) ? 1 : 0, 2);
  if (pools > 0) {
    lines.push("pools:");
    for (let i = 0; i < pools; i++) {
      const size = chance(r, 0.5)
        ? `perParent: ${pick(r, ["1", "2", "3", "max"])}`
        : `count: ${int(r, 0, 6)}, placement: ${pick(r, ["spread", "pack"])}`;
      const sel = chance(r, 0.3) ? `, parents: {names: ["0000:0[12]:*"]}` : "";
      const exclusive = chance(r, 0.2) ? ", exclusive: true" : "";
      lines.push(`  - {name: p${i}, type: ${randomType(r)}, ${size}${sel}${exclusive}}`);
    }
  }
  return lines.join("\n") + "\n";
}

function randomUuid(r: Random): string {
  const hex = () => int(r, 0, 15).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join("");
  return `${part(8)}-${part(4)}-4${part(3)}-8${part(3)}-${part(12)}`;
}

/** One random change to the host between applies (what udev, a driver or a person does). */
function mutate(host: ModelHost, r: Random): string {
  const p = pick(r, [...host.parents.keys()]);
  const s = host.parents.get(p)!;
  const defs = [...host.definitions()];
  switch (int(r, 0, 8)) {
    case 0:
      s.registered = !s.registered;
      host.sync(p);
      return `${p} registered=${s.registered}`;
    case 1:
      s.driver = !s.driver;
      host.sync(p);
      return `${p} driver=${s.driver}`;
    case 2: {
      // Types vanish (a driver restarting) or come back.
      if (s.types.size > 0) s.types.clear();
      else for (const t of Object.keys(TYPE_NAMES)) s.types.set(t, int(r, 0, 6));
      host.sync(p);
      return `${p} types=${[...s.types.keys()]}`;
    }
    case 3: {
      const t = pick(r, Object.keys(TYPE_NAMES));
      if (s.types.has(t)) s.types.delete(t);
      else s.types.set(t, int(r, 0, 6));
      host.sync(p);
      return `${p} toggles ${t}`;
    }
    case 4: {
      for (const t of s.types.keys()) s.types.set(t, int(r, 0, 6));
      host.sync(p);
      return `${p} available changed`;
    }
    case 5: {
      if (defs.length === 0) return "nothing to undefine";
      const [uuid, d] = pick(r, defs);
      Deno.removeSync(`${host.root}/etc/mdevctl.d/${d.parent}/${uuid}`);
      return `undefine ${uuid}`;
    }
    case 6: {
      if (defs.length === 0) return "nothing to modify";
      // A hand edit, as `mdevctl modify` makes it: start mode, sometimes the type.
      const [uuid, d] = pick(r, defs);
      const type = chance(r, 0.3) ? pick(r, Object.keys(TYPE_NAMES)) : d.type;
      host.writeConfig(d.parent, uuid, type, pick(r, ["auto", "manual"]));
      return `modify ${uuid} type=${type}`;
    }
    default: {
      const uuid = randomUuid(r);
      host.writeConfig(pick(r, [...PARENTS, ABSENT]), uuid, pick(r, ["t1", "t2"]), "manual");
      return `define unmanaged ${uuid}`;
    }
  }
}

/** Invariants 1 and 2: what an apply removed was managed by it, on a ready parent. */
function checkRemovals(
  host: ModelHost,
  before: Map<string, { parent: string; type: string }>,
  ownBefore: Map<string, { parent: string; type: string }>,
  where: string,
): void {
  const after = host.definitions();
  for (const [uuid, d] of before) {
    if (after.has(uuid)) continue;
    assert(ownBefore.has(uuid), `${where}: removed ${uuid}, which ${OWNER} does not manage`);
    assert(
      host.ready(d.parent, ownBefore, before),
      `${where}: removed ${uuid} on not-ready ${d.parent}`,
    );
  }
}

/** Invariant 4: every config not there before is in the ledger. */
function checkLedgerCovers(
  host: ModelHost,
  before: Map<string, { parent: string; type: string }>,
  where: string,
): void {
  const ledger = host.ledger(OWNER);
  for (const uuid of host.definitions().keys()) {
    assert(before.has(uuid) || ledger.has(uuid), `${where}: ${uuid} written but not in the ledger`);
  }
}

async function fullApply(host: ModelHost, req: ApplyRequest, where: string): Promise<void> {
  const before = host.definitions();
  const ownBefore = host.ledger(OWNER);
  const first = diffOf(req).text;
  const done = await applyOnce(req);
  assertEquals(done.result, "success", `${where}: ${done.firstError?.message}`);
  checkRemovals(host, before, ownBefore, where);
  checkLedgerCovers(host, before, where);
  // Invariant 3: converged. Nothing left to execute; diff says 0 or 4.
  const diff = diffOf(req);
  assertEquals(
    diff.executable,
    0,
    `${where}: a second apply would change:\n${diff.text}after\n${first}`,
  );
  assert(diff.status === 0 || diff.status === 4, `${where}: diff exits ${diff.status}`);
}

/** An apply killed at a random step. */
async function crashApply(host: ModelHost, req: ApplyRequest, r: Random, where: string) {
  const before = host.definitions();
  const ownBefore = host.ledger(OWNER);
  const k = int(r, 0, 30);
  await killedAfter(k, () => applyOnce(req));
  checkRemovals(host, before, ownBefore, `${where} killed after ${k} writes`);
  checkLedgerCovers(host, before, `${where} killed after ${k} writes`);
}

async function runCase(seed: number, index: number, crash: boolean): Promise<void> {
  const r = seededRandom(seed + index * 7919);
  const root = Deno.makeTempDirSync(scratchOptions());
  const where = (step: number, what: string) =>
    `case ${index} step ${step} (${what}; replay with MDEVCTL_TEST_SEED=${seed})`;
  try {
    const host = new ModelHost(root);
    host.init(r);
    if (chance(r, 0.4)) {
      // Another owner's device, and a definition of nobody's.
      const foreign = `version: 1\nowner: other\ndevices: [{id: f, parent: "${
        pick(r, PARENTS)
      }", type: t1}]\n`;
      await applyOnce({ root, file: foreign, prune: false });
      host.writeConfig(pick(r, PARENTS), randomUuid(r), "t2", "auto");
    }
    let file = randomFile(r);
    const steps = int(r, 3, 7);
    for (let step = 0; step < steps; step++) {
      const op = r();
      if (op < 0.4) {
        const req = { root, file, prune: chance(r, 0.6) };
        await fullApply(host, req, where(step, `apply prune=${req.prune}\n${file}`));
      } else if (op < 0.5) {
        file = randomFile(r);
      } else if (crash && op < 0.6) {
        await crashApply(host, { root, file, prune: true }, r, where(step, `crash\n${file}`));
      } else {
        mutate(host, r);
      }
    }
    await fullApply(host, { root, file, prune: true }, where(steps, `final apply\n${file}`));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test({
  name: "model: random hosts and host files keep the prune, convergence and ledger invariants",
  // In-process: the program under test is the library, not the built
  // target; the source suite runs it, the dist run would repeat it.
  ignore: TARGET === "dist",
  fn: async () => {
    const seed = testSeed("hostfile model");
    const cases = Number(Deno.env.get("MDEVCTL_MODEL_CASES") ?? "2000");
    const started = performance.now();
    for (let i = 0; i < cases; i++) {
      // The replay line last too: CI logs keep a failure's tail.
      await runCase(seed, i, true).catch((e) => {
        if (e instanceof Error) e.message += `\nreplay case ${i} with MDEVCTL_TEST_SEED=${seed}`;
        throw e;
      });
    }
    console.log(
      `hostfile model: ${cases} cases in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  },
});

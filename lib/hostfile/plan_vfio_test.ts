/**
 * The VFIO part of the planner (docs/vfio-vgpu.md) on hand-built snapshots:
 * placement, stickiness, ownership, readiness, names and the diff lines.
 */
import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import * as Y from "npm:yaml@2.9.1";
import type { VfioGpu, VirtualFunction } from "../vfio/gpus.ts";
import type { VgpuType } from "../vfio/creatable.ts";
import type { Plan, PlanOptions } from "./changes.ts";
import type { Ledger, VfEntry } from "./ledger.ts";
import { parseLedger, serializeLedger } from "./ledger.ts";
import { makePlan } from "./plan.ts";
import { diffStatus, renderJson, renderText } from "./render.ts";
import { parseHostFile } from "./schema.ts";
import { activeFromMap, type ParentInfo, type Snapshot } from "./snapshot.ts";

const T12: VgpuType = { id: 1155, name: "NVIDIA L40S-12Q", short: "L40S-12Q" };
const T24: VgpuType = { id: 1156, name: "NVIDIA L40S-24Q", short: "L40S-24Q" };
const G = ["0000:41:00.0", "0000:61:00.0", "0000:a1:00.0"];
/** VF i of a PF, as the fake trees lay them out (functions 4 and up). */
const vf = (pf: string, i: number) => `${pf.slice(0, 7)}:00.${i + 4}`;

/** A GPU with `n` VFs, all free and offering both types, then `set` applied. */
function gpu(address: string, n = 4, set: Record<number, Partial<VirtualFunction>> = {}): VfioGpu {
  const vfs = Array.from({ length: n }, (_, i): VirtualFunction => ({
    address: vf(address, i),
    index: i,
    pf: address,
    currentType: 0,
    creatable: [T12, T24],
    ...set[i],
  }));
  return {
    address,
    vendor: "0x10de",
    device: "0x26b9",
    driver: "nvidia",
    totalVfs: 32,
    numVfs: n,
    vfs,
    linkedVfs: n,
  };
}

function snap(gpus: VfioGpu[], parents: ParentInfo[] = []): Snapshot {
  return {
    parents: new Map(parents.map((p) => [p.name, p])),
    definitions: [],
    active: activeFromMap(new Map()),
    gpus,
  };
}

function plan(text: string, s: Snapshot, ledgers: Ledger[] = [], opts: Partial<PlanOptions> = {}) {
  const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
  return makePlan(file, s, new Map(ledgers.map((l) => [l.owner, l])), {
    prune: false,
    start: false,
    ...opts,
  });
}

function ledger(owner: string, vfs: [string, string, number, string, number][]): Ledger {
  return {
    owner,
    devices: new Map(),
    vfs: new Map(vfs.map(([v, pf, typeId, pool, slot]): [string, VfEntry] => [v, {
      pf,
      typeId,
      typeName: typeId === T12.id ? T12.name : typeId === T24.id ? T24.name : undefined,
      origin: { pool, slot },
    }])),
  };
}

const lines = (p: Plan) => renderText(p, false).trimEnd().split("\n");

const POOL12 = (sel: string, n: string) =>
  `version: 1
owner: vdi
pools:
  - name: p
    type: {nameToken: "L40S-12Q"}
    parents: ${sel}
    ${n}
`;

Deno.test("perParent places on the lowest free VFs of each selected GPU", () => {
  const p = plan(POOL12("{driver: [nvidia]}", "perParent: 2"), snap([gpu(G[0]!), gpu(G[1]!)]));
  assertEquals(lines(p), [
    "+ 0000:41:00.4 L40S-12Q (id 1155) assign rule=p slot=0",
    "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=1",
    "+ 0000:61:00.4 L40S-12Q (id 1155) assign rule=p slot=0",
    "+ 0000:61:00.5 L40S-12Q (id 1155) assign rule=p slot=1",
    "drift: 4 changes (assign 4)",
  ]);
  assertEquals(diffStatus(p), 3);
  assertEquals(p.ledgerAfter.vfs?.size, 4);
});

Deno.test("count spreads over GPUs, pack fills the first; busy and foreign VFs are skipped", () => {
  const busy = gpu(G[0]!, 4, { 0: { currentType: 1156 }, 1: { creatable: [T24] } });
  const s = snap([busy, gpu(G[1]!), gpu(G[2]!)]);
  const other = ledger("other", [[vf(G[1]!, 0), G[1]!, 1155, "x", 0]]);
  const spread = plan(POOL12('{pciVendor: ["10de"]}', "count: 4"), s, [other]);
  // One each, then the first GPU with the fewest (ties go to the first).
  assertEquals(spread.changes.map((c) => c.uuid), [
    vf(G[0]!, 2),
    vf(G[0]!, 3),
    vf(G[1]!, 1),
    vf(G[2]!, 0),
  ]);
  const pack = plan(POOL12("{names: ['0000:*']}", "count: 3\n    placement: pack"), s, [other]);
  assertEquals(pack.changes.map((c) => c.uuid), [vf(G[0]!, 2), vf(G[0]!, 3), vf(G[1]!, 1)]);
});

Deno.test("sticky: kept as is, given back after a reboot, set back after a hand change", () => {
  const own = ledger("vdi", [
    [vf(G[0]!, 0), G[0]!, 1155, "p", 0],
    [vf(G[0]!, 1), G[0]!, 1155, "p", 1],
    [vf(G[0]!, 2), G[0]!, 1155, "p", 2],
  ]);
  const s = snap([gpu(G[0]!, 4, { 0: { currentType: 1155 }, 2: { currentType: 1156 } })]);
  const p = plan(POOL12("{names: ['0000:41:00.0']}", "perParent: 3"), s, [own]);
  assertEquals(lines(p), [
    "~ 0000:41:00.6 L40S-12Q (id 1155) reassign from=L40S-24Q (id 1156) rule=p slot=2",
    "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=1",
    "drift: 2 changes (reassign 1, assign 1)",
  ]);
  // In sync: nothing to do, and the ledger bytes stay.
  const synced = snap([
    gpu(G[0]!, 4, { 0: { currentType: 1155 }, 1: { currentType: 1155 }, 2: { currentType: 1155 } }),
  ]);
  const q = plan(POOL12("{names: ['0000:41:00.0']}", "perParent: 3"), synced, [own]);
  assertEquals(lines(q), ["in sync: 3 managed"]);
  assertEquals(serializeLedger(q.ledgerAfter), serializeLedger(own));
});

Deno.test("fewer wanted: surplus without --prune, release with it; foreign VFs never", () => {
  const own = ledger("vdi", [
    [vf(G[0]!, 0), G[0]!, 1155, "p", 0],
    [vf(G[0]!, 1), G[0]!, 1155, "p", 1],
  ]);
  const s = snap([gpu(G[0]!, 4, {
    0: { currentType: 1155 },
    1: { currentType: 1155 },
    3: { currentType: 1155 }, // someone else's
  })]);
  const text = POOL12("{names: ['0000:41:00.0']}", "perParent: 1");
  assertEquals(lines(plan(text, s, [own])), [
    "# 0000:41:00.5 L40S-12Q (id 1155) surplus rule=p slot=1",
    "in sync: 2 managed; surplus: 1 kept (--prune removes)",
  ]);
  const pruned = plan(text, s, [own], { prune: true });
  assertEquals(lines(pruned), [
    "- 0000:41:00.5 L40S-12Q (id 1155) release rule=p slot=1",
    "drift: 1 change (release 1)",
  ]);
  assertEquals([...pruned.ledgerAfter.vfs!.keys()], [vf(G[0]!, 0)]);
  // A pool gone from the file: every owned VF goes; the foreign one stays.
  const gone = plan("version: 1\nowner: vdi\n", s, [own], { prune: true });
  assertEquals(gone.changes.map((c) => `${c.action} ${c.uuid}`), [
    `release ${vf(G[0]!, 0)}`,
    `release ${vf(G[0]!, 1)}`,
  ]);
});

Deno.test("an unreadable current_vgpu_type: never written, never released, reported", () => {
  const own = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1155, "p", 0]]);
  const s = snap([gpu(G[0]!, 2, { 0: { currentType: null, currentText: "junk" } })]);
  const p = plan("version: 1\nowner: vdi\n", s, [own], { prune: true });
  assertEquals(lines(p), [
    '! 0000:41:00.4 L40S-12Q (id 1155) conflict rule=p slot=0 reason=current_vgpu_type reads "junk", not a type id',
    "in sync: 1 managed; unsatisfied: 1",
  ]);
  assertEquals(diffStatus(p), 4);
});

Deno.test("VFs disabled: reported with the hint; VFs appearing: not ready, owned kept", () => {
  const off = { ...gpu(G[0]!, 0), numVfs: 0 };
  const p = plan(POOL12("{driver: [nvidia]}", "perParent: 1"), snap([off]));
  assertEquals(lines(p), [
    '? 0000:41:00.0 vfs-disabled hint="apply --enable-vfs runs sriov-manage -e 0000:41:00.0"',
    "in sync: 0 managed; unsatisfied: 1",
  ]);
  assertEquals(JSON.parse(renderJson(p)).vfsDisabled, [G[0]]);
  const own = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1155, "p", 0]]);
  const pending = { ...gpu(G[0]!, 2), linkedVfs: 3 };
  const q = plan("version: 1\nowner: vdi\n", snap([pending]), [own], { prune: true });
  assertEquals(lines(q), [
    "? 0000:41:00.0 not-ready reason=vfs-pending kept=1",
    "in sync: 1 managed; unsatisfied: 1",
  ]);
});

Deno.test("types: unmatched keeps what the pool owns; ids and full names resolve", () => {
  const own = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1155, "p", 0]]);
  const s = snap([gpu(G[0]!, 2, { 0: { currentType: 1155 } })]);
  const typo = POOL12("{driver: [nvidia]}", "perParent: 1").replace("L40S-12Q", "L40S-12q");
  const p = plan(typo, s, [own], { prune: true });
  assertEquals(lines(p), [
    '? pool:p unmatched reason="type {nameToken: \\"L40S-12q\\"} is not offered by 0000:41:00.0"',
    "in sync: 1 managed; unsatisfied: 1",
  ]);
  const byId = POOL12("{driver: [nvidia]}", "perParent: 2").replace(
    '{nameToken: "L40S-12Q"}',
    '"1155"',
  );
  assertEquals(lines(plan(byId, s, [own])).at(-1), "drift: 1 change (assign 1)");
  const byName = byId.replace('"1155"', '{name: "NVIDIA L40S-12Q"}');
  assertEquals(lines(plan(byName, s, [own])).at(-1), "drift: 1 change (assign 1)");
});

Deno.test("names: an id no list names is named from the ledger, else unnamed", () => {
  // Every VF holds a type: nothing is creatable, so sysfs names nothing.
  const full = gpu(G[0]!, 2, {
    0: { currentType: 1155, creatable: [] },
    1: { currentType: 1155, creatable: [] },
  });
  const own = ledger("vdi", [
    [vf(G[0]!, 0), G[0]!, 1155, "p", 0],
    [vf(G[0]!, 1), G[0]!, 1155, "p", 1],
  ]);
  const p = plan("version: 1\nowner: vdi\n", snap([full]), [own]);
  assertEquals(lines(p)[0], "# 0000:41:00.4 L40S-12Q (id 1155) surplus rule=p slot=0");
  own.vfs!.get(vf(G[0]!, 0))!.typeName = undefined;
  own.vfs!.get(vf(G[0]!, 1))!.typeName = undefined;
  const q = plan("version: 1\nowner: vdi\n", snap([full]), [own]);
  assertEquals(lines(q)[0], "# 0000:41:00.4 unnamed (id 1155) surplus rule=p slot=0");
  // And a pool by short name cannot resolve it: unmatched, nothing released.
  const r = plan(POOL12("{driver: [nvidia]}", "perParent: 2"), snap([full]), [own], {
    prune: true,
  });
  assertEquals(r.changes, []);
  assertEquals(r.unmatched.length, 1);
});

Deno.test("a pool selecting mdev parents and GPUs is an error naming it", () => {
  const mdev: ParentInfo = {
    name: "0000:3b:00.0",
    driver: "nvidia",
    vendor: "0x10de",
    device: "0x1eb8",
    physfn: undefined,
    onBus: true,
    types: new Map([["nvidia-222", { name: "GRID T4-1Q", available: 16 }]]),
  };
  assertThrows(
    () => plan(POOL12("{driver: [nvidia]}", "perParent: 1"), snap([gpu(G[0]!)], [mdev])),
    /^MdevError: h\.yaml:4:5: pool p selects both mdev parents and vendor-VFIO GPUs \(0000:3b:00\.0, 0000:41:00\.0\)/,
  );
});

Deno.test("JSON: VFIO changes and counts; mdev-only plans keep their counts keys", () => {
  const p = plan(POOL12("{driver: [nvidia]}", "perParent: 1"), snap([gpu(G[0]!)]));
  const doc = JSON.parse(renderJson(p));
  assertEquals(doc.counts.assign, 1);
  assertEquals(doc.changes[0], {
    action: "assign",
    vf: "0000:41:00.4",
    pf: G[0],
    typeId: 1155,
    typeName: "NVIDIA L40S-12Q",
    type: "L40S-12Q",
    origin: { pool: "p", slot: 0 },
    external_change: false,
  });
  const mdevOnly = JSON.parse(renderJson(plan("version: 1\nowner: vdi\n", snap([gpu(G[0]!)]))));
  assertEquals(Object.keys(mdevOnly.counts).includes("assign"), false);
  assertEquals("vfsDisabled" in mdevOnly, false);
});

Deno.test("ledger: vfs round-trips; old ledgers without it stay valid; bad entries refused", () => {
  const own = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1155, "p", 0]]);
  const text = serializeLedger(own);
  assertEquals(serializeLedger(parseLedger(text, "vdi")), text);
  assertEquals(parseLedger('{"version":1,"owner":"vdi","devices":{}}', "vdi").vfs, undefined);
  assertThrows(
    () => parseLedger('{"version":1,"owner":"vdi","devices":{},"vfs":{"x":{}}}', "vdi"),
    /invalid vfs entry "x"/,
  );
});

Deno.test("an owned VF emptied by a reboot that no pool takes back is free for the plan that forgets it", () => {
  // VF 0 was the slot of a pool the file no longer has; it reads 0 now. The
  // plan forgets it, so the same plan may place on it (else the next one would).
  const own = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1156, "gone", 0]]);
  const p = plan(POOL12("{names: ['0000:41:00.0']}", "count: 2"), snap([gpu(G[0]!, 2)]), [own]);
  assertEquals(lines(p), [
    "+ 0000:41:00.4 L40S-12Q (id 1155) assign rule=p slot=0",
    "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=1",
    "drift: 2 changes (assign 2)",
  ]);
  assertEquals([...p.ledgerAfter.vfs!.values()].map((e) => e.origin.pool), ["p", "p"]);
  // One its own pool still wants (given back after the reboot) is not taken by an earlier pool.
  const mine = ledger("vdi", [[vf(G[0]!, 0), G[0]!, 1155, "q", 0]]);
  const two = `version: 1
owner: vdi
pools:
  - {name: p, type: {nameToken: "L40S-12Q"}, count: 1}
  - {name: q, type: {nameToken: "L40S-12Q"}, count: 1}
`;
  assertEquals(lines(plan(two, snap([gpu(G[0]!, 2)]), [mine])), [
    "+ 0000:41:00.4 L40S-12Q (id 1155) assign rule=q slot=0",
    "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=0",
    "drift: 2 changes (assign 2)",
  ]);
});

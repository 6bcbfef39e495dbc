/**
 * The planner (hostfile.md §3, §5, §6) on hand-built snapshots: placement
 * rules, type selectors, ownership classes and the actions they lead to.
 */
import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import * as Y from "npm:yaml@2.9.1";
import type { MdevConfig } from "../config.ts";
import { serializeConfig } from "../config.ts";
import { type Ledger, type LedgerEntry, sha256 } from "./ledger.ts";
import type { Plan, PlanOptions } from "./changes.ts";
import { compareParents } from "../parent_order.ts";
import { makePlan } from "./plan.ts";
import { globToRegExp } from "./selectors.ts";
import { renderText } from "./render.ts";
import { parseHostFile } from "./schema.ts";
import { activeFromMap, type ParentInfo, type Snapshot } from "./snapshot.ts";
import { DEFAULT_NAMESPACE, deviceIdName, poolInstanceName, uuid5 } from "./uuid5.ts";

function parent(
  name: string,
  types: Record<string, [string | undefined, number]>,
  facts: Partial<ParentInfo> = {},
): ParentInfo {
  return {
    name,
    driver: undefined,
    vendor: undefined,
    device: undefined,
    physfn: undefined,
    onBus: false,
    types: new Map(
      Object.entries(types).map(([id, [n, available]]) => [id, { name: n, available }]),
    ),
    ...facts,
  };
}

function snapshot(
  parents: ParentInfo[],
  defs: [string, string, MdevConfig][] = [],
  active: [string, string, string][] = [],
): Snapshot {
  return {
    parents: new Map(parents.map((p) => [p.name, p])),
    definitions: defs.map(([p, uuid, config]) => ({
      parent: p,
      uuid,
      config,
      configPath: undefined,
    })),
    active: activeFromMap(new Map(active.map(([uuid, p, type]) => [uuid, { parent: p, type }]))),
  };
}

const cfg = (type: string, autostart = true): MdevConfig => ({ type, autostart, attrs: [] });

function file(text: string) {
  return parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
}

function plan(
  text: string,
  snap: Snapshot,
  ledgers: Ledger[] = [],
  opts: Partial<PlanOptions> = {},
): Plan {
  return makePlan(file(text), snap, new Map(ledgers.map((l) => [l.owner, l])), {
    prune: false,
    start: false,
    ...opts,
  });
}

const pid = (owner: string, pool: string, p: string, type: string, slot: number) =>
  uuid5(DEFAULT_NAMESPACE, poolInstanceName(owner, pool, p, type, slot));

/** `action parent slot` per change, the shape placement assertions compare. */
function placed(p: Plan): string[] {
  return p.changes.map((c) => `${c.action} ${c.parent} ${"pool" in c.origin ? c.origin.slot : "-"}`)
    .sort();
}

const P = ["0000:01:00.0", "0000:02:00.0", "0000:03:00.0"];
const three = (available: number) => P.map((n) => parent(n, { t: ["Vendor T-1", available] }));

/** The snapshot and ledger after `p` succeeded (what the next plan sees). */
function applied(p: Plan, snap: Snapshot): [Snapshot, Ledger] {
  const defs = new Map(snap.definitions.map((d) => [d.uuid, d]));
  for (const c of p.changes) {
    if (c.action === "define" || c.action === "modify") {
      defs.set(c.uuid, {
        parent: c.parent,
        uuid: c.uuid,
        config: c.config!,
        configPath: undefined,
      });
    }
    if (c.action === "undefine") defs.delete(c.uuid);
  }
  return [{ ...snap, definitions: [...defs.values()] }, p.ledgerAfter];
}

Deno.test("parents sort PCI addresses numerically, then other names by bytes", () => {
  const names = [
    "matrix",
    "0000:3b:00.0",
    "0000:0a:00.1",
    "0.0.0052",
    "0000:0a:00.0",
    "0001:00:00.0",
  ];
  assertEquals(names.sort(compareParents), [
    "0000:0a:00.0",
    "0000:0a:00.1",
    "0000:3b:00.0",
    "0001:00:00.0",
    "0.0.0052",
    "matrix",
  ]);
});

Deno.test("globs: * ? [..] [!..], anchored", () => {
  assertEquals(globToRegExp("0000:3b:*").test("0000:3b:00.0"), true);
  assertEquals(globToRegExp("0000:3b:*").test("10000:3b:00.0"), false);
  assertEquals(globToRegExp("0000:0?:00.[0-3]").test("0000:05:00.2"), true);
  assertEquals(globToRegExp("0000:0?:00.[!0-3]").test("0000:05:00.2"), false);
  assertEquals(globToRegExp("a.b").test("axb"), false);
});

Deno.test("count with spread: fewest first, ties to the first parent", () => {
  const p = plan("version: 1\npools: [{name: s, type: t, count: 5}]\n", snapshot(three(4)));
  assertEquals(placed(p), [
    `define ${P[0]} 0`,
    `define ${P[0]} 1`,
    `define ${P[1]} 0`,
    `define ${P[1]} 1`,
    `define ${P[2]} 0`,
  ]);
});

Deno.test("count with pack: fill the first parent with room", () => {
  const p = plan(
    "version: 1\npools: [{name: s, type: t, count: 5, placement: pack}]\n",
    snapshot(three(2)),
  );
  assertEquals(placed(p), [
    `define ${P[0]} 0`,
    `define ${P[0]} 1`,
    `define ${P[1]} 0`,
    `define ${P[1]} 1`,
    `define ${P[2]} 0`,
  ]);
});

Deno.test("perParent N and max", () => {
  const n = plan("version: 1\npools: [{name: s, type: t, perParent: 2}]\n", snapshot(three(5)));
  assertEquals(n.changes.length, 6);
  const max = plan("version: 1\npools: [{name: s, type: t, perParent: max}]\n", snapshot(three(3)));
  assertEquals(max.changes.length, 9);
  assertEquals(max.changes.map((c) => c.uuid).includes(pid("default", "s", P[2]!, "t", 2)), true);
});

Deno.test("shortfall: place what fits, report wanted and placed; not a change", () => {
  const snap = snapshot(three(2));
  const p = plan("version: 1\npools: [{name: s, type: t, count: 10}]\n", snap);
  assertEquals(p.changes.filter((c) => c.action === "define").length, 6);
  const short = p.changes.at(-1)!;
  assertEquals([short.action, short.pool, short.wanted, short.placed], ["shortfall", "s", 10, 6]);
  const [snap2, ledger] = applied(p, snap);
  const again = plan("version: 1\npools: [{name: s, type: t, count: 10}]\n", snap2, [ledger]);
  assertEquals(
    renderText(again, false),
    "? pool:s t shortfall wanted=10 placed=6\nin sync: 6 managed; unsatisfied: 1\n",
  );
});

Deno.test("a parent registering late renames nothing (sticky placement)", () => {
  const text = "version: 1\npools: [{name: s, type: t, count: 4}]\n";
  const two = snapshot(three(4).slice(0, 2));
  const first = plan(text, two);
  const [snap2, ledger] = applied(first, two);
  const withThird = { ...snap2, parents: snapshot(three(4)).parents };
  const again = plan(text, withThird, [ledger]);
  assertEquals(again.changes, []);
});

Deno.test("shrinking a count pool: spread takes from the fullest (ties: last), highest slot first", () => {
  const snap = snapshot(three(4));
  const first = plan("version: 1\npools: [{name: s, type: t, count: 5}]\n", snap);
  const [snap2, ledger] = applied(first, snap);
  const shrink = plan("version: 1\npools: [{name: s, type: t, count: 3}]\n", snap2, [ledger], {
    prune: true,
  });
  // 2,2,1 -> remove from the last of the fullest (P[1] slot 1), then 2,1,1 -> P[0] slot 1.
  assertEquals(placed(shrink), [`undefine ${P[0]} 1`, `undefine ${P[1]} 1`]);
  const pack = plan("version: 1\npools: [{name: s, type: t, count: 3, placement: pack}]\n", snap2, [
    ledger,
  ], { prune: true });
  assertEquals(placed(pack), [`undefine ${P[1]} 1`, `undefine ${P[2]} 0`]);
  const noPrune = plan("version: 1\npools: [{name: s, type: t, count: 3}]\n", snap2, [ledger]);
  assertEquals(noPrune.changes, []);
});

Deno.test("exclusive: parents with another type, or claimed by an earlier exclusive pool, are left out", () => {
  const parents = P.map((n) => parent(n, { a: ["A", 4], b: ["B", 4] }));
  const snap = snapshot(parents, [[P[0]!, "11111111-0000-4000-8000-000000000000", cfg("b")]]);
  const p = plan(
    "version: 1\npools:\n  - {name: x, type: a, perParent: 1, exclusive: true}\n  - {name: y, type: b, perParent: 1, exclusive: true}\n",
    snap,
  );
  // x avoids P[0] (it holds a b device) and claims P[1], P[2]; y gets only P[0].
  assertEquals(p.changes.map((c) => `${c.parent} ${c.type}`), [
    `${P[0]} b`,
    `${P[1]} a`,
    `${P[2]} a`,
  ]);
});

Deno.test("capacity is shared between pools of one type on one parent", () => {
  const p = plan(
    "version: 1\npools:\n  - {name: x, type: t, perParent: 3}\n  - {name: y, type: t, count: 4}\n",
    snapshot(three(4).slice(0, 2)),
  );
  const counts = { x: 0, y: 0 };
  for (const c of p.changes) {
    if (c.action === "define") counts[(c.origin as { pool: "x" | "y" }).pool]++;
  }
  assertEquals(counts, { x: 6, y: 2 });
  assertEquals(p.changes.at(-1)!.action, "shortfall");
});

Deno.test("type selectors: id, name (also with _ for spaces), nameToken; no name file is no match", () => {
  const parents = [
    parent("0000:01:00.0", { "nvidia-222": ["GRID T4-1Q", 4], "nvidia-223": ["GRID T4-2Q", 4] }),
    parent("0000:02:00.0", { "nvidia-222": [undefined, 4] }),
  ];
  const types = (sel: string) =>
    plan(`version: 1\npools: [{name: s, type: ${sel}, perParent: 1}]\n`, snapshot(parents)).changes
      .map((c) => `${c.parent} ${c.type}`);
  assertEquals(types("nvidia-222"), ["0000:01:00.0 nvidia-222", "0000:02:00.0 nvidia-222"]);
  assertEquals(types("{id: nvidia-223}"), ["0000:01:00.0 nvidia-223"]);
  assertEquals(types('{name: "GRID T4-2Q"}'), ["0000:01:00.0 nvidia-223"]);
  assertEquals(types("{name: GRID_T4-1Q}"), ["0000:01:00.0 nvidia-222"]);
  assertEquals(types("{nameToken: T4-1Q}"), ["0000:01:00.0 nvidia-222"]);
  assertEquals(types("{nameToken: GRID}"), []);
});

Deno.test("an ambiguous selector is an error naming the parent and both types", () => {
  const parents = [parent("0000:01:00.0", { a: ["X T-1", 1], b: ["Y T-1", 1] })];
  assertThrows(
    () =>
      plan(
        "version: 1\npools:\n  - {name: s, type: {nameToken: T-1}, perParent: 1}\n",
        snapshot(parents),
      ),
    { message: 'h.yaml:3:21: type selector {nameToken: "T-1"} is ambiguous on 0000:01:00.0: a, b' },
  );
});

Deno.test("parent selectors: names, driver, PCI ids, physfn are ANDed", () => {
  const parents = [
    parent("0000:3b:00.0", { t: ["T", 1] }, {
      driver: "nvidia",
      vendor: "0x10de",
      device: "0x1eb8",
    }),
    parent("0000:5e:00.0", { t: ["T", 1] }, {
      driver: "nvidia",
      vendor: "0x10de",
      device: "0x1db4",
    }),
    parent("0000:af:00.4", { t: ["T", 1] }, { driver: "vfio-pci", physfn: "0000:af:00.0" }),
  ];
  const sel = (s: string) =>
    plan(
      `version: 1\npools: [{name: s, type: t, perParent: 1, parents: ${s}}]\n`,
      snapshot(parents),
    ).changes
      .map((c) => c.parent);
  assertEquals(sel('{names: ["0000:3b:*", "0000:af:*"]}'), ["0000:3b:00.0", "0000:af:00.4"]);
  assertEquals(sel("{driver: nvidia}"), ["0000:3b:00.0", "0000:5e:00.0"]);
  assertEquals(sel('{pciVendor: "10DE", pciDevice: ["0x1db4"]}'), ["0000:5e:00.0"]);
  assertEquals(sel('{physfn: "0000:af:00.0"}'), ["0000:af:00.4"]);
  assertEquals(sel('{driver: nvidia, names: ["0000:af:*"]}'), []);
});

function ledgerOf(owner: string, entries: [string, LedgerEntry][]): Ledger {
  return { owner, devices: new Map(entries) };
}

const entry = (
  p: string,
  type: string,
  origin: LedgerEntry["origin"],
  config: MdevConfig,
): LedgerEntry => ({
  parent: p,
  type,
  origin,
  sha256: sha256(serializeConfig(config)),
});

Deno.test("ownership: derivable devices are adopted, foreign ones conflict, unmanaged are listed", () => {
  const u0 = pid("default", "s", P[0]!, "t", 0);
  const foreign = "22222222-0000-4000-8000-000000000000";
  const loose = "33333333-0000-4000-8000-000000000000";
  const snap = snapshot(three(4).slice(0, 1), [
    [P[0]!, u0, cfg("t")],
    [P[0]!, foreign, cfg("t")],
    [P[0]!, loose, cfg("t")],
  ]);
  const other = ledgerOf("other", [[foreign, entry(P[0]!, "t", { device: foreign }, cfg("t"))]]);
  const text = `version: 1\ndevices: [{uuid: "${foreign}", parent: "${
    P[0]
  }", type: t}]\npools: [{name: s, type: t, perParent: 1}]\n`;
  const p = plan(text, snap, [other]);
  assertEquals(p.changes.map((c) => `${c.action} ${c.uuid}`), [
    `adopt ${u0}`,
    `conflict ${foreign}`,
  ]);
  assertEquals(p.changes[1]!.reason, "managed by host file owner other");
  assertEquals(p.unmanaged.map((u) => u.uuid), [loose]);
});

Deno.test("prune never touches unmanaged, foreign or absent-parent devices", () => {
  const gone = "0000:99:00.0";
  const mine = pid("default", "old", P[0]!, "t", 0);
  const absent = pid("default", "old", gone, "t", 0);
  const snap = snapshot(three(4).slice(0, 1), [
    [P[0]!, mine, cfg("t")],
    [gone, absent, cfg("t")],
    [P[0]!, "44444444-0000-4000-8000-000000000000", cfg("t")],
  ], [[mine, P[0]!, "t"]]);
  const own = ledgerOf("default", [
    [mine, entry(P[0]!, "t", { pool: "old", slot: 0 }, cfg("t"))],
    [absent, entry(gone, "t", { pool: "old", slot: 0 }, cfg("t"))],
  ]);
  const text = "version: 1\npools: []\n";
  assertEquals(placed(plan(text, snap, [own], { prune: true })), [`undefine ${P[0]} 0`]);
  assertEquals(placed(plan(text, snap, [own], { prune: true, start: true })), [
    `stop ${P[0]} 0`,
    `undefine ${P[0]} 0`,
  ]);
  assertEquals(plan(text, snap, [own]).changes, []);
  // The absent-parent device stays in the ledger.
  assertEquals([...plan(text, snap, [own], { prune: true }).ledgerAfter.devices.keys()], [absent]);
});

Deno.test("start: wanted auto devices not running, parent and type present", () => {
  const u0 = pid("default", "s", P[0]!, "t", 0);
  const snap = snapshot(three(4).slice(0, 2), [], [[u0, P[0]!, "t"]]);
  const p = plan("version: 1\npools: [{name: s, type: t, perParent: 1}]\n", snap, [], {
    start: true,
  });
  assertEquals(placed(p), [`define ${P[0]} 0`, `define ${P[1]} 0`, `start ${P[1]} 0`]);
  const manual = plan(
    "version: 1\ndefaults: {start: manual}\npools: [{name: s, type: t, perParent: 1}]\n",
    snap,
    [],
    {
      start: true,
    },
  );
  assertEquals(manual.changes.some((c) => c.action === "start"), false);
});

Deno.test("restart-required when a wanted device runs as another type", () => {
  const u = "55555555-0000-4000-8000-000000000000";
  const snap = snapshot(three(4).slice(0, 1), [], [[u, P[0]!, "other"]]);
  const p = plan(`version: 1\ndevices: [{uuid: "${u}", parent: "${P[0]}", type: t}]\n`, snap);
  assertEquals(p.changes.map((c) => c.action), ["define", "restart-required"]);
});

Deno.test("an explicit device re-typed on a not-ready parent keeps its type until the parent is ready", () => {
  // 0000:01:00.0 offers t2 only; the managed device d is t1, so the parent is
  // not ready (type-missing). Re-typing d would make it ready and the next
  // apply would place the pool there: the plan must hold d instead.
  const d = uuid5(DEFAULT_NAMESPACE, deviceIdName("default", "d"));
  const text = `version: 1
devices: [{id: d, parent: "${P[0]}", type: t2}]
pools: [{name: p, type: t2, perParent: 1}]
`;
  const only = (types: Record<string, [string, number]>) => [parent(P[0]!, types)];
  const own = ledgerOf("default", [[d, entry(P[0]!, "t1", { device: "d" }, cfg("t1"))]]);
  const snap = snapshot(only({ t2: ["Vendor T-2", 4] }), [[P[0]!, d, cfg("t1")]]);
  const held = plan(text, snap, [own], { prune: true });
  const keeps = "the device keeps type t1 until it is";
  assertEquals(held.changes, []);
  assertEquals(held.notReady, [{ parent: P[0], reason: "type-missing", kept: 1 }]);
  assertEquals(renderText(held, false).split("\n").filter((l) => l.startsWith("?")), [
    `? ${P[0]} not-ready reason=type-missing kept=1`,
    `? ${P[0]}/${d} t2 unmatched reason="${P[0]} is not ready (type-missing); ${keeps}"`,
  ]);
  assertEquals(held.ledgerAfter.devices.get(d)?.type, "t1");
  // Once the parent offers t1 again it is ready: d is re-typed and the pool placed.
  const ready = snapshot(only({ t1: ["Vendor T-1", 4], t2: ["Vendor T-2", 4] }), [
    [P[0]!, d, cfg("t1")],
  ]);
  const first = plan(text, ready, [own], { prune: true });
  assertEquals(placed(first), [`define ${P[0]} 0`, `modify ${P[0]} -`]);
  const [next, ledger] = applied(first, ready);
  assertEquals(plan(text, next, [ledger], { prune: true }).changes, []);
});

Deno.test("a managed device whose definition is gone holds nothing: undefining frees a parent from type-missing", () => {
  // d (t1) is in the ledger on 0000:01:00.0, which offers t2 only, but its
  // definition was undefined by hand (what docs/hostfile.md tells an
  // administrator to do once a driver dropped t1 for good): the parent is
  // ready, the pool is placed on it, and d may move to 0000:02:00.0.
  const d = uuid5(DEFAULT_NAMESPACE, deviceIdName("default", "d"));
  const text = `version: 1
devices: [{id: d, parent: "${P[1]}", type: t1}]
pools: [{name: p, type: t2, perParent: 1}]
`;
  const snap = snapshot([
    parent(P[0]!, { t2: ["Vendor T-2", 4] }),
    parent(P[1]!, {
      t1: ["Vendor T-1", 4],
      t2: ["Vendor T-2", 4],
    }),
  ]);
  const own = ledgerOf("default", [[d, entry(P[0]!, "t1", { device: "d" }, cfg("t1"))]]);
  const first = plan(text, snap, [own], { prune: true });
  assertEquals(first.notReady, []);
  assertEquals(placed(first), [`define ${P[0]} 0`, `define ${P[1]} -`, `define ${P[1]} 0`]);
  const [next, ledger] = applied(first, snap);
  assertEquals(plan(text, next, [ledger], { prune: true }).changes, []);
  // With its definition there, the same ledger keeps the parent not ready.
  const defined = snapshot([...snap.parents.values()], [[P[0]!, d, cfg("t1")]]);
  assertEquals(plan(text, defined, [own], { prune: true }).notReady, [
    { parent: P[0], reason: "type-missing", kept: 1 },
  ]);
});

Deno.test("exclusive pools see a type changed by hand as the plan sets it back", () => {
  // p1's instance on 0000:01:00.0 was changed to t2 by hand (mdevctl modify
  // --type); the plan sets it back to t1, so exclusive p0 (t1) keeps its
  // instance there instead of giving it up for this apply and placing it
  // again on the next.
  const two = parent(P[0]!, { t1: ["Vendor T-1", 4], t2: ["Vendor T-2", 4] });
  const u0 = pid("default", "p0", P[0]!, "t1", 0);
  const u1 = pid("default", "p1", P[0]!, "t1", 0);
  const snap = snapshot([two], [[P[0]!, u0, cfg("t1")], [P[0]!, u1, cfg("t2")]]);
  const own = ledgerOf("default", [
    [u0, entry(P[0]!, "t1", { pool: "p0", slot: 0 }, cfg("t1"))],
    [u1, entry(P[0]!, "t1", { pool: "p1", slot: 0 }, cfg("t1"))],
  ]);
  const text = `version: 1
pools:
  - {name: p0, type: t1, count: 1, exclusive: true}
  - {name: p1, type: t1, count: 1}
`;
  const first = plan(text, snap, [own], { prune: true });
  assertEquals(placed(first), [`modify ${P[0]} 0`]);
  const [next, ledger] = applied(first, snap);
  assertEquals(plan(text, next, [ledger], { prune: true }).changes, []);
});

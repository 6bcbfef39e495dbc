import { compareParents } from "../parent_order.ts";
import { deepEqual, equal } from "node:assert/strict";
import type { MdevConfig } from "../config.ts";
import { definedKey, diffStates, emptyState, matchesFilter, snapshotEvents } from "./state.ts";
import type { ActiveEntry, HostState } from "./state.ts";
import { eventJson, eventText } from "./format.ts";

const U1 = "11111111-1111-0000-0000-000000000000";
const U2 = "22222222-2222-0000-0000-000000000000";
const P1 = "0000:00:02.0";
const P2 = "0000:00:10.0";
const SRC = { config: "config", kernel: "poll" } as const;

const cfg = (type: string, auto = false): MdevConfig => ({ type, autostart: auto, attrs: [] });

function state(parts: {
  defined?: [string, string, MdevConfig][];
  active?: [string, string, string | null][];
  parents?: [string, string[]][];
}): HostState {
  const s = emptyState();
  for (const [parent, uuid, config] of parts.defined ?? []) {
    s.defined.set(definedKey(parent, uuid), { parent, uuid, config });
  }
  for (const [uuid, parent, type] of parts.active ?? []) {
    const a: ActiveEntry = { uuid, parent, type, start: "manual", defined: false };
    s.active.set(uuid, a);
  }
  for (const [parent, types] of parts.parents ?? []) s.parents.set(parent, { parent, types });
  return s;
}

const kinds = (s: HostState, t: HostState) =>
  diffStates(s, t, SRC).events.map((e) => `${e.event} ${e.parent ?? ""}/${e.uuid ?? ""}`);

Deno.test("diff: nothing changed, nothing emitted (same objects, or equal ones read again)", () => {
  const read = () =>
    state({
      defined: [[P1, U1, cfg("a")]],
      active: [[U1, P1, "a"]],
      parents: [[P1, ["a"]]],
    });
  const s = read();
  deepEqual(diffStates(s, s, SRC).events, []);
  deepEqual(diffStates(s, read(), SRC).events, []);
});

Deno.test("diff: one batch comes in the order of spec §2.4", () => {
  const before = state({
    defined: [[P1, U1, cfg("a")], [P2, U2, cfg("b")]],
    active: [[U2, P2, "b"]],
    parents: [[P2, ["b"]], ["css0", ["x"]]],
  });
  const after = state({
    defined: [[P1, U1, cfg("a", true)], [P1, U2, cfg("a")]],
    active: [[U1, P1, "a"]],
    parents: [[P1, ["a"]], [P2, ["b"]]],
  });
  deepEqual(kinds(before, after), [
    `parent-registered ${P1}/`,
    `defined ${P1}/${U2}`,
    `modified ${P1}/${U1}`,
    `started ${P1}/${U1}`,
    `stopped ${P2}/${U2}`,
    `undefined ${P2}/${U2}`,
    "parent-unregistered css0/",
  ]);
});

Deno.test("diff: within a kind, by parent (PCI numerically) then uuid", () => {
  const after = state({
    defined: [
      ["css0", U1, cfg("a")],
      [P2, U2, cfg("a")],
      [P2, U1, cfg("a")],
      [P1, U2, cfg("a")],
    ],
  });
  deepEqual(kinds(emptyState(), after), [
    `defined ${P1}/${U2}`,
    `defined ${P2}/${U1}`,
    `defined ${P2}/${U2}`,
    `defined css0/${U1}`,
  ]);
  equal(compareParents("0000:00:09.0", "0000:00:0a.0"), -1);
  equal(compareParents("0000:01:00.0", "0000:00:ff.7"), 1);
  equal(compareParents("css0", "0000:00:02.0"), 1);
});

Deno.test("diff: a uuid running elsewhere is stopped in one batch and started in the next", () => {
  const before = state({ active: [[U1, P1, "a"]] });
  const after = state({ active: [[U1, P1, "b"]] });
  const first = diffStates(before, after, SRC);
  deepEqual(first.events.map((e) => `${e.event} ${e.type}`), ["stopped a"]);
  equal(first.more, true);
  const second = diffStates(first.next, after, SRC);
  deepEqual(second.events.map((e) => `${e.event} ${e.type}`), ["started b"]);
  equal(second.more, false);
  deepEqual(diffStates(second.next, after, SRC).events, []);
});

Deno.test("diff: a changed type list registers the parent again with the new types", () => {
  const events = diffStates(
    state({ parents: [[P1, []]] }),
    state({ parents: [[P1, ["nvidia-1"]]] }),
    SRC,
  ).events;
  deepEqual(events, [{
    event: "parent-registered",
    parent: P1,
    source: "poll",
    types: ["nvidia-1"],
  }]);
});

Deno.test("diff: stopped says whether a definition remains", () => {
  const before = state({ defined: [[P1, U1, cfg("a")]], active: [[U1, P1, "a"], [U2, P1, "a"]] });
  const after = state({ defined: [[P1, U1, cfg("a")]] });
  deepEqual(
    diffStates(before, after, SRC).events.map((e) => [e.uuid, e.defined]),
    [[U1, true], [U2, false]],
  );
});

Deno.test("snapshot: initial events, then synced", () => {
  const s = state({
    defined: [[P1, U1, cfg("a")]],
    active: [[U1, P1, "a"]],
    parents: [[P1, ["a"]]],
  });
  const events = snapshotEvents(s);
  deepEqual(events.map((e) => [e.event, e.source, e.initial]), [
    ["parent-registered", "snapshot", true],
    ["defined", "snapshot", true],
    ["started", "snapshot", true],
    ["synced", undefined, undefined],
  ]);
});

Deno.test("filter: -u keeps that device, -p that parent and its devices", () => {
  const dev = { event: "started" as const, uuid: U1, parent: P1 };
  const par = { event: "parent-registered" as const, parent: P1 };
  const resync = { event: "resync" as const, reason: "periodic" as const };
  deepEqual([dev, par, resync].map((e) => matchesFilter(e, { uuid: U1 })), [true, false, true]);
  deepEqual([dev, par, resync].map((e) => matchesFilter(e, { uuid: U2 })), [false, false, true]);
  deepEqual([dev, par].map((e) => matchesFilter(e, { parent: P1 })), [true, true]);
  deepEqual([dev, par].map((e) => matchesFilter(e, { parent: P2 })), [false, false]);
});

Deno.test("format: JSON keys in the order of §2.3", () => {
  const t = Date.UTC(2026, 4, 1, 10, 0, 2, 114);
  equal(
    eventJson(
      {
        event: "defined",
        uuid: "7151e295-308f-5810-9cac-ae302fe99485",
        parent: "0000:00:02.0",
        type: "i915-GVTg_V5_4",
        source: "config",
        config: cfg("i915-GVTg_V5_4"),
      },
      7,
      t,
    ),
    '{"v":1,"seq":7,"time":"2026-05-01T10:00:02.114Z","event":"defined",' +
      '"uuid":"7151e295-308f-5810-9cac-ae302fe99485","parent":"0000:00:02.0",' +
      '"type":"i915-GVTg_V5_4","source":"config",' +
      '"config":{"mdev_type":"i915-GVTg_V5_4","start":"manual","attrs":[]}}\n',
  );
  equal(
    eventJson(
      {
        event: "started",
        uuid: U1,
        parent: P1,
        type: null,
        source: "udevadm",
        start: "auto",
        defined: true,
      },
      8,
      t,
    ),
    `{"v":1,"seq":8,"time":"2026-05-01T10:00:02.114Z","event":"started","uuid":"${U1}",` +
      `"parent":"${P1}","type":null,"source":"udevadm","start":"auto","defined":true}\n`,
  );
  equal(
    eventJson({ event: "synced" }, 9, t),
    '{"v":1,"seq":9,"time":"2026-05-01T10:00:02.114Z","event":"synced"}\n',
  );
});

Deno.test("format: text lines", () => {
  const t = Date.UTC(2026, 4, 1, 10, 0, 2, 114);
  equal(
    eventText({ event: "stopped", uuid: U1, parent: P1, type: "a" }, t),
    `2026-05-01T10:00:02.114Z stopped ${P1}/${U1} a\n`,
  );
  equal(
    eventText({ event: "parent-unregistered", parent: P1 }, t),
    `2026-05-01T10:00:02.114Z parent-unregistered ${P1}\n`,
  );
  equal(
    eventText({ event: "resync", reason: "inotify-overflow" }, t),
    "2026-05-01T10:00:02.114Z resync inotify-overflow\n",
  );
});

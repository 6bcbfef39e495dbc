/** diff's text and JSON (hostfile.md §8) from hand-made plans. */
import { deepEqual as assertEquals } from "node:assert/strict";
import type { Change, Plan } from "./changes.ts";
import { changeLine, diffStatus, errorJson, renderText, summaryLine } from "./render.ts";

const U = "13d239f7-94da-5e66-bf61-1f80948d75bc";

function plan(changes: Change[], managed = 0, unmanaged = 0): Plan {
  const devices = new Map(
    Array.from({ length: managed }, (_, i) => [
      `${i}`,
      { parent: "p", type: "t", origin: { device: "x" }, sha256: "" },
    ]),
  );
  return {
    owner: "o",
    changes,
    surplus: [],
    notReady: [],
    unmatched: [],
    unmanaged: Array.from(
      { length: unmanaged },
      (_, i) => ({ parent: "p", uuid: `${i}`, type: "t" }),
    ),
    ledgerBefore: { owner: "o", devices },
    ledgerAfter: { owner: "o", devices },
    warnings: [],
  };
}

const base = { parent: "0000:3b:00.0", uuid: U, type: "nvidia-222", externalChange: false };

Deno.test("lines: sigils, keys in order, attrs as compact JSON", () => {
  assertEquals(
    changeLine({
      ...base,
      action: "modify",
      origin: { pool: "t4-q", slot: 1 },
      fields: {
        start: { before: "manual", after: "auto" },
        attrs: { before: [], after: [["a", "1"], ["a", "2"]] },
      },
    }),
    `~ 0000:3b:00.0/${U} nvidia-222 modify start=manual->auto attrs=[]->[{"a":"1"},{"a":"2"}] rule=t4-q slot=1`,
  );
  assertEquals(
    changeLine({
      ...base,
      action: "define",
      origin: { device: "dasd" },
      config: { type: "nvidia-222", autostart: false, attrs: [["x", "y"]] },
    }),
    `+ 0000:3b:00.0/${U} nvidia-222 define start=manual attrs=[{"x":"y"}]`,
  );
  assertEquals(
    changeLine({
      ...base,
      action: "conflict",
      origin: { device: U },
      reason: "defined under parent q",
    }),
    `! 0000:3b:00.0/${U} nvidia-222 conflict reason=defined under parent q`,
  );
  for (
    const [action, sigil] of [["stop", "<"], ["undefine", "-"], ["adopt", "*"], [
      "start",
      ">",
    ]] as const
  ) {
    assertEquals(changeLine({ ...base, action, origin: { pool: "p", slot: 0 } })[0], sigil);
  }
});

Deno.test("summary: singular and plural, counts in phase order, unmanaged suffix", () => {
  const c = (action: Change["action"]): Change => ({ ...base, action, origin: { device: "d" } });
  assertEquals(
    summaryLine(plan([], 4, 1)),
    "in sync: 4 managed; 1 unmanaged definition not touched",
  );
  assertEquals(
    summaryLine(plan([], 0, 2)),
    "in sync: 0 managed; 2 unmanaged definitions not touched",
  );
  assertEquals(summaryLine(plan([c("define")])), "drift: 1 change (define 1)");
  assertEquals(
    summaryLine(plan([c("start"), c("stop"), c("define"), c("conflict")])),
    "drift: 3 changes (stop 1, define 1, start 1)",
  );
  assertEquals(summaryLine(plan([c("conflict")], 2)), "in sync: 2 managed; unsatisfied: 1");
});

Deno.test("diff status: 3 wins over 4; 0 only when in sync and satisfied", () => {
  const c = (action: Change["action"]): Change => ({ ...base, action, origin: { device: "d" } });
  assertEquals(diffStatus(plan([])), 0);
  assertEquals(diffStatus(plan([c("restart-required")])), 4);
  assertEquals(diffStatus(plan([c("restart-required"), c("modify")])), 3);
});

Deno.test("-v lists unmanaged definitions before the summary", () => {
  assertEquals(
    renderText(plan([], 0, 1), true),
    "= p/0 t unmanaged\nin sync: 0 managed; 1 unmanaged definition not touched\n",
  );
});

Deno.test("JSON errors: one line, message, causes, exit", () => {
  assertEquals(
    errorJson("bad", ["why"], 1),
    '{"error":{"message":"bad","causes":["why"],"exit":1}}\n',
  );
});

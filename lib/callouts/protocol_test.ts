import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { MdevError } from "../errors.ts";
import { DEFAULT_TIMEOUT_MS, formatSeconds, parseTimeout } from "../settings.ts";
import {
  failedStatus,
  LEGACY_CAPABILITIES,
  parseAttributesOutput,
  parseCapabilities,
  PROVIDES,
  scriptArgs,
  supportError,
  timedOut,
  unsupportedAction,
  unsupportedEvent,
} from "./protocol.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const P = "/usr/lib/mdevctl/scripts.d/callouts/x";

Deno.test("argv is -t -e -a -s -u -p, each a separate argument", () => {
  const target = { uuid: "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9", parent: "p", type: "t" };
  assertEquals(
    scriptArgs(target, { event: "pre", action: "start", state: "none", stdin: "" }),
    ["-t", "t", "-e", "pre", "-a", "start", "-s", "none", "-u", target.uuid, "-p", "p"],
  );
  assertEquals(
    scriptArgs({ ...target, type: undefined }, {
      event: "get",
      action: "attributes",
      state: "none",
      stdin: "",
    }),
    null,
  );
  assertEquals(
    scriptArgs({ ...target, parent: undefined }, {
      event: "get",
      action: "attributes",
      state: "none",
      stdin: "",
    }),
    null,
  );
});

Deno.test("the capabilities query payload is upstream's literal", () => {
  assertEquals(
    PROVIDES,
    '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}',
  );
});

Deno.test("messages keep upstream's two quoting styles", () => {
  assertEquals(failedStatus(P, 1), `Script '"${P}"' failed with status '1'`);
  assertEquals(failedStatus(P, "unknown"), `Script '"${P}"' failed with status 'unknown'`);
  assertEquals(unsupportedAction(P, "start"), `Script "${P}" does not support action 'Start'`);
  assertEquals(unsupportedEvent(P, "live"), `Script "${P}" does not support event 'Live'`);
  assertEquals(failedStatus('/a"b', 2), `Script '"/a\\"b"' failed with status '2'`);
  assertEquals(timedOut(P, 30_000), `Script '"${P}"' timed out after 30 seconds`);
  assertEquals(timedOut(P, 1000), `Script '"${P}"' timed out after 1 second`);
  assertEquals(formatSeconds(1500), "1.5 seconds");
});

Deno.test("support check: action first, then event", () => {
  const caps = { actions: new Set(["start"]), events: new Set(["post"]) };
  assertEquals(
    supportError(P, caps, { event: "pre", action: "stop" })?.message,
    unsupportedAction(P, "stop"),
  );
  assertEquals(
    supportError(P, caps, { event: "pre", action: "start" })?.message,
    unsupportedEvent(P, "pre"),
  );
  assertEquals(supportError(P, caps, { event: "post", action: "start" }), null);
  assertEquals(
    supportError(P, LEGACY_CAPABILITIES, { event: "live", action: "modify" })?.message,
    unsupportedEvent(P, "live"),
  );
});

const caps = (supports: unknown, extra: Record<string, unknown> = {}) =>
  enc(JSON.stringify({ ...extra, supports }));
const V2 = { version: 2, actions: ["start", "stop"], events: ["pre", "post"] };

Deno.test("capabilities: a valid answer, with or without provides", () => {
  const parsed = parseCapabilities(P, caps(V2));
  assertEquals([...parsed!.caps.actions], ["start", "stop"]);
  assertEquals([...parsed!.caps.events], ["pre", "post"]);
  assertEquals(parsed!.warnings, []);
  assertEquals(parseCapabilities(P, caps(V2, { provides: { version: 9 } }))!.warnings, []);
  // Trailing NULs and surrounding whitespace are fine; the version's value is not checked.
  assertEquals(
    parseCapabilities(P, enc(` ${JSON.stringify({ supports: V2 })}\n\0\0`)) !== null,
    true,
  );
  assertEquals(parseCapabilities(P, caps({ ...V2, version: 0 })) !== null, true);
});

Deno.test("capabilities: anything else is not versioned", () => {
  for (
    const bad of [
      enc(""),
      enc("not json"),
      enc('{"supports": {"version": 2, "actions": [], "events": []'),
      enc("[]"),
      enc('{"provides": {"version": 2, "actions": [], "events": []}}'),
      caps(null),
      caps([]),
      caps({ actions: [], events: [] }),
      caps({ ...V2, version: -1 }),
      caps({ ...V2, version: 1.5 }),
      caps({ ...V2, version: "2" }),
      caps({ ...V2, actions: "start" }),
      caps({ ...V2, events: [1] }),
      caps({ version: 2, actions: [] }),
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), // not UTF-8: upstream panics
    ]
  ) {
    assertEquals(parseCapabilities(P, bad), null);
  }
});

Deno.test("capabilities: unknown actions and events warn but are accepted", () => {
  const parsed = parseCapabilities(P, caps({ ...V2, actions: ["start", "dummy"] }));
  assertEquals(parsed!.warnings, [`Callout script "${P}" provides unknown Action type`]);
  assertEquals(parsed!.caps.actions.has("start"), true);
  assertEquals(
    parseCapabilities(P, caps({ ...V2, events: ["dummy", "pre"] }))!.warnings,
    [`Callout script "${P}" provides unknown Event type`],
  );
  // Matching is exact and lower-case.
  assertEquals(
    parseCapabilities(P, caps({ ...V2, actions: ["Start"] }))!.caps.actions.has("start"),
    false,
  );
});

function errorOf(f: () => unknown): { message: string; causes: readonly string[] } {
  try {
    f();
  } catch (e) {
    if (e instanceof MdevError) return { message: e.message, causes: e.causes };
    throw e;
  }
  throw new Error("no error");
}

Deno.test("attributes output: empty, [{}] and null are none", () => {
  assertEquals(parseAttributesOutput(enc("")), []);
  assertEquals(parseAttributesOutput(enc("[{}]")), []);
  assertEquals(parseAttributesOutput(enc("null")), []);
  assertEquals(parseAttributesOutput(enc(" [ ] \n")), []);
});

Deno.test("attributes output: a list, with trailing NULs stripped", () => {
  const want = [["attribute0", "VALUE"], ["b", "2"]];
  assertEquals(parseAttributesOutput(enc('[{"attribute0": "VALUE"}, {"b": "2"}]')), want);
  assertEquals(parseAttributesOutput(enc('[{"attribute0": "VALUE"}, {"b": "2"}]\n\0\0')), want);
});

Deno.test("attributes output: errors say what upstream says", () => {
  assertEquals(errorOf(() => parseAttributesOutput(enc("not json"))), {
    message: "Invalid JSON received from callout script",
    causes: ["expected ident at line 1 column 2"],
  });
  assertEquals(errorOf(() => parseAttributesOutput(enc("\n"))), {
    message: "Invalid JSON received from callout script",
    causes: ["EOF while parsing a value at line 2 column 0"],
  });
  assertEquals(errorOf(() => parseAttributesOutput(enc("[{}]\n"))), {
    message: "invalid JSON format for attribute: too many fields",
    causes: [],
  });
  assertEquals(errorOf(() => parseAttributesOutput(enc('{"a": "b"}'))), {
    message: "attributes field is not an array",
    causes: [],
  });
  assertThrows(() => parseAttributesOutput(enc('[{"a": 1}]')), MdevError);
  assertEquals(errorOf(() => parseAttributesOutput(enc("\uFEFF[]"))), {
    message: "Invalid JSON received from callout script",
    causes: ["expected value at line 1 column 1"],
  });
  // Invalid UTF-8 is replaced, not fatal: here inside a value.
  assertEquals(parseAttributesOutput(new Uint8Array([...enc('[{"a": "'), 0xff, ...enc('"}]')])), [
    ["a", "\uFFFD"],
  ]);
});

Deno.test("timeout: default 30 s, decimal seconds, 0 = none, junk warns", () => {
  assertEquals(parseTimeout(undefined), { ms: DEFAULT_TIMEOUT_MS });
  assertEquals(DEFAULT_TIMEOUT_MS, 30_000);
  assertEquals(parseTimeout(""), { ms: 30_000 });
  assertEquals(parseTimeout("1"), { ms: 1000 });
  assertEquals(parseTimeout(" 2.5 "), { ms: 2500 });
  assertEquals(parseTimeout(".25"), { ms: 250 });
  assertEquals(parseTimeout("0"), { ms: 0 });
  assertEquals(parseTimeout("0.0001"), { ms: 1 });
  assertEquals(parseTimeout("1e9").ms, 30_000);
  assertEquals(parseTimeout("99999999").ms, 2 ** 31 - 1);
  for (const junk of ["-1", "abc", "1s", "Infinity", "NaN"]) {
    const parsed = parseTimeout(junk);
    assertEquals(parsed.ms, 30_000);
    assertEquals(typeof parsed.warning, "string");
  }
});

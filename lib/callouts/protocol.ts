/**
 * The callout protocol without any I/O (mdevctl.md §8.2–8.6): argv, payloads,
 * capability parsing, get-attributes output and the exact messages.
 */
import { type Attr, attrsFromJson } from "../config.ts";
import { MdevError } from "../errors.ts";
import { JsonSyntaxError, parseJson } from "../json_parse.ts";
import { quotePath } from "../paths.ts";
import { formatSeconds } from "../settings.ts";

/**
 * The protocol's words (mdevctl.md §8.2, §8.3), declared once: the types,
 * the capabilities query (`PROVIDES`) and the checks of a script's answer
 * are derived from these lists, in the order the query names them.
 */
export const ACTIONS = [
  "start",
  "stop",
  "define",
  "undefine",
  "modify",
  "attributes",
  "capabilities",
] as const;
export const EVENTS = ["pre", "post", "notify", "get", "live"] as const;
export const STATES = ["none", "success", "failure"] as const;
/** The protocol version this program speaks (the query's `version`). */
export const PROTOCOL_VERSION = 2;

export type Event = (typeof EVENTS)[number];
export type ScriptAction = (typeof ACTIONS)[number];
export type State = (typeof STATES)[number];
/** The actions a command brackets (mdevctl.md §8.4); the other two are queries. */
export type Action = Exclude<ScriptAction, "attributes" | "capabilities">;

/** What the script is asked to do; stdin is written as given. */
export interface Invocation {
  event: Event;
  action: ScriptAction;
  state: State;
  stdin: string;
}

/** The device a script is run for; both names are needed for the argv. */
export interface Target {
  uuid: string;
  parent: string | undefined;
  type: string | undefined;
}

/** Literal stdin of the capabilities query (mdevctl.md §8.3). */
export const PROVIDES = JSON.stringify({
  provides: { version: PROTOCOL_VERSION, actions: ACTIONS, events: EVENTS },
});

const KNOWN_ACTIONS: readonly string[] = ACTIONS;
const KNOWN_EVENTS: readonly string[] = EVENTS;

/** The actions and events a script declared it handles. */
export interface Capabilities {
  actions: ReadonlySet<string>;
  events: ReadonlySet<string>;
}

/** What a legacy (unversioned) script is assumed to handle (mdevctl.md §8.5). */
export const LEGACY_CAPABILITIES: Capabilities = {
  actions: new Set(ACTIONS.filter((a) => a !== "capabilities")),
  events: new Set(EVENTS.filter((e) => e !== "live")),
};

/**
 * `<script> -t <type> -e <event> -a <action> -s <state> -u <uuid> -p <parent>`
 * without the script; null when the device lacks a parent or type (such a
 * run counts as a spawn failure, mdevctl.md §8.2).
 */
export function scriptArgs(target: Target, inv: Invocation): string[] | null {
  if (target.parent === undefined || target.type === undefined) return null;
  return [
    "-t",
    target.type,
    "-e",
    inv.event,
    "-a",
    inv.action,
    "-s",
    inv.state,
    "-u",
    target.uuid,
    "-p",
    target.parent,
  ];
}

/** `Start`, `Pre`: the capitalised word upstream's messages use. */
export function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function failedStatus(path: string, status: number | "unknown"): string {
  return `Script '${quotePath(path)}' failed with status '${status}'`;
}

export function unsupportedAction(path: string, action: string): string {
  return `Script ${quotePath(path)} does not support action '${capitalise(action)}'`;
}

export function unsupportedEvent(path: string, event: string): string {
  return `Script ${quotePath(path)} does not support event '${capitalise(event)}'`;
}

/** Live modify exit 2 means "not supported" (mdevctl.md §0.8, §16.19). */
export function liveNotSupported(path: string): string {
  return `Script ${quotePath(path)} does not support live modify of this device (exit status 2)`;
}

export function timedOut(path: string, ms: number): string {
  return `Script '${quotePath(path)}' timed out after ${formatSeconds(ms)}`;
}

export function terminatedBySignal(path: string): string {
  return `callout script ${quotePath(path)} was terminated by a signal`;
}

/** The support check of a selected script (mdevctl.md §8.4 step 2): action first. */
export function supportError(
  path: string,
  caps: Capabilities,
  inv: Pick<Invocation, "event" | "action">,
): MdevError | null {
  if (!caps.actions.has(inv.action)) return new MdevError(unsupportedAction(path, inv.action));
  if (!caps.events.has(inv.event)) return new MdevError(unsupportedEvent(path, inv.event));
  return null;
}

/** Strips trailing NUL bytes (some scripts print C strings, upstream #84). */
export function stripTrailingNuls(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end);
}

export interface ParsedCapabilities {
  caps: Capabilities;
  /** WARN lines for action/event names we do not know. */
  warnings: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/**
 * The answer to the capabilities query, or null when it is not one (mdevctl.md
 * §8.5): strict UTF-8, trailing NULs stripped, an object whose `supports`
 * object has a non-negative integer `version` and string arrays `actions`
 * and `events`. Non-UTF-8 output is simply "not versioned" (upstream panics).
 */
export function parseCapabilities(path: string, stdout: Uint8Array): ParsedCapabilities | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      stripTrailingNuls(stdout),
    );
  } catch {
    return null; // not UTF-8: not versioned
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // not JSON: not versioned
  }
  if (!isObject(value)) return null;
  const supports = value["supports"];
  if (!isObject(supports)) return null;
  const { version, actions, events } = supports;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 0) return null;
  if (!isStringArray(actions) || !isStringArray(events)) return null;
  const warnings: string[] = [];
  if (actions.some((a) => !KNOWN_ACTIONS.includes(a))) {
    warnings.push(`Callout script ${quotePath(path)} provides unknown Action type`);
  }
  if (events.some((e) => !KNOWN_EVENTS.includes(e))) {
    warnings.push(`Callout script ${quotePath(path)} provides unknown Event type`);
  }
  return { caps: { actions: new Set(actions), events: new Set(events) }, warnings };
}

const EMPTY_OBJECT_LIST = [0x5b, 0x7b, 0x7d, 0x5d]; // `[{}]`

/**
 * Attributes printed by get/attributes (mdevctl.md §8.6 step 3): empty output and
 * exactly `[{}]` are none; otherwise trailing NULs are stripped and the rest
 * must be a JSON attribute array.
 */
export function parseAttributesOutput(stdout: Uint8Array): Attr[] {
  if (stdout.length === 0) return [];
  if (
    stdout.length === EMPTY_OBJECT_LIST.length &&
    EMPTY_OBJECT_LIST.every((byte, i) => stdout[i] === byte)
  ) {
    return [];
  }
  // Lossy, and a byte order mark is kept: it is not JSON (as upstream).
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(stripTrailingNuls(stdout));
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    const cause = e instanceof JsonSyntaxError ? e.message : String(e);
    throw new MdevError("Invalid JSON received from callout script", [cause]);
  }
  return attrsFromJson(value);
}

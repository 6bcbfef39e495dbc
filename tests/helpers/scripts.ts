/**
 * The one generator of fixture callout and notifier scripts (bash), used by
 * the black-box and the compatibility suites, and a reader for the call log
 * they append to.
 *
 * Every script built by `script()` appends one line per run to a log file:
 * `<file name>\t<argv joined by spaces>\t<stdin bytes>` (stdin shown as `-`
 * when the script does not read it), so tests can assert the exact sequence
 * of calls and the exact payloads.
 */

export type { Event } from "../../lib/callouts/protocol.ts";

/** Capabilities a versioned script prints, or raw stdout for the query. */
export interface Caps {
  version?: number;
  actions?: string[];
  events?: string[];
  /** Exit code of the capabilities query (default 0). */
  exit?: number;
  /** Printed verbatim instead of the JSON built from the fields above. */
  raw?: string;
}

export const ALL_ACTIONS = ["start", "stop", "define", "undefine", "modify", "attributes"];
export const ALL_EVENTS = ["pre", "post", "get", "live", "notify"];

export interface ScriptSpec {
  /** Absolute path of the call log. */
  log: string;
  /** Versioned when given; otherwise the capabilities query exits 2 (legacy). */
  caps?: Caps;
  /** Only these types are handled; any other exits 2 (after logging). */
  types?: string[];
  /**
   * Exit codes by `event/action`, `event` or `*` (the most specific wins);
   * 0 when nothing matches.
   */
  exits?: Record<string, number>;
  /** Raw stdout of get/attributes (bash printf format string). */
  attrs?: string;
  /** Bash run first, before stdin is read (flooding, sleeping, …). */
  preamble?: string;
  /** Read stdin (default true). */
  readStdin?: boolean;
  /** Bash run just before exiting (after logging), e.g. `kill -KILL $$`. */
  epilogue?: string;
  /**
   * Only runs with these events are logged (default: every run). The
   * compatibility suite logs pre/post only, as its peer (1.2.0) asks no
   * capabilities.
   */
  logEvents?: string[];
  /**
   * Log the stdin bytes (default true); false still reads stdin but logs
   * `-` (the compatibility suite: 1.2.0 gives notifiers the config, ours not).
   */
  logStdin?: boolean;
  /**
   * Runs for types not in `types` exit 2 before they are logged (the
   * compatibility suite: which scripts are asked in what order differs on
   * purpose between 1.2.0 and ours).
   */
  declineUnlogged?: boolean;
}

/** Single-quotes a string for bash. */
export function shq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A bash script with the behaviour described by `spec`. */
export function script(spec: ScriptSpec): string {
  const lines = ["#!/bin/bash", spec.preamble ?? ""];
  lines.push(
    spec.readStdin === false ? "in=-" : "in=$(cat; printf x); in=${in%x}",
    "type=$2 event=$4 action=$6",
  );
  const logged = spec.logStdin === false ? "-" : '"$in"';
  const logLine = `printf '%s\\t%s\\t%s\\n' "\${0##*/}" "$*" ${logged} >> ${shq(spec.log)}`;
  const decline = spec.types === undefined
    ? []
    : [`case "$type" in ${spec.types.map(shq).join("|")}) ;; *) exit 2 ;; esac`];
  if (spec.declineUnlogged) lines.push(...decline);
  lines.push(
    spec.logEvents === undefined
      ? logLine
      : `case "$event" in ${spec.logEvents.map(shq).join("|")}) ${logLine} ;; esac`,
  );
  if (!spec.declineUnlogged) lines.push(...decline);
  const caps = spec.caps;
  if (caps === undefined) {
    lines.push('[ "$action" = capabilities ] && exit 2');
  } else {
    const json = caps.raw ?? JSON.stringify({
      supports: {
        version: caps.version ?? 2,
        actions: caps.actions ?? ALL_ACTIONS,
        events: caps.events ?? ALL_EVENTS,
      },
    });
    lines.push(
      `if [ "$action" = capabilities ]; then printf '%s' ${shq(json)}; exit ${caps.exit ?? 0}; fi`,
    );
  }
  if (spec.attrs !== undefined) {
    lines.push(`[ "$event/$action" = get/attributes ] && printf ${shq(spec.attrs)}`);
  }
  const exits = Object.entries(spec.exits ?? {}).sort(([a], [b]) =>
    specificity(b) - specificity(a)
  );
  lines.push("code=0", 'case "$event/$action" in');
  for (const [key, code] of exits) {
    const pattern = key === "*" ? "*" : key.includes("/") ? key : `${key}/*`;
    lines.push(`  ${pattern}) code=${code} ;;`);
  }
  lines.push("esac", spec.epilogue ?? "", "exit $code", "");
  return lines.join("\n");
}

function specificity(key: string): number {
  return key === "*" ? 0 : key.includes("/") ? 2 : 1;
}

/** One logged run. */
export interface Call {
  script: string;
  argv: string;
  type: string;
  event: string;
  action: string;
  state: string;
  uuid: string;
  parent: string;
  stdin: string;
}

/** The runs logged so far (none when the log does not exist). */
export async function readCalls(log: string): Promise<Call[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(log);
  } catch {
    return [];
  }
  // A payload never holds a newline or a tab, so lines and fields split cleanly.
  return text.split("\n").filter((l) => l !== "").map((line) => {
    const [script = "", argv = "", stdin = ""] = line.split("\t");
    const a = argv.split(" ");
    return {
      script,
      argv,
      type: a[1] ?? "",
      event: a[3] ?? "",
      action: a[5] ?? "",
      state: a[7] ?? "",
      uuid: a[9] ?? "",
      parent: a[11] ?? "",
      stdin,
    };
  });
}

/** `script event/action state` per run: the shape most assertions compare. */
export async function callSequence(log: string): Promise<string[]> {
  return (await readCalls(log)).map((c) => `${c.script} ${c.event}/${c.action} ${c.state}`);
}

/** Capabilities answer of upstream's versioned fixtures (spec §12). */
export const CAPS_V2: Caps = {
  actions: ["start", "stop", "define", "undefine", "modify", "attributes", "capabilities"],
  events: ["pre", "post", "notify", "get"],
};

/** Same, also handling live modify. */
export const CAPS_V3_LIVE: Caps = {
  version: 3,
  actions: CAPS_V2.actions!,
  events: [...CAPS_V2.events!, "live"],
};

/** Writes more than 64 KiB to stdout and stderr before anything else. */
export const FLOOD =
  "head -c 200000 /dev/zero | tr '\\0' o; head -c 200000 /dev/zero | tr '\\0' e >&2";

/** The attribute list upstream's good-json fixture prints. */
export const GOOD_ATTRS = '[{"attribute0": "VALUE"}]';

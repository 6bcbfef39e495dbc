/**
 * Log lines on stderr in upstream's shape (mdevctl.md §10.2):
 * `[<UTC time> <LEVEL> <module>] <message>`, filtered by `MDEVCTL_LOG`
 * (env_logger syntax: `warn`, `debug`, `mdevctl::callouts=debug,warn`).
 * One Logger per Environment (lib/environment.ts builds it).
 */

/**
 * The levels of `MDEVCTL_LOG`, quietest first.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, LOG_LEVELS } from "../mod.ts";
 *
 * deepEqual(LOG_LEVELS.indexOf("warn") < LOG_LEVELS.indexOf("debug"), true);
 * const env = new Environment("/", { log: "mdevctl::callouts=debug", stderr: () => {} });
 * deepEqual([env.logger.enabled("debug", "mdevctl::callouts"), env.logger.enabled("debug")], [true, false]);
 * ```
 */
export const LOG_LEVELS = ["off", "error", "warn", "info", "debug", "trace"] as const;
/** The level when `MDEVCTL_LOG` names none for a module. */
export const DEFAULT_LOG_LEVEL = "warn";
/** A level a log line can have. */
export type Level = Exclude<(typeof LOG_LEVELS)[number], "off">;

interface Directive {
  module: string | null;
  level: number;
}

const DEFAULT_LEVEL = LOG_LEVELS.indexOf(DEFAULT_LOG_LEVEL);

function parseFilter(spec: string | undefined): Directive[] {
  const result: Directive[] = [];
  for (const raw of (spec ?? "").split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    const [module, levelText] = eq < 0
      ? (LOG_LEVELS.includes(part.toLowerCase() as never) ? [null, part] : [part, "trace"])
      : [part.slice(0, eq), part.slice(eq + 1)];
    const level = LOG_LEVELS.indexOf(levelText.toLowerCase() as never);
    if (level >= 0) result.push({ module, level });
  }
  if (!result.some((d) => d.module === null)) result.push({ module: null, level: DEFAULT_LEVEL });
  return result;
}

const encoder = new TextEncoder();

/** Writes the log lines a filter lets through. */
export class Logger {
  readonly #directives: Directive[];
  readonly #write: (bytes: Uint8Array) => void;

  /** `filter` is `MDEVCTL_LOG`'s text; `write` takes each whole line. */
  constructor(filter: string | undefined, write: (bytes: Uint8Array) => void) {
    this.#directives = parseFilter(filter);
    this.#write = write;
  }

  /** Whether a line of `level` from `module` is shown. */
  enabled(level: Level, module = "mdevctl"): boolean {
    let best: Directive | undefined;
    for (const d of this.#directives) {
      if (d.module === null) {
        if (best === undefined) best = d;
      } else if (module === d.module || module.startsWith(d.module + "::")) {
        if (best === undefined || best.module === null || d.module.length > best.module.length) {
          best = d;
        }
      }
    }
    return LOG_LEVELS.indexOf(level) <= (best?.level ?? DEFAULT_LEVEL);
  }

  /** Writes `[<time> <LEVEL> <module>] <message>` when the filter lets it through. */
  log(level: Level, message: string, module = "mdevctl"): void {
    if (!this.enabled(level, module)) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    this.#write(
      encoder.encode(`[${time} ${level.toUpperCase().padEnd(5)} ${module}] ${message}\n`),
    );
  }

  /** A WARN line. */
  warn(message: string, module?: string): void {
    this.log("warn", message, module);
  }

  /** A DEBUG line. */
  debug(message: string, module?: string): void {
    this.log("debug", message, module);
  }
}

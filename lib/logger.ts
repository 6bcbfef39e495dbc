/**
 * Log lines on stderr in upstream's shape (spec §10.2):
 * `[<UTC time> <LEVEL> <module>] <message>`, filtered by `MDEVCTL_LOG`
 * (env_logger syntax: `warn`, `debug`, `mdevctl::callouts=debug,warn`).
 */

const LEVELS = ["off", "error", "warn", "info", "debug", "trace"] as const;
export type Level = Exclude<(typeof LEVELS)[number], "off">;

interface Directive {
  module: string | null;
  level: number;
}

let directives: Directive[] | null = null;

function parseFilter(spec: string | undefined): Directive[] {
  const result: Directive[] = [];
  for (const raw of (spec ?? "").split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    const [module, levelText] = eq < 0
      ? (LEVELS.includes(part.toLowerCase() as never) ? [null, part] : [part, "trace"])
      : [part.slice(0, eq), part.slice(eq + 1)];
    const level = LEVELS.indexOf(levelText.toLowerCase() as never);
    if (level >= 0) result.push({ module, level });
  }
  if (!result.some((d) => d.module === null)) result.push({ module: null, level: 2 });
  return result;
}

function enabled(level: number, module: string): boolean {
  directives ??= parseFilter(Deno.env.get("MDEVCTL_LOG"));
  let best: Directive | undefined;
  for (const d of directives) {
    if (d.module === null) {
      if (best === undefined) best = d;
    } else if (module === d.module || module.startsWith(d.module + "::")) {
      if (best === undefined || best.module === null || d.module.length > best.module.length) {
        best = d;
      }
    }
  }
  return level <= (best?.level ?? 2);
}

const encoder = new TextEncoder();

export function log(level: Level, message: string, module = "mdevctl"): void {
  const n = LEVELS.indexOf(level);
  if (!enabled(n, module)) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const line = `[${time} ${level.toUpperCase().padEnd(5)} ${module}] ${message}\n`;
  Deno.stderr.writeSync(encoder.encode(line));
}

export function warn(message: string, module?: string): void {
  log("warn", message, module);
}

export function debug(message: string, module?: string): void {
  log("debug", message, module);
}

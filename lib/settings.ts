/**
 * The settings read from the process environment, their defaults and how
 * their text is parsed (mdevctl.md §10, mdevctl.md §0.8, §0.9). Pure: the
 * one reader of the process environment is lib/environment.ts.
 */

/** `30 seconds`, `1 second`, `0.5 seconds`. */
export function formatSeconds(ms: number): string {
  const seconds = Math.round(ms) / 1000;
  return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
}

/** Default limit on one script run (mdevctl.md §0.8). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * `MDEVCTL_CALLOUT_TIMEOUT`: seconds, decimals allowed; `0` waits forever as
 * upstream does. Anything else unparsable keeps the default, with a warning.
 */
export function parseTimeout(text: string | undefined): { ms: number; warning?: string } {
  if (text === undefined || text.trim() === "") return { ms: DEFAULT_TIMEOUT_MS };
  const trimmed = text.trim();
  const seconds = /^\d+(\.\d*)?$|^\.\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(seconds)) {
    return {
      ms: DEFAULT_TIMEOUT_MS,
      warning: `Ignoring invalid MDEVCTL_CALLOUT_TIMEOUT '${text}': expected seconds, ` +
        `using ${formatSeconds(DEFAULT_TIMEOUT_MS)}`,
    };
  }
  // setTimeout holds at most a signed 32-bit number of milliseconds.
  if (seconds === 0) return { ms: 0 };
  return { ms: Math.min(Math.max(1, Math.round(seconds * 1000)), 2 ** 31 - 1) };
}

/** Seconds start-parent-mdevs waits for a late parent's types (mdevctl.md §0.9). */
export const DEFAULT_AUTOSTART_WAIT = 10;

/** `MDEVCTL_AUTOSTART_WAIT`: non-negative seconds; anything else is the default. */
export function parseAutostartWait(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_AUTOSTART_WAIT;
}

/** Default of `monitor --poll-interval`, in milliseconds (docs/monitor.md). */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** Default of `wait --timeout` and of a bare `start --wait` (docs/monitor.md). */
export const DEFAULT_WAIT_SECONDS = 90;

/**
 * Seconds as the command line and `MDEVCTL_START_WAIT` give them: a
 * non-negative decimal. `null` when the text is not one.
 */
export function parseSeconds(text: string): number | null {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : null;
}

/** `MDEVCTL_START_WAIT`: seconds a bare `start --wait` waits; anything else is the default. */
export function parseStartWait(text: string | undefined): number {
  return (text === undefined ? null : parseSeconds(text.trim())) ?? DEFAULT_WAIT_SECONDS;
}

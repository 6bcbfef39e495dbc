/**
 * Waiting for a readiness check (spec monitor.md §3.2): re-checked on each
 * kernel uevent when `udevadm` can run (every 100 ms for a second after
 * one, every second otherwise, for config changes), else every 100 ms, as
 * autostart polls.
 */
import type { Environment } from "../environment.ts";
import { MdevError } from "../errors.ts";
import { quotePath } from "../paths.ts";
import type { Missing } from "../sysfs/readiness.ts";
import { mayRunUdevadm, UdevadmSource } from "./sources.ts";

const POLL_MS = 100;
const SAFETY_POLL_MS = 1000;

/**
 * The error for a wait that ran out: the top line, and the path as cause
 * (named under /sys even when reached through the sandbox's view).
 */
export function timeoutError(
  env: Environment,
  missing: Missing,
  seconds: string | number,
): MdevError {
  return new MdevError(missing.top, [
    `timed out after ${seconds} s waiting for ${quotePath(env.shownPath(missing.path))}`,
  ]);
}

/** How waitUntil learns that something changed. */
export interface WaitOptions {
  /**
   * Re-check on kernel uevents when `udevadm` may run (default true). False
   * polls every 100 ms: autostart runs from a udev rule, where starting a
   * uevent listener of its own is not wanted.
   */
  uevents?: boolean;
}

/**
 * The one polling primitive: calls `check` until it returns null (ready) or
 * `timeoutMs` passes; the last result. `check` may do work (start devices)
 * and must be idempotent.
 */
export async function waitUntil(
  check: () => Missing | null | Promise<Missing | null>,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<Missing | null> {
  const deadline = Date.now() + timeoutMs;
  let wake: () => void = () => {};
  let interval = POLL_MS;
  // After a uevent, poll briefly: sysfs files lag the uevent that announces them.
  let burstUntil = 0;
  let source: UdevadmSource | null = null;
  const first = await check();
  if (first === null || timeoutMs <= 0) return first;
  if ((options.uevents ?? true) && mayRunUdevadm()) {
    source = new UdevadmSource({
      trigger: (t) => {
        if (!t.active && !t.parents) return;
        burstUntil = Date.now() + SAFETY_POLL_MS;
        wake();
      },
      restarted: () => wake(),
      failed: () => {
        interval = POLL_MS;
      },
    });
    // Listening before the next check, so no uevent falls in between.
    if (await source.start()) interval = SAFETY_POLL_MS;
    else source = null;
  }
  try {
    for (;;) {
      const missing = await check();
      const left = deadline - Date.now();
      if (missing === null || left <= 0) return missing;
      await new Promise<void>((resolve) => {
        const step = Date.now() < burstUntil ? POLL_MS : interval;
        const timer = setTimeout(done, Math.min(step, left));
        function done() {
          clearTimeout(timer);
          wake = () => {};
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    source?.close();
  }
}

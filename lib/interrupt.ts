/**
 * SIGINT and SIGTERM as an AbortSignal, for work that must finish the step
 * under way and then stop cleanly (apply, hostfile.md §7) instead of dying
 * between a config write and the ledger's.
 */

/** The signals a run can be asked to stop with, and their exit statuses (128 + number). */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** An interruption watch: `signal` aborts at the first SIGINT/SIGTERM. */
export interface InterruptWatch {
  readonly signal: AbortSignal;
  /** The exit status the received signal calls for (130, 143), or `null`. */
  exitStatus(): number | null;
  /** Restores the default handling (the process dies on the next signal). */
  dispose(): void;
}

/**
 * Watches SIGINT and SIGTERM until `dispose()`.
 *
 * @example
 * ```ts
 * import { watchInterrupts } from "./interrupt.ts";
 * const watch = watchInterrupts();
 * try {
 *   console.assert(!watch.signal.aborted && watch.exitStatus() === null);
 * } finally {
 *   watch.dispose();
 * }
 * ```
 */
export function watchInterrupts(): InterruptWatch {
  const controller = new AbortController();
  let received: StopSignal | null = null;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const handler = () => {
      received ??= name;
      controller.abort();
    };
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    exitStatus: () => (received === null ? null : STOP_SIGNALS[received]),
    dispose: () => {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    },
  };
}

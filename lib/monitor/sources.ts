/**
 * Where the monitor's triggers come from (spec monitor.md §2.1): inotify on
 * the config directory, a `udevadm monitor` child for kernel uevents, or a
 * poll timer. Each only says what to rescan; the core decides the events.
 */
import type { Environment } from "../environment.ts";
import { describeError } from "../errors.ts";
import { dirname } from "../paths.ts";
import { triggerOf, UdevadmParser } from "./udevadm_parser.ts";
import type { Trigger } from "./udevadm_parser.ts";

/** A config change: one parent's directory, or everything (`overflow` after dropped events). */
export interface ConfigChange {
  parent?: string;
  all?: boolean;
  overflow?: boolean;
}

/** After the config directory appears, when its recursive watch is set up again. */
const SETTLE_MS = 300;
/** How often a config directory that cannot be watched for is looked for. */
const APPEAR_POLL_MS = 1000;

/** The directory holding callout and notifier scripts, never a parent. */
const SCRIPTS_DIR = "scripts.d";

// The watcher only decides what to watch: a path it cannot see (not there,
// or an ancestor the permission sandbox refuses) is treated as absent; the
// rescan that follows reads through lib/fs_probe.ts and reports real errors.

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false; // see above: only where to watch
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false; // see above: only where to watch
  }
}

function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path; // see above: only where to watch
  }
}

/**
 * Watches `etc/mdevctl.d` recursively. While it does not exist, the nearest
 * existing ancestor is watched until it appears, so a config directory
 * created after the monitor started is followed too.
 */
export class ConfigWatcher {
  readonly #env: Environment;
  readonly #onChange: (change: ConfigChange) => void;
  #watcher: Deno.FsWatcher | null = null;
  #watched = "";
  #onBase = false;
  #closed = false;
  #appearTimer: ReturnType<typeof setInterval> | undefined;
  /** Drop ordinary events, as an overflowing queue would (a fault tests inject). */
  dropEvents = false;

  constructor(env: Environment, onChange: (change: ConfigChange) => void) {
    this.#env = env;
    this.#onChange = onChange;
  }

  /** Opens the watch synchronously, so it exists before the first snapshot. */
  open(): void {
    const base = this.#env.configBase;
    let target = base;
    while (!exists(target)) {
      const up = dirname(target);
      if (up === target) break;
      target = up;
    }
    this.#onBase = target === base;
    this.#watched = realPath(target);
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(target, { recursive: this.#onBase });
    } catch (e) {
      if (this.#onBase) throw e;
      // The permission sandbox grants the config directory, not its
      // ancestors: look for the directory every second instead.
      this.#appearTimer = setInterval(() => {
        if (!exists(base)) return;
        clearInterval(this.#appearTimer);
        this.#reopen();
      }, APPEAR_POLL_MS);
      return;
    }
    this.#watcher = watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          if (this.#watcher !== watcher) break;
          this.handle(event);
        }
      } catch {
        // closed
      }
    })();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#appearTimer);
    this.#watcher?.close();
    this.#watcher = null;
  }

  #reopen(settle = true): void {
    if (this.#closed) return;
    this.#watcher?.close();
    this.#watcher = null;
    this.open();
    this.#onChange({ all: true });
    // A parent directory made while the recursive watch was being set up
    // (define creates etc/mdevctl.d and the parent's directory in one go)
    // may have no watch: set it up once more when the burst is over.
    if (settle && this.#onBase) setTimeout(() => this.#reopen(false), SETTLE_MS);
  }

  /** One filesystem event (public: tests inject a `rescan`). */
  handle(event: Deno.FsEvent): void {
    if (event.flag === "rescan") {
      this.#onChange({ all: true, overflow: true });
      return;
    }
    if (this.dropEvents) return;
    if (!this.#onBase) {
      // Waiting for the config directory (or a closer ancestor) to appear.
      if (exists(this.#env.configBase) || event.paths.some((p) => p.startsWith(this.#watched))) {
        this.#reopen();
      }
      return;
    }
    if (event.kind === "access") return;
    for (const path of event.paths) {
      if (path === this.#watched || !path.startsWith(this.#watched + "/")) {
        // The directory itself changed: moved or removed?
        if (!exists(this.#env.configBase)) this.#reopen();
        else this.#onChange({ all: true });
        return;
      }
      const rel = path.slice(this.#watched.length + 1);
      const parent = rel.split("/")[0]!;
      if (parent === SCRIPTS_DIR) continue;
      if (rel === parent && (event.kind === "create" || event.kind === "rename") && isDir(path)) {
        // A parent directory made or moved in (config writes build a new
        // parent's directory aside and rename it in): make sure it is
        // watched, whatever the recursive watcher does with moved-in trees.
        this.#reopen(false);
        return;
      }
      this.#onChange({ parent });
    }
  }
}

/** Whether this process may run `udevadm` (not in the scoped test sandbox). */
export function mayRunUdevadm(): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command: "udevadm" }).state === "granted";
  } catch {
    return false; // a permission query that fails grants nothing
  }
}

export interface UdevadmCallbacks {
  trigger(t: Trigger): void;
  /** The child died and was started again: events may have been missed. */
  restarted(): void;
  /** The source cannot work; the caller falls back to polling. */
  failed(message: string): void;
}

/** Restarts allowed within RESTART_WINDOW_MS before the source gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const READY_TIMEOUT_MS = 5_000;

/**
 * A `udevadm monitor --kernel --property` child, without a subsystem match:
 * MDEV_STATE comes on the parent's own subsystem (spec §2.1).
 */
export class UdevadmSource {
  readonly #callbacks: UdevadmCallbacks;
  readonly #program: string;
  #child: Deno.ChildProcess | null = null;
  #closed = false;
  #restarts: number[] = [];

  constructor(callbacks: UdevadmCallbacks, program = "udevadm") {
    this.#callbacks = callbacks;
    this.#program = program;
  }

  /** Starts the child; true once it listens, false (after `failed`) when it cannot. */
  async start(): Promise<boolean> {
    const ready = await this.#spawn();
    if (!ready) this.close();
    return ready;
  }

  #spawn(): Promise<boolean> {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#program, {
        args: ["monitor", "--kernel", "--property"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      this.#callbacks.failed(`cannot run ${this.#program}: ${describeError(e)}`);
      return Promise.resolve(false);
    }
    this.#child = child;
    const stderr = new Response(child.stderr).text().catch(() => "");
    return new Promise((resolve) => {
      let isReady = false;
      const timer = setTimeout(() => {
        if (!isReady) {
          this.#callbacks.failed(`${this.#program} monitor did not start listening`);
          resolve(false);
        }
      }, READY_TIMEOUT_MS);
      const parser = new UdevadmParser();
      (async () => {
        try {
          for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
            for (const uevent of parser.feed(chunk)) this.#callbacks.trigger(triggerOf(uevent));
            if (!isReady && parser.ready) {
              isReady = true;
              clearTimeout(timer);
              resolve(true);
            }
          }
        } catch {
          // the pipe broke: handled as an exit below
        }
        const status = await child.status.catch(() => null);
        if (this.#child !== child || this.#closed) return;
        this.#child = null;
        if (!isReady) {
          clearTimeout(timer);
          const text = (await stderr).trim().split("\n")[0] ?? "";
          this.#callbacks.failed(
            `${this.#program} monitor exited with status ${status?.code ?? "?"}` +
              (text ? `: ${text}` : ""),
          );
          resolve(false);
          return;
        }
        this.#restart();
      })();
    });
  }

  #restart(): void {
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    this.#restarts.push(now);
    if (this.#restarts.length > MAX_RESTARTS) {
      this.#callbacks.failed(`${this.#program} monitor keeps exiting`);
      return;
    }
    setTimeout(async () => {
      if (this.#closed) return;
      if (await this.#spawn()) this.#callbacks.restarted();
    }, 200 * this.#restarts.length);
  }

  /** Ends the child (by its own handle) and stops restarting it. */
  close(): void {
    this.#closed = true;
    const child = this.#child;
    this.#child = null;
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
  }

  /** Ends the current child as if it had died (a fault tests inject). */
  killChild(): void {
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

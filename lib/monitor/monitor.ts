/**
 * The monitor's loop (spec monitor.md §2.2–2.4): open the watches, read the
 * state, then on every trigger wait out the debounce, rescan what is dirty,
 * diff against what was last emitted and print the difference.
 *
 * Backpressure: output is written asynchronously and the next batch is only
 * computed once the previous one is out. Meanwhile sources are still read,
 * but they only mark parts of the state dirty, so memory is bounded by the
 * number of devices, not of events.
 */
import type { Environment } from "../environment.ts";
import { eventJson, eventText } from "./format.ts";
import { allDirty, cleanDirty, isDirty, kernelDirty, readState, rescan } from "./snapshot.ts";
import type { Dirty } from "./snapshot.ts";
import { ConfigWatcher, mayRunUdevadm, UdevadmSource } from "./sources.ts";
import type { ConfigChange } from "./sources.ts";
import { diffStates, emptyState, isChange, matchesFilter, snapshotEvents } from "./state.ts";
import type { EventFilter, EventSource, HostState, MonitorEvent, ResyncReason } from "./state.ts";

/** What `--source` asks for (lib/cli/command_table.ts MONITOR_SOURCES). */
export type SourceChoice = "auto" | "udevadm" | "poll";

export interface MonitorOptions {
  json: boolean;
  source: SourceChoice;
  pollMs: number;
  snapshot: boolean;
  filter: EventFilter;
  /** Exit after this many device or parent events. */
  count?: number | undefined;
  /** Exit (status 0) after this long. */
  timeoutMs?: number | undefined;
  /** Faults a test injects (never set by the program). */
  faults?: MonitorFaults | undefined;
  /** Writes text to stdout in full; rejects when the reader went away. */
  write(text: string): Promise<void>;
}

/** The counters a monitor keeps: largest batch, flushes, triggers. */
export interface MonitorStats {
  maxBatch: number;
  flushes: number;
  triggers: number;
}

/** What a test may do to a running monitor. */
export interface MonitorControls {
  /** An inotify `rescan` event, as the kernel sends after an overflow. */
  rescan(): void;
  /** Ends the `udevadm monitor` child as if it had died. */
  killUdevadm(): void;
}

/**
 * Faults injected in-process by tests (tests/monitor/faulty_monitor.ts), to
 * reach the paths of lost events and a dying source; the program never sets
 * them.
 */
export interface MonitorFaults {
  /** Ordinary config events are dropped, as past inotify's max_queued_events. */
  dropConfigEvents?: boolean;
  /** Called as the monitor starts, with what the test may do to it. */
  started?(controls: MonitorControls): void;
  /** Called when the monitor has ended, with its counters. */
  ended?(stats: MonitorStats): void;
}

/** Debounce after a trigger (libvirt's 100 ms, spec §2.2 step 3). */
export const DEBOUNCE_MS = 100;
/** Full rescan whatever the source (spec §2.1). */
export const PERIODIC_RESYNC_MS = 30_000;
/** Every how many periodic resyncs the configs are read again too (5 min). */
export const CONFIG_RESYNC_EVERY = 10;
/** More pending triggers than this force a full rescan (spec §2.4). */
export const TRIGGER_LIMIT = 10_000;
/** Re-checks of a new device without `mdev_type` (spec §2.2 step 4), 100 ms apart. */
export const TYPE_RETRIES = 10;

/** Runs the monitor until a signal, --count or --timeout; the exit status. */
export async function runMonitor(env: Environment, options: MonitorOptions): Promise<number> {
  const monitor = new Monitor(env, options);
  return await monitor.run();
}

class Monitor {
  readonly #env: Environment;
  readonly #opt: MonitorOptions;
  #dirty: Dirty = cleanDirty();
  #reason: ResyncReason | null = null;
  #triggers = 0;
  #known: HostState = emptyState();
  #emitted: HostState = emptyState();
  #typeAttempts = new Map<string, number>();
  #kernelSource: EventSource = "poll";
  #seq = 0;
  #changes = 0;
  #stopped = false;
  #stop!: () => void;
  readonly #stopping: Promise<void>;
  #wake: () => void = () => {};
  #timers: ReturnType<typeof setTimeout>[] = [];
  #watcher: ConfigWatcher | null = null;
  #udevadm: UdevadmSource | null = null;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #stats: MonitorStats = { maxBatch: 0, flushes: 0, triggers: 0 };

  constructor(env: Environment, options: MonitorOptions) {
    this.#env = env;
    this.#opt = options;
    this.#stopping = new Promise((resolve) => this.#stop = resolve);
  }

  async run(): Promise<number> {
    const signals: [Deno.Signal, () => void][] = [
      ["SIGINT", () => this.#end()],
      ["SIGTERM", () => this.#end()],
    ];
    this.#opt.faults?.started?.({
      rescan: () => this.#watcher?.handle({ kind: "other", paths: [], flag: "rescan" }),
      killUdevadm: () => this.#udevadm?.killChild(),
    });
    for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);
    try {
      await this.#start();
      if (this.#opt.timeoutMs !== undefined) {
        this.#timers.push(setTimeout(() => this.#end(), this.#opt.timeoutMs));
      }
      await this.#loop();
    } finally {
      for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
      this.#cleanup();
    }
    this.#opt.faults?.ended?.({ ...this.#stats });
    return 0;
  }

  /** Watch first, then read (§2.2 step 1), then the snapshot events. */
  async #start(): Promise<void> {
    this.#watcher = new ConfigWatcher(this.#env, (c) => this.#configChange(c));
    this.#watcher.dropEvents = this.#opt.faults?.dropConfigEvents ?? false;
    this.#watcher.open();
    const wantUdevadm = this.#opt.source === "udevadm" ||
      (this.#opt.source === "auto" && mayRunUdevadm());
    if (wantUdevadm) {
      const source = new UdevadmSource({
        trigger: (t) => this.#mark({ active: t.active, parents: t.parents }),
        restarted: () => this.#mark({ all: true, reason: "source-restart" }),
        failed: (message) => this.#udevadmFailed(message),
      });
      this.#udevadm = source;
      if (await source.start()) this.#kernelSource = "udevadm";
    }
    if (this.#kernelSource === "poll") this.#startPolling();
    this.#timers.push(
      setInterval(() => this.#periodic(), PERIODIC_RESYNC_MS),
    );
    this.#known = readState(this.#env, emptyState());
    // States are never changed in place: sharing them is safe.
    this.#emitted = this.#known;
    if (this.#opt.snapshot) await this.#emit(snapshotEvents(this.#known));
  }

  #udevadmFailed(message: string): void {
    // Auto quietly uses polling when udevadm cannot run; an explicit choice says so.
    const wasRunning = this.#kernelSource === "udevadm";
    this.#udevadm?.close();
    this.#udevadm = null;
    if (this.#opt.source === "udevadm" || wasRunning) {
      this.#env.logger.warn(`${message}; falling back to polling`);
      this.#pending.push({ event: "error", source: "udevadm", message });
      this.#wake();
    }
    if (wasRunning) {
      this.#kernelSource = "poll";
      this.#startPolling();
      this.#mark({ all: true, reason: "source-restart" });
    }
  }

  #pending: MonitorEvent[] = [];
  #periodicRuns = 0;

  /**
   * The periodic resync (§2.1): the kernel state in full every time; the
   * configs, which inotify reports reliably (or flags an overflow), only
   * every CONFIG_RESYNC_EVERY-th time, as parsing every definition of a
   * large host is the dearest part of a rescan.
   */
  #periodic(): void {
    this.#periodicRuns++;
    if (this.#periodicRuns % CONFIG_RESYNC_EVERY === 0) {
      this.#mark({ all: true, reason: "periodic" });
    } else this.#mark({ kernel: true, reason: "periodic" });
  }

  #startPolling(): void {
    this.#kernelSource = "poll";
    this.#pollTimer ??= setInterval(
      () => this.#mark({ poll: true }),
      this.#opt.pollMs,
    );
  }

  #configChange(change: ConfigChange): void {
    // Dropped events force a full rescan (§2.4), not only of the configs.
    if (change.overflow) this.#mark({ all: true, reason: "inotify-overflow" });
    else if (change.all) this.#mark({ configs: true });
    else if (change.parent !== undefined) this.#mark({ parent: change.parent });
  }

  /** Marks work dirty and wakes the loop. */
  #mark(what: {
    all?: boolean;
    configs?: boolean;
    parent?: string;
    active?: boolean;
    parents?: boolean;
    /** The whole kernel state (running devices, parents, every vendor-VFIO GPU). */
    kernel?: boolean;
    /** A poll tick: parents, and running devices not known yet. */
    poll?: boolean;
    reason?: ResyncReason | undefined;
  }): void {
    this.#triggers++;
    this.#stats.triggers++;
    const d = this.#dirty;
    if (what.all) this.#dirty = allDirty();
    else {
      if (what.configs) d.configs = "all";
      else if (what.parent !== undefined && d.configs !== "all") d.configs.add(what.parent);
      if (what.active) {
        d.active = true;
        d.activeNewOnly = false;
      }
      if (what.poll) {
        if (!d.active) d.activeNewOnly = true;
        d.active = true;
        d.parents = true;
      }
      if (what.parents) d.parents = true;
      if (what.kernel) Object.assign(d, kernelDirty(), { configs: d.configs });
    }
    if (this.#triggers > TRIGGER_LIMIT && this.#reason !== "queue-limit") {
      this.#dirty = allDirty();
      this.#reason = "queue-limit";
    }
    // A real loss of events outranks a routine periodic check.
    if (what.reason && (this.#reason === null || this.#reason === "periodic")) {
      this.#reason = what.reason;
    }
    this.#wake();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      if (!isDirty(this.#dirty) && this.#pending.length === 0) {
        await Promise.race([new Promise<void>((r) => this.#wake = r), this.#stopping]);
        this.#wake = () => {};
        if (this.#stopped) break;
      }
      await this.#sleep(DEBOUNCE_MS);
      if (this.#stopped) break;
      await this.#flush();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#stopping.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async #flush(): Promise<void> {
    const dirty = this.#dirty;
    const reason = this.#reason;
    this.#dirty = cleanDirty();
    this.#reason = null;
    this.#triggers = 0;
    this.#stats.flushes++;
    this.#known = rescan(this.#env, this.#known, dirty);
    const { target, heldBack } = this.#holdBack(this.#known);
    const { events, next, more } = diffStates(this.#emitted, target, {
      config: "config",
      kernel: this.#kernelSource,
    });
    this.#emitted = next;
    const batch = this.#pending.splice(0);
    if (reason !== null && (reason !== "periodic" || events.length > 0)) {
      batch.push({ event: "resync", source: this.#kernelSource, reason });
    }
    batch.push(...events);
    if (more || heldBack) {
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#mark({ active: true }), more ? 0 : 100);
    }
    this.#stats.maxBatch = Math.max(this.#stats.maxBatch, batch.length);
    await this.#emit(batch);
  }

  /**
   * A new running device whose `mdev_type` link is not there yet is held
   * back for up to TYPE_RETRIES checks, then reported with type null.
   */
  #holdBack(known: HostState): { target: HostState; heldBack: boolean } {
    let target = known;
    let heldBack = false;
    for (const uuid of this.#typeAttempts.keys()) {
      if (known.active.get(uuid)?.type !== null) this.#typeAttempts.delete(uuid);
    }
    for (const [uuid, a] of known.active) {
      if (a.type !== null || this.#emitted.active.has(uuid)) continue;
      const attempts = (this.#typeAttempts.get(uuid) ?? 0) + 1;
      this.#typeAttempts.set(uuid, attempts);
      if (attempts <= TYPE_RETRIES) {
        if (target === known) target = { ...known, active: new Map(known.active) };
        target.active.delete(uuid);
        heldBack = true;
      } else {
        this.#env.logger.warn(`mdev ${uuid} has no mdev_type link after ${TYPE_RETRIES * 100} ms`);
      }
    }
    return { target, heldBack };
  }

  async #emit(events: MonitorEvent[]): Promise<void> {
    let text = "";
    const now = Date.now();
    for (const event of events) {
      if (!matchesFilter(event, this.#opt.filter)) continue;
      this.#seq++;
      text += this.#opt.json ? eventJson(event, this.#seq, now) : eventText(event, now);
      if (isChange(event) && this.#opt.count !== undefined && ++this.#changes >= this.#opt.count) {
        this.#end();
        break;
      }
    }
    if (text === "") return;
    try {
      await this.#opt.write(text);
    } catch {
      // The reader went away: nothing left to do.
      this.#end();
    }
  }

  #end(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop();
  }

  #cleanup(): void {
    this.#watcher?.close();
    this.#udevadm?.close();
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    clearTimeout(this.#retry);
    for (const t of this.#timers) clearTimeout(t);
  }
}

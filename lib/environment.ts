/**
 * The run context (mdevctl.md §1.1, §1.2, §10): every path the tool touches,
 * derived from one root; every setting, parsed once; where output goes; and
 * what the callout layer caches for the run. Commands receive one and pass it
 * down; nothing under lib/ keeps state of its own.
 *
 * `MDEVCTL_ENV_ROOT` set to anything (even "") replaces `/`; an empty or
 * relative root gives paths relative to the current directory. This is the
 * one module that reads the process environment (`fromProcess`).
 */
import { Logger } from "./logger.ts";
import { writeStderr, writeStdout, writeStdoutAsync } from "./output.ts";
import { parseAutostartWait, parseStartWait, parseTimeout } from "./settings.ts";

/** Running devices, relative to the root (mdevctl.md §1.2). */
export const MDEV_BASE = "sys/bus/mdev/devices";
/** Parent devices, relative to the root (mdevctl.md §1.2). */
export const PARENT_BASE = "sys/class/mdev_bus";
/** The lock file, relative to the root (mdevctl.md §0.5). */
export const LOCK_FILE = "run/lock/mdevctl.lock";
/** The config base, relative to the root (mdevctl.md §1.2). */
export const CONFIG_BASE = "etc/mdevctl.d";
/**
 * Where config writes stage their temporary files, relative to the root:
 * beside the config base, outside the tree libvirt watches (docs/behaviour.md).
 */
export const CONFIG_STAGING = "etc/.mdevctl.d.staging";
/** Host-file ownership ledgers, one per owner, relative to the root (docs/hostfile.md). */
export const OWNERS_DIR = "var/lib/mdevctl/owners";
/** Callout script directories relative to the root: primary, then deprecated. */
export const CALLOUT_DIRS = [
  "usr/lib/mdevctl/scripts.d/callouts",
  "etc/mdevctl.d/scripts.d/callouts",
] as const;
/** Notifier script directories relative to the root: primary, then deprecated. */
export const NOTIFIER_DIRS = [
  "usr/lib/mdevctl/scripts.d/notifiers",
  "etc/mdevctl.d/scripts.d/notifiers",
] as const;

/** `path` with the view directory `view` (when it is not `real` itself) named as `real`. */
function unview(path: string, view: string, real: string): string {
  if (!path.startsWith(view) || view === real) return path;
  const rest = path.slice(view.length);
  return rest === "" || rest.startsWith("/") ? real + rest : path;
}

/** The settings of a run, as the environment variables give them (text, unparsed). */
export interface EnvironmentOptions {
  /** `MDEVCTL_LOG`: the log filter. */
  log?: string | undefined;
  /** `MDEVCTL_CALLOUT_TIMEOUT`: seconds one script may run. */
  calloutTimeout?: string | undefined;
  /** `MDEVCTL_AUTOSTART_WAIT`: seconds start-parent-mdevs waits for types. */
  autostartWait?: string | undefined;
  /** `MDEVCTL_START_WAIT`: seconds a bare `start --wait` waits (docs/monitor.md). */
  startWait?: string | undefined;
  /**
   * `MDEVCTL_SYSFS_VIEW`: the directory sysfs is reached at instead of
   * `ROOT/sys`. Deno refuses every path under /sys to a program without all
   * permissions; the sandboxing launcher binds /sys there (docs/sandbox.md).
   * Messages still name `ROOT/sys` (`shownPath`).
   */
  sysfsView?: string | undefined;
  /**
   * `MDEVCTL_DEV_VIEW`: the directory `/dev` is reached at instead of
   * `ROOT/dev`. Deno refuses device files under /dev (but a short safe list)
   * to a program without all permissions; the launcher binds /dev there and
   * grants only its `vfio` directory (docs/sandbox.md). Messages still name
   * `ROOT/dev` (`shownPath`).
   */
  devView?: string | undefined;
  /** `MDEVCTL_SRIOV_MANAGE`: the program `apply --enable-vfs` runs (docs/vfio-vgpu.md). */
  sriovManage?: string | undefined;
  /** Where stdout text goes (default: the process's stdout). */
  stdout?: (text: string) => void;
  /**
   * Where stdout text goes when the writer must not block the event loop
   * (`monitor`). Default: the process's stdout, or `stdout` when that is given.
   */
  stdoutAsync?: (text: string) => Promise<void>;
  /** Where stderr text and bytes go, log lines included (default: the process's stderr). */
  stderr?: (data: string | Uint8Array) => void;
}

/**
 * One run's context: paths under `root`, parsed settings, output and the
 * callout cache.
 *
 * @example A context for a fake host tree, with stderr captured
 * ```ts
 * import { Environment } from "../mod.ts";
 *
 * const lines: string[] = [];
 * const env = new Environment("/tmp/host", {
 *   log: "debug",
 *   stderr: (data) => lines.push(typeof data === "string" ? data : new TextDecoder().decode(data)),
 * });
 * console.assert(env.lockFile === "/tmp/host/run/lock/mdevctl.lock");
 * console.assert(env.calloutTimeoutMs === 30_000);
 * env.logger.debug("hello");
 * console.assert(lines.length === 1 && lines[0]!.endsWith(" DEBUG mdevctl] hello\n"));
 * ```
 */
export class Environment {
  /** Replaces `/` in every path. */
  readonly root: string;
  /** Where `ROOT/sys` is reached: itself, or the sandbox's view of it. */
  readonly sysfs: string;
  /** Where `ROOT/dev` is reached: itself, or the sandbox's view of it. */
  readonly dev: string;
  /** Log lines, filtered by `MDEVCTL_LOG`, written to `stderr`. */
  readonly logger: Logger;
  /** The limit on one callout or notifier run in ms; 0 means none (mdevctl.md §0.8). */
  readonly calloutTimeoutMs: number;
  /** Why `MDEVCTL_CALLOUT_TIMEOUT` was ignored; warned once, at the first script run. */
  readonly calloutTimeoutWarning: string | undefined;
  /** Seconds start-parent-mdevs waits for a parent's types (mdevctl.md §0.9). */
  readonly autostartWaitSeconds: number;
  /** Seconds a bare `start --wait` waits (`MDEVCTL_START_WAIT`, docs/monitor.md). */
  readonly startWaitSeconds: number;
  /** `MDEVCTL_SRIOV_MANAGE` when set and not empty (else lib/vfio/ uses NVIDIA's path). */
  readonly sriovManage: string | undefined;
  /** Writes text to stdout in full. */
  readonly stdout: (text: string) => void;
  /** Writes text to stdout in full, letting the event loop run meanwhile. */
  readonly stdoutAsync: (text: string) => Promise<void>;
  /** Writes text or bytes to stderr in full. */
  readonly stderr: (data: string | Uint8Array) => void;
  /**
   * What the callout layer learned this run: lib/callouts/scripts.ts owns
   * its shape (this module stays below every layer that uses it).
   */
  calloutCache: unknown = undefined;

  /** A context with paths under `root` and the settings given as their variables' text. */
  constructor(root = "/", options: EnvironmentOptions = {}) {
    this.root = root;
    this.sysfs = options.sysfsView || this.path("sys");
    this.dev = options.devView || this.path("dev");
    this.stdout = options.stdout ?? writeStdout;
    const given = options.stdout;
    this.stdoutAsync = options.stdoutAsync ??
      (given ? (text) => Promise.resolve(given(text)) : writeStdoutAsync);
    this.stderr = options.stderr ?? writeStderr;
    this.logger = new Logger(options.log, this.stderr);
    const timeout = parseTimeout(options.calloutTimeout);
    this.calloutTimeoutMs = timeout.ms;
    this.calloutTimeoutWarning = timeout.warning;
    this.autostartWaitSeconds = parseAutostartWait(options.autostartWait);
    this.startWaitSeconds = parseStartWait(options.startWait);
    this.sriovManage = options.sriovManage || undefined;
  }

  /** The context of this process: its environment variables, stdout and stderr. */
  static fromProcess(): Environment {
    const root = Deno.env.get("MDEVCTL_ENV_ROOT");
    return new Environment(root === undefined ? "/" : root, {
      log: optionalVar("MDEVCTL_LOG"),
      calloutTimeout: optionalVar("MDEVCTL_CALLOUT_TIMEOUT"),
      autostartWait: optionalVar("MDEVCTL_AUTOSTART_WAIT"),
      startWait: optionalVar("MDEVCTL_START_WAIT"),
      sriovManage: optionalVar("MDEVCTL_SRIOV_MANAGE"),
      // A test root has its own sys/: the view is the real /sys.
      sysfsView: root === undefined ? optionalVar("MDEVCTL_SYSFS_VIEW") : undefined,
      devView: root === undefined ? optionalVar("MDEVCTL_DEV_VIEW") : undefined,
    });
  }

  /** Joins a root-relative path onto the root. */
  path(relative: string): string {
    if (this.root === "") return relative;
    return this.root.endsWith("/") ? this.root + relative : `${this.root}/${relative}`;
  }

  /** The directory of definitions, `etc/mdevctl.d` under the root. */
  get configBase(): string {
    return this.path(CONFIG_BASE);
  }

  /**
   * Where config writes stage their temporary file: beside the config base,
   * on the same filesystem, but outside the tree that libvirt watches with
   * inotify (every directory under the base), so a change costs it one
   * refresh, as an in-place write would (docs/behaviour.md).
   */
  get configStaging(): string {
    return this.path(CONFIG_STAGING);
  }

  /** Running devices, `sys/bus/mdev/devices` under the root (or the view). */
  get mdevBase(): string {
    return this.sysPath(MDEV_BASE);
  }

  /** Parent devices, `sys/class/mdev_bus` under the root (or the view). */
  get parentBase(): string {
    return this.sysPath(PARENT_BASE);
  }

  /** A root-relative `sys/...` path where this run reaches it. */
  private sysPath(relative: string): string {
    return `${this.sysfs}${relative.slice("sys".length)}`;
  }

  /** The VFIO group's device file, `dev/vfio/<group>` under the root (or the view). */
  vfioGroupPath(group: string): string {
    return `${this.dev}/vfio/${group}`;
  }

  /**
   * A path as messages show it: one under the sandbox's view of sysfs or
   * /dev is named under `ROOT/sys` or `ROOT/dev`, where it is, so messages
   * stay as upstream's.
   */
  shownPath(path: string): string {
    return unview(unview(path, this.sysfs, this.path("sys")), this.dev, this.path("dev"));
  }

  /** The per-host lock serialising every read-modify-write (mdevctl.md §0.5). */
  get lockFile(): string {
    return this.path(LOCK_FILE);
  }

  /** The directory of the host-file ownership ledgers, `var/lib/mdevctl/owners` under the root. */
  get ownersDir(): string {
    return this.path(OWNERS_DIR);
  }

  /** Callout directories, primary first, then the deprecated one. */
  get calloutDirs(): readonly string[] {
    return CALLOUT_DIRS.map((dir) => this.path(dir));
  }

  /** Notifier directories, primary first, then the deprecated one. */
  get notifierDirs(): readonly string[] {
    return NOTIFIER_DIRS.map((dir) => this.path(dir));
  }

  /** The directory of a parent's definitions. */
  parentConfigDir(parent: string): string {
    return `${this.configBase}/${parent}`;
  }

  /** The definition file of a device under a parent (canonical uuid spelling). */
  configFile(parent: string, uuid: string): string {
    return `${this.configBase}/${parent}/${uuid}`;
  }

  /** A running device's entry under `sys/bus/mdev/devices`. */
  devicePath(uuid: string): string {
    return `${this.mdevBase}/${uuid}`;
  }

  /** A parent's entry under `sys/class/mdev_bus`. */
  parentPath(parent: string): string {
    return `${this.parentBase}/${parent}`;
  }
}

/** A setting's text; a process without env permission gets the defaults. */
function optionalVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission: the default
  }
}

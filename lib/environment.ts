import { showPathsAs } from "./paths.ts";

/**
 * Every path the tool touches, derived from one root (spec §1.1, §1.2).
 *
 * `MDEVCTL_ENV_ROOT` set to anything (even "") replaces `/`; an empty or
 * relative root gives paths relative to the current directory.
 */
export class Environment {
  readonly root: string;
  /** Where sysfs is read and written: `ROOT/sys`, or the sandbox's view of it. */
  readonly sysfs: string;

  constructor(root = "/", sysfs?: string) {
    this.root = root;
    this.sysfs = sysfs ?? this.path("sys");
  }

  /**
   * `MDEVCTL_SYSFS_VIEW` is set by the sandboxing launcher (docs/sandbox.md):
   * Deno refuses every path under /sys to a program without -A, so the
   * launcher bind-mounts /sys at that directory. Messages still name /sys.
   * The test root (`MDEVCTL_ENV_ROOT`) has its own `sys` and wins.
   */
  static fromProcess(): Environment {
    const root = Deno.env.get("MDEVCTL_ENV_ROOT");
    if (root !== undefined) return new Environment(root);
    const view = Deno.env.get("MDEVCTL_SYSFS_VIEW");
    if (!view) return new Environment();
    showPathsAs(view, "/sys");
    return new Environment("/", view);
  }

  /** Joins a root-relative path onto the root. */
  path(relative: string): string {
    if (this.root === "") return relative;
    return this.root.endsWith("/") ? this.root + relative : `${this.root}/${relative}`;
  }

  get configBase(): string {
    return this.path("etc/mdevctl.d");
  }

  get mdevBase(): string {
    return `${this.sysfs}/bus/mdev/devices`;
  }

  get parentBase(): string {
    return `${this.sysfs}/class/mdev_bus`;
  }

  /** The per-host lock serialising every read-modify-write (decision §0.5). */
  get lockFile(): string {
    return this.path("run/lock/mdevctl.lock");
  }

  /** Callout directories, primary first, then the deprecated one. */
  get calloutDirs(): readonly string[] {
    return [
      this.path("usr/lib/mdevctl/scripts.d/callouts"),
      this.path("etc/mdevctl.d/scripts.d/callouts"),
    ];
  }

  /** Notifier directories, primary first, then the deprecated one. */
  get notifierDirs(): readonly string[] {
    return [
      this.path("usr/lib/mdevctl/scripts.d/notifiers"),
      this.path("etc/mdevctl.d/scripts.d/notifiers"),
    ];
  }

  parentConfigDir(parent: string): string {
    return `${this.configBase}/${parent}`;
  }

  configFile(parent: string, uuid: string): string {
    return `${this.configBase}/${parent}/${uuid}`;
  }

  devicePath(uuid: string): string {
    return `${this.mdevBase}/${uuid}`;
  }

  parentPath(parent: string): string {
    return `${this.parentBase}/${parent}`;
  }
}

/**
 * Every path the tool touches, derived from one root (spec §1.1, §1.2).
 *
 * `MDEVCTL_ENV_ROOT` set to anything (even "") replaces `/`; an empty or
 * relative root gives paths relative to the current directory.
 */
export class Environment {
  readonly root: string;

  constructor(root = "/") {
    this.root = root;
  }

  static fromProcess(): Environment {
    const root = Deno.env.get("MDEVCTL_ENV_ROOT");
    return new Environment(root === undefined ? "/" : root);
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
    return this.path("sys/bus/mdev/devices");
  }

  get parentBase(): string {
    return this.path("sys/class/mdev_bus");
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

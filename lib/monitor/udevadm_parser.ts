/**
 * Parsing `udevadm monitor --kernel --property` output (systemd 252 format,
 * spec monitor.md §2.1): a header, then per uevent a line
 * `KERNEL[<ts>] <action> <devpath> (<subsystem>)`, `KEY=VALUE` lines and a
 * blank line. The text has no stability promise, so anything unexpected is
 * skipped rather than fatal: kernel events only schedule rescans.
 */

/** One kernel uevent as udevadm printed it. */
export interface Uevent {
  action: string;
  devpath: string;
  subsystem: string;
  properties: Map<string, string>;
}

const HEAD = /^KERNEL\[[^\]]*\]\s+(\S+)\s+(\S+)\s+\((.*)\)\s*$/;

/**
 * Incremental parser: feed it text as it arrives (any chunking), get the
 * complete uevents back. `ready` turns true after the header's blank line,
 * once udevadm listens.
 */
export class UdevadmParser {
  #buffer = "";
  #current: Uevent | null = null;
  #ready = false;

  get ready(): boolean {
    return this.#ready;
  }

  /** Feeds a chunk; returns the uevents completed by it. */
  feed(chunk: string): Uevent[] {
    this.#buffer += chunk;
    const done: Uevent[] = [];
    let nl: number;
    while ((nl = this.#buffer.indexOf("\n")) >= 0) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      this.#line(line, done);
    }
    return done;
  }

  #line(line: string, done: Uevent[]): void {
    if (line === "") {
      if (this.#current !== null) done.push(this.#current);
      this.#current = null;
      this.#ready = true;
      return;
    }
    const head = HEAD.exec(line);
    if (head) {
      // A record not closed by a blank line still counts.
      if (this.#current !== null) done.push(this.#current);
      this.#current = {
        action: head[1]!,
        devpath: head[2]!,
        subsystem: head[3]!,
        properties: new Map(),
      };
      this.#ready = true;
      return;
    }
    if (this.#current === null) return; // header or noise
    const eq = line.indexOf("=");
    if (eq > 0) this.#current.properties.set(line.slice(0, eq), line.slice(eq + 1));
  }
}

/** What a uevent asks the monitor to rescan (spec §2.2 step 3). */
export interface Trigger {
  active: boolean;
  parents: boolean;
}

/**
 * SUBSYSTEM=mdev → running devices; MDEV_STATE (sent on the parent's own
 * subsystem) → parents. Kernels that send no MDEV_STATE are caught by the
 * periodic resync.
 */
export function triggerOf(event: Uevent): Trigger {
  const subsystem = event.properties.get("SUBSYSTEM") ?? event.subsystem;
  const active = subsystem === "mdev";
  const parents = event.properties.has("MDEV_STATE");
  return { active, parents };
}

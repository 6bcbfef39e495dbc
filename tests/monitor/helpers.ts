/**
 * Running `mdevctl monitor` against a fake host and reading its output line
 * by line while the test changes the host.
 */
import type { FakeHost } from "../helpers/fake_host.ts";

/** A running monitor whose stdout lines can be awaited one by one. */
export class MonitorProcess {
  readonly child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #done = false;
  readonly stderr: Promise<string>;
  readonly finished: Promise<void>;

  constructor(child: Deno.ChildProcess, read = true) {
    this.child = child;
    this.stderr = new Response(child.stderr).text();
    this.finished = read ? this.#read() : Promise.resolve();
  }

  async #read(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        this.#lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
      this.#waiters.splice(0).forEach((w) => w());
    }
    this.#done = true;
    this.#waiters.splice(0).forEach((w) => w());
  }

  /** Every line so far. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** Parsed JSON lines so far. */
  get events(): Record<string, unknown>[] {
    return this.#lines.map((l) => JSON.parse(l));
  }

  /** Waits until `pred` holds for the parsed events (or fails after `ms`). */
  async until(
    pred: (events: Record<string, unknown>[]) => boolean,
    ms = 10_000,
  ): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + ms;
    while (!pred(this.events)) {
      if (this.#done) throw new Error(`monitor ended; lines:\n${this.#lines.join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; lines:\n${this.#lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events;
  }

  /** Waits for an event with this name (and optional uuid/parent). */
  untilEvent(event: string, fields: Record<string, unknown> = {}, ms?: number) {
    return this.until(
      (es) =>
        es.some((e) => e.event === event && Object.entries(fields).every(([k, v]) => e[k] === v)),
      ms,
    );
  }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<number> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const { code } = await this.child.status;
    await this.finished;
    return code;
  }
}

/** The test-only entry that injects faults into the monitor in-process. */
export const FAULTY_MONITOR = new URL("./faulty_monitor.ts", import.meta.url).pathname;

/**
 * `monitor --dumpjson --snapshot` with the poll source, started and synced;
 * with `faults` (see faulty_monitor.ts), through the test-only entry.
 */
export async function startMonitor(
  host: FakeHost,
  extra: string[] = [],
  env: Record<string, string> = {},
  allowRun: string[] = [],
  faults?: string,
): Promise<MonitorProcess> {
  const args = ["--dumpjson", "--snapshot", ...extra];
  if (!extra.includes("--source")) args.push("--source", "poll", "--poll-interval", "100");
  const child = faults === undefined
    ? await host.spawn(["monitor", ...args], { env, allowRun })
    : await host.spawn([faults, ...args], { env, allowRun, entry: FAULTY_MONITOR });
  const m = new MonitorProcess(child);
  await m.untilEvent("synced");
  return m;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A stand-in named udevadm, first in PATH (the sandboxing launcher allows
 * `udevadm` by name): the header, then whatever the test appends to FEED.
 */
export async function fakeUdevadm(
  host: FakeHost,
): Promise<{ env: Record<string, string>; feed: string }> {
  const feed = host.path("udevadm-feed");
  await Deno.writeTextFile(feed, "");
  const bin = host.path("bin");
  await Deno.mkdir(bin);
  const program = `${bin}/udevadm`;
  await Deno.writeTextFile(
    program,
    `#!/bin/sh
[ "$1 $2 $3" = "monitor --kernel --property" ] || exit 2
printf 'monitor will print the received events for:\\nKERNEL - the kernel uevent\\n\\n'
exec tail -n +1 -f '${feed}'
`,
    { mode: 0o755 },
  );
  await Deno.chmod(program, 0o755);
  return { env: { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` }, feed };
}

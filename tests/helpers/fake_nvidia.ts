/**
 * The fake NVIDIA kernel of the vendor-VFIO tests: `fake_nvidia/fake_nvidia.c`,
 * a small FUSE file system compiled here on first use (into
 * `fake_nvidia/.cache/`, again when its source changes) and mounted over the
 * GPUs' directory of a fake host (`FakeHost.addVfioGpu`), where it serves each
 * VF's `nvidia/current_vgpu_type` and `nvidia/creatable_vgpu_types` from a
 * model of the GPUs' capacity and passes every other path through. A second
 * instance over `dev/vfio` makes chosen VFIO device or group files refuse to
 * open read-write with EBUSY, as a file a VM holds open. What it models and
 * what it does not: fake_nvidia/README.md.
 */
import { type FakeHost, L40S_TYPES, vfAddress } from "./fake_host.ts";
import { have, reasons } from "./requires.ts";

const DIR = new URL("./fake_nvidia/", import.meta.url).pathname;
const SOURCE = `${DIR}fake_nvidia.c`;

/** Layout variants of `creatable_vgpu_types` (see the C source). */
export type ListFormat = "plain" | "header" | "odd" | "blank";

/** What the fake kernel does beyond each GPU's spec (from `FakeHost.vfioGpus`). */
export interface KernelModel {
  /** Layout of every `creatable_vgpu_types` (default plain `ID : Name` lines). */
  format?: ListFormat;
  /** VF address → what its `current_vgpu_type` reads instead of a number. */
  hostile?: Record<string, string>;
  /**
   * Someone else's write between the program's last read and its write: just
   * before the first non-zero write to `before`, `id` is assigned to `vf`.
   */
  race?: { before: string; vf: string; id: number };
  /** Paths below dev/vfio (`devices/vfio3`, `103`) that refuse to open read-write: EBUSY. */
  busy?: string[];
}

/** Why the fake kernel cannot run here, or undefined. */
export function fakeKernelMissing(): string | undefined {
  let fuse = true;
  try {
    Deno.statSync("/dev/fuse");
  } catch {
    fuse = false;
  }
  const pkg = new Deno.Command("sh", {
    args: ["-c", "pkg-config --exists fuse3"],
    stdout: "null",
    stderr: "null",
  }).outputSync().code === 0;
  return reasons(
    Deno.uid() === 0 ? undefined : "needs root (FUSE mounts with allow_other)",
    fuse ? undefined : "no /dev/fuse",
    have("gcc") ? undefined : "gcc missing (apt-get install gcc)",
    pkg ? undefined : "libfuse3 headers missing (apt-get install libfuse3-dev)",
    have("fusermount3") ? undefined : "fusermount3 missing (apt-get install fuse3)",
  );
}

let binary: Promise<string> | undefined;

/** The compiled fake kernel, built on first use into the cache (keyed by the source's hash). */
function compiled(): Promise<string> {
  binary ??= (async () => {
    const source = await Deno.readFile(SOURCE);
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", source)))
      .slice(0, 8).map((b) => b.toString(16).padStart(2, "0")).join("");
    const out = `${DIR}.cache/fake_nvidia-${hash}`;
    try {
      await Deno.stat(out);
      return out;
    } catch {
      // not built yet
    }
    await Deno.mkdir(`${DIR}.cache`, { recursive: true });
    const tmp = `${out}.${Deno.pid}.tmp`;
    const r = await new Deno.Command("sh", {
      args: [
        "-c",
        'gcc -O1 -Wall -o "$1" "$2" $(pkg-config --cflags --libs fuse3)',
        "sh",
        tmp,
        SOURCE,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (r.code !== 0) {
      throw new Error(`compiling fake_nvidia.c failed: ${new TextDecoder().decode(r.stderr)}`);
    }
    await Deno.rename(tmp, out);
    return out;
  })();
  return binary;
}

function mounted(path: string): boolean {
  const mounts = Deno.readTextFileSync("/proc/self/mounts");
  return mounts.split("\n").some((l) => l.split(" ")[1] === path);
}

/** One running FUSE instance. */
class Mount {
  private exited = false;
  private readonly done: Promise<Deno.CommandOutput>;

  private constructor(readonly point: string, private readonly child: Deno.ChildProcess) {
    this.done = child.output().finally(() => {
      this.exited = true;
    });
  }

  /**
   * Moves the directory `point` aside to `backing` (created empty when
   * missing), mounts the fake kernel with `model` over an empty `point`.
   */
  static async start(point: string, backing: string, model: string, log: string): Promise<Mount> {
    const program = await compiled();
    try {
      await Deno.rename(point, backing);
    } catch {
      await Deno.mkdir(backing, { recursive: true });
    }
    await Deno.mkdir(point, { recursive: true });
    const modelFile = `${backing}.model`;
    await Deno.writeTextFile(modelFile, model);
    const child = new Deno.Command(program, {
      args: [modelFile, log, backing, point],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const mount = new Mount(point, child);
    for (let i = 0; i < 200 && !mounted(point); i++) {
      if (mount.exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!mounted(point)) {
      await mount.stop();
      const out = await mount.done;
      throw new Error(
        `fake_nvidia did not mount ${point}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return mount;
  }

  /** Unmounts (lazily if busy) and waits for the process. */
  async stop(): Promise<void> {
    if (mounted(this.point)) {
      const u = await new Deno.Command("fusermount3", {
        args: ["-u", this.point],
        stdout: "null",
        stderr: "null",
      }).output();
      if (u.code !== 0) {
        await new Deno.Command("umount", { args: ["-l", this.point], stderr: "null" }).output();
      }
    }
    if (!this.exited) {
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await this.done;
      clearTimeout(timer);
    }
  }
}

/**
 * The fake kernel mounted on a fake host: over each GPU's bus directory
 * (below sys/devices) and over dev/vfio. Stop it before removing the host.
 */
export class FakeKernel {
  private constructor(
    private readonly mounts: Mount[],
    /** File the fake kernel logs each write of a modelled file to. */
    readonly logFile: string,
  ) {}

  /** Mounts the fake kernel for every vendor-VFIO GPU of `host`. */
  static async mount(host: FakeHost, model: KernelModel = {}): Promise<FakeKernel> {
    const aside = `${host.root}.kernel`;
    await Deno.mkdir(aside, { recursive: true });
    const logFile = `${aside}/writes.log`;
    await Deno.writeTextFile(logFile, "");
    const lines = [`format ${model.format ?? "plain"}`];
    const buses = new Set<string>();
    for (const gpu of host.vfioGpus.values()) {
      if (gpu.mdevVfs) continue;
      buses.add(gpu.bus ?? "pci0000:40");
      lines.push(`gpu ${gpu.pf} ${gpu.capacity ?? 48} ${gpu.mixed ? 1 : 0}`);
      for (const t of gpu.types ?? L40S_TYPES) {
        lines.push(`type ${gpu.pf} ${t.id} ${t.size} ${t.name}`);
      }
      for (let i = 0; i < (gpu.totalVfs ?? 4); i++) {
        const current = Number(gpu.current?.[i] ?? 0);
        lines.push(
          `vf ${gpu.pf} ${vfAddress(gpu.pf, i)} ${Number.isInteger(current) ? current : 0}`,
        );
      }
    }
    for (const [vf, text] of Object.entries(model.hostile ?? {})) {
      lines.push(`hostile ${vf} ${text}`);
    }
    if (model.race) lines.push(`race ${model.race.before} ${model.race.vf} ${model.race.id}`);
    const mounts: Mount[] = [];
    try {
      for (const bus of buses) {
        mounts.push(
          await Mount.start(
            host.path(`sys/devices/${bus}`),
            `${aside}/${bus}`,
            lines.join("\n") + "\n",
            logFile,
          ),
        );
      }
      const busy = (model.busy ?? []).map((p) => `busy /${p}`).join("\n") + "\n";
      mounts.push(await Mount.start(host.path("dev/vfio"), `${aside}/vfio`, busy, logFile));
    } catch (e) {
      for (const m of mounts.reverse()) await m.stop();
      throw e;
    }
    return new FakeKernel(mounts, logFile);
  }

  /** The writes to modelled files so far: `<VF> <value> ok|EINVAL|EBUSY|EIO`, in order. */
  async writes(): Promise<string[]> {
    return (await Deno.readTextFile(this.logFile)).split("\n").filter((l) => l !== "");
  }

  /** Unmounts every instance. */
  async stop(): Promise<void> {
    for (const m of this.mounts.reverse()) await m.stop();
  }
}

/**
 * Runs `body` on `host` with the fake kernel mounted, then unmounts it
 * (also when `body` fails) and removes the host and the kernel's files.
 */
export async function withKernel(
  host: FakeHost,
  model: KernelModel,
  body: (kernel: FakeKernel) => Promise<void>,
): Promise<void> {
  let kernel: FakeKernel | undefined;
  try {
    kernel = await FakeKernel.mount(host, model);
    await body(kernel);
  } finally {
    await kernel?.stop();
    await Deno.remove(`${host.root}.kernel`, { recursive: true }).catch(() => {});
    await host.cleanup();
  }
}

/**
 * The fake host of the black-box and compatibility suites: a temporary root
 * holding the sysfs, config and script trees mdevctl reads (mdevctl.md §1.2),
 * described by one declarative `HostSpec` (or built step by step with the
 * `FakeHost` methods, which use the same builder), and a way to run the real
 * program against it.
 *
 * Links point into the root (black-box: the program gets MDEVCTL_ENV_ROOT)
 * or, with `relativeLinks`, are relative as the kernel makes them
 * (compatibility suite: the tree is bind-mounted over /sys and /etc/mdevctl.d
 * in a private mount namespace, and the sandboxed program reaches /sys through
 * a bind of it elsewhere, docs/sandbox.md, where a link to /sys/... would lead
 * back to /sys, which Deno refuses).
 *
 * The program under test is chosen by MDEVCTL_TEST_TARGET:
 *  - "source" (default): `deno run cli.ts` with permissions scoped to the
 *    root, so any access outside the fake host fails the test;
 *  - "dist": the built dist/mdevctl (or dist/lsmdev), through its sandboxing
 *    launcher (docs/sandbox.md), which scopes permissions to the root.
 */
import { script, type ScriptSpec } from "./scripts.ts";
import { readTree } from "./tree.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
let deno: string | undefined;
/** The pinned Deno binary, looked up on first use. */
function denoPath(): string {
  deno ??= new TextDecoder().decode(
    new Deno.Command(`${TOP}/tools/deno_path.sh`).outputSync().stdout,
  ).trim();
  return deno;
}

export const TARGET = Deno.env.get("MDEVCTL_TEST_TARGET") ?? "source";

/** One supported type: the files of its directory under mdev_supported_types/. */
export interface TypeSpec {
  /** available_instances, written with a newline (default 1). */
  available?: number | string;
  /** device_api, written with a newline (default vfio-pci). */
  deviceApi?: string;
  /** The `name` file (the type's display name), written verbatim; none when absent. */
  name?: string;
  /** The `description` file, written verbatim; none when absent. */
  description?: string;
  /** `create` is a directory, so writing it fails (EISDIR). */
  createIsDir?: boolean;
}

/** A parent device registered with mdev. */
export interface ParentSpec {
  /** The parent's device name (its sys/class/mdev_bus entry), e.g. 0000:00:02.0. */
  name: string;
  /** Its device directory below sys/devices (default `pci0000:00/<name>`). */
  dev?: string;
  /**
   * Type directory name → type. Absent: no mdev_supported_types directory
   * at all (a device that is not, or no longer, an mdev parent).
   */
  types?: Record<string, TypeSpec>;
  /** Other files of the parent's device directory (name → content), e.g. `vendor`. */
  files?: Record<string, string>;
}

/** A running device, as the kernel shows it. */
export interface ActiveSpec {
  uuid: string;
  /** The parent's device name (its device directory as in `parents`, else the default). */
  parent: string;
  /** Type directory name the `mdev_type` link points at (the type is not created). */
  type: string;
  /** Attribute files (name → content); a name may hold `/`. */
  attributes?: Record<string, string>;
  /** Attribute names made directories, so writing them fails. */
  attributeDirs?: string[];
  /** No mdev_type link (a half-created device). */
  noTypeLink?: boolean;
  /** `remove` is a directory, so writing it fails (EISDIR). */
  removeIsDir?: boolean;
}

/** A stored definition, etc/mdevctl.d/<parent>/<uuid>. */
export interface DefinedSpec {
  parent: string;
  /** The file name, normally the uuid. */
  uuid: string;
  /** An object is written as pretty JSON (no trailing newline); a string verbatim. */
  config: string | object;
}

/** Where a script lives: usr/lib/mdevctl/scripts.d/… or the deprecated etc/mdevctl.d/scripts.d/…. */
export type ScriptDir =
  | "callouts"
  | "notifiers"
  | "deprecated-callouts"
  | "deprecated-notifiers";

/** An executable script. */
export interface ScriptFileSpec {
  /** File name. */
  name: string;
  /** Default "callouts". */
  where?: ScriptDir;
  /** The script text, or a fixture of scripts.ts that logs to the host's calls.log. */
  body: string | Omit<ScriptSpec, "log">;
}

/** A vGPU type of a vendor-VFIO GPU, with the share of the GPU it takes. */
export interface VgpuTypeSpec {
  id: number;
  /** Full name, e.g. `NVIDIA L40S-12Q`. */
  name: string;
  /** Capacity it uses (the frame buffer in GB, e.g. 12 of 48). */
  size: number;
}

/** The types of a 48 GB L40S in the Q series (ids as examples, not NVIDIA's). */
export const L40S_TYPES: VgpuTypeSpec[] = [
  { id: 1410, name: "NVIDIA L40S-6Q", size: 6 },
  { id: 1411, name: "NVIDIA L40S-12Q", size: 12 },
  { id: 1412, name: "NVIDIA L40S-24Q", size: 24 },
  { id: 1413, name: "NVIDIA L40S-48Q", size: 48 },
];

/**
 * A GPU driven by NVIDIA's vendor-specific VFIO driver (no mdev): a PF with
 * SR-IOV VFs, each VF with an `nvidia/` directory (docs/vfio-vgpu.md).
 */
export interface VfioGpuSpec {
  /** The PF's PCI address, e.g. `0000:41:00.0`; its VFs follow at function 4. */
  pf: string;
  /** Directory below sys/devices holding PF and VFs (default `pci0000:40`). */
  bus?: string;
  /** `device` (default 0x26b9, an L40S). */
  device?: string;
  /** `class` (default 0x030200, 3D controller). */
  pciClass?: string;
  /** Basename of the `driver` link (default `nvidia`); null: no driver link. */
  driver?: string | null;
  /** `sriov_totalvfs` (default 4). */
  totalVfs?: number;
  /**
   * VFs present now (default totalVfs). Fewer: the rest are staged for the
   * fake `sriov-manage -e` (`FakeHost.sriovManage`), which adds them all.
   */
  numVfs?: number;
  /** The types the GPU offers (default `L40S_TYPES`). */
  types?: VgpuTypeSpec[];
  /** Total capacity (default 48). */
  capacity?: number;
  /** Whether types of different sizes may share the GPU (default false). */
  mixed?: boolean;
  /** VF index → `current_vgpu_type` content (a number, or text verbatim). */
  current?: Record<number, number | string>;
  /** VF index → `creatable_vgpu_types` verbatim (default: computed from the capacity). */
  creatable?: Record<number, string>;
  /** The VFs are mdev parents (`mdev_supported_types`), as on Ampere, not `nvidia/`. */
  mdevVfs?: boolean;
}

/** A whole fake host. */
export interface HostSpec {
  parents?: ParentSpec[];
  /** Vendor-VFIO GPUs (PFs and their VFs). */
  vfioGpus?: VfioGpuSpec[];
  active?: ActiveSpec[];
  defined?: DefinedSpec[];
  scripts?: ScriptFileSpec[];
  /** Files under in/ (command inputs such as --jsonfile), name → content. */
  inputs?: Record<string, string>;
  /**
   * Also create the deprecated etc/mdevctl.d/scripts.d/{callouts,notifiers}
   * directories (a Debian host has them; 1.2.0's start-up check needs them).
   */
  deprecatedScriptDirs?: boolean;
}

export interface BuildOptions {
  /**
   * Prefix of symlink targets: the root itself (default), or "" for links
   * that resolve only once the tree is mounted at / (compatibility suite).
   */
  linkBase?: string;
  /** Links relative to their own directory (`../../devices/...`), as the kernel's. */
  relativeLinks?: boolean;
  /**
   * Scripts meant for usr/lib/mdevctl go to etc/mdevctl.d/scripts.d instead
   * (Debian's 1.2.0 reads only there).
   */
  usrLibScriptsToEtc?: boolean;
  /** Kernel-like modes: 0444 for read-only attributes, 0200 for create/remove. */
  sysfsModes?: boolean;
}

const BASE_DIRS = [
  "sys/bus/mdev/devices",
  "sys/class/mdev_bus",
  "sys/devices",
  "etc/mdevctl.d",
  "usr/lib/mdevctl/scripts.d/callouts",
  "usr/lib/mdevctl/scripts.d/notifiers",
];

/** The call log fixture scripts append to, relative to the root. */
export const CALL_LOG = "calls.log";

/** The address of VF `index` of `pf`: functions from 4 on, as an L40S's. */
export function vfAddress(pf: string, index: number): string {
  const [domain, bus, devFn] = pf.split(":") as [string, string, string];
  const [dev, fn] = devFn.split(".").map((x) => parseInt(x, 16)) as [number, number];
  const f = fn + 4 + index;
  const d = dev + Math.floor(f / 8);
  return `${domain}:${bus}:${d.toString(16).padStart(2, "0")}.${f % 8}`;
}

/** The types creatable on a free VF when `used` (ids held by its siblings) are taken. */
export function creatableNow(gpu: VfioGpuSpec, used: number[]): VgpuTypeSpec[] {
  const types = gpu.types ?? L40S_TYPES;
  const held = used.map((id) => types.find((t) => t.id === id)?.size ?? 0);
  const total = held.reduce((a, b) => a + b, 0);
  const size = held.find((s) => s > 0);
  return types.filter((t) =>
    total + t.size <= (gpu.capacity ?? 48) &&
    (gpu.mixed || size === undefined || size === t.size)
  );
}

/** Root-relative directory of a parent's device (default `sys/devices/pci0000:00/<name>`). */
export function parentDevDir(parent: string, dev?: string): string {
  return `sys/devices/${dev ?? `pci0000:00/${parent}`}`;
}

function scriptDirOf(where: ScriptDir, options: BuildOptions): string {
  if (where.startsWith("deprecated-")) {
    return `etc/mdevctl.d/scripts.d/${where.slice("deprecated-".length)}`;
  }
  return options.usrLibScriptsToEtc
    ? `etc/mdevctl.d/scripts.d/${where}`
    : `usr/lib/mdevctl/scripts.d/${where}`;
}

function writeFile(path: string, content: string, mode?: number): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, content, mode === undefined ? {} : { mode });
  if (mode !== undefined) Deno.chmodSync(path, mode);
}

/**
 * Builds the parts of a host below `root`, in a fixed order: base layout,
 * parents and types, running devices, definitions, scripts, inputs. Each
 * part may be called alone on an existing host (the FakeHost methods do).
 */
export class HostBuilder {
  readonly root: string;
  readonly options: BuildOptions;
  /** Device directory of each parent built so far, by name. */
  readonly devs = new Map<string, string>();
  /** Each vendor-VFIO GPU built so far, by PF address. */
  readonly vfioGpus = new Map<string, VfioGpuSpec>();
  private nextVfio = 0;

  constructor(root: string, options: BuildOptions = {}) {
    this.root = root;
    this.options = options;
  }

  private abs(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The text of a link at `at` to `target` (both relative to the root). */
  private link(target: string, at: string): string {
    if (!this.options.relativeLinks) return `${this.options.linkBase ?? this.root}/${target}`;
    const from = at.split("/").slice(0, -1);
    const to = target.split("/");
    let common = 0;
    while (common < from.length && from[common] === to[common]) common++;
    return "../".repeat(from.length - common) + to.slice(common).join("/");
  }

  private mode(kernel: number): number | undefined {
    return this.options.sysfsModes ? kernel : undefined;
  }

  /** Root-relative device directory of a parent. */
  devDir(parent: string): string {
    return this.devs.get(parent) ?? parentDevDir(parent);
  }

  build(spec: HostSpec): void {
    this.layout(spec.deprecatedScriptDirs ?? false);
    for (const p of spec.parents ?? []) this.parent(p);
    for (const g of spec.vfioGpus ?? []) this.vfioGpu(g);
    for (const a of spec.active ?? []) this.active(a);
    for (const d of spec.defined ?? []) this.defined(d);
    for (const s of spec.scripts ?? []) this.script(s);
    for (const [name, content] of Object.entries(spec.inputs ?? {})) {
      writeFile(this.abs(`in/${name}`), content);
    }
  }

  layout(deprecatedScriptDirs = false): void {
    const dirs = deprecatedScriptDirs
      ? [...BASE_DIRS, "etc/mdevctl.d/scripts.d/callouts", "etc/mdevctl.d/scripts.d/notifiers"]
      : BASE_DIRS;
    for (const dir of dirs) Deno.mkdirSync(this.abs(dir), { recursive: true });
  }

  /**
   * A parent appears as the kernel registers one: its types first, the
   * class entry last, so a program waiting for it never sees it half made.
   */
  parent(p: ParentSpec): void {
    const dev = parentDevDir(p.name, p.dev);
    this.devs.set(p.name, dev);
    Deno.mkdirSync(this.abs(dev), { recursive: true });
    if (p.types !== undefined) {
      Deno.mkdirSync(this.abs(`${dev}/mdev_supported_types`), { recursive: true });
      for (const [type, spec] of Object.entries(p.types)) this.type(p.name, type, spec);
    }
    for (const [name, content] of Object.entries(p.files ?? {})) {
      writeFile(this.abs(`${dev}/${name}`), content, this.mode(0o444));
    }
    Deno.symlinkSync(
      this.link(dev, `sys/class/mdev_bus/${p.name}`),
      this.abs(`sys/class/mdev_bus/${p.name}`),
    );
  }

  /** Root-relative directory of a PCI device of a vendor-VFIO GPU. */
  pciDir(gpu: VfioGpuSpec, address: string): string {
    return `sys/devices/${gpu.bus ?? "pci0000:40"}/${address}`;
  }

  /**
   * A vendor-VFIO GPU: the PF (vendor, class, SR-IOV files, driver link),
   * its `numVfs` VFs, and the bus entries. The VFs beyond `numVfs` are built
   * aside, below `.sriov/<PF>/`, for `sriov-manage -e` to copy in.
   */
  vfioGpu(gpu: VfioGpuSpec): void {
    this.vfioGpus.set(gpu.pf, gpu);
    const total = gpu.totalVfs ?? 4;
    const present = gpu.numVfs ?? total;
    const pf = this.pciDir(gpu, gpu.pf);
    const ro = this.mode(0o444);
    const files: Record<string, string> = {
      vendor: "0x10de\n",
      device: `${gpu.device ?? "0x26b9"}\n`,
      class: `${gpu.pciClass ?? "0x030200"}\n`,
      sriov_totalvfs: `${total}\n`,
      sriov_numvfs: `${present}\n`,
    };
    for (const [name, content] of Object.entries(files)) {
      writeFile(this.abs(`${pf}/${name}`), content, ro);
    }
    Deno.mkdirSync(this.abs("sys/bus/pci/devices"), { recursive: true });
    if (gpu.driver !== null) {
      const driver = `sys/bus/pci/drivers/${gpu.driver ?? "nvidia"}`;
      Deno.mkdirSync(this.abs(driver), { recursive: true });
      Deno.symlinkSync(this.link(driver, `${pf}/driver`), this.abs(`${pf}/driver`));
    }
    Deno.symlinkSync(this.link("sys/bus/pci", `${pf}/subsystem`), this.abs(`${pf}/subsystem`));
    Deno.symlinkSync(
      this.link(pf, `sys/bus/pci/devices/${gpu.pf}`),
      this.abs(`sys/bus/pci/devices/${gpu.pf}`),
    );
    const staged = new HostBuilder(this.abs(`.sriov/${gpu.pf}`), {
      ...this.options,
      linkBase: this.options.linkBase ?? this.root,
    });
    staged.nextVfio = this.nextVfio;
    for (let i = 0; i < total; i++) {
      (i < present ? this : staged).vf(gpu, i);
    }
    this.nextVfio += total;
    if (present < total) {
      writeFile(staged.abs(`${pf}/sriov_numvfs`), `${total}\n`, ro);
    }
  }

  /** VF `index` of `gpu`, with its links both ways and its bus entry. */
  private vf(gpu: VfioGpuSpec, index: number): void {
    const address = vfAddress(gpu.pf, index);
    const pf = this.pciDir(gpu, gpu.pf);
    const dir = this.pciDir(gpu, address);
    const ro = this.mode(0o444);
    writeFile(this.abs(`${dir}/vendor`), "0x10de\n", ro);
    writeFile(this.abs(`${dir}/class`), `${gpu.pciClass ?? "0x030200"}\n`, ro);
    Deno.symlinkSync(this.link(pf, `${dir}/physfn`), this.abs(`${dir}/physfn`));
    Deno.symlinkSync(this.link("sys/bus/pci", `${dir}/subsystem`), this.abs(`${dir}/subsystem`));
    Deno.mkdirSync(this.abs(pf), { recursive: true });
    Deno.symlinkSync(this.link(dir, `${pf}/virtfn${index}`), this.abs(`${pf}/virtfn${index}`));
    if (gpu.mdevVfs) {
      Deno.mkdirSync(this.abs(`${dir}/mdev_supported_types`), { recursive: true });
    } else {
      const current = gpu.current?.[index] ?? 0;
      const used = Object.entries(gpu.current ?? {})
        .map(([, id]) => Number(id))
        .filter((id) => Number.isInteger(id) && id > 0);
      const creatable = gpu.creatable?.[index] ??
        (current === 0 ? creatableNow(gpu, used).map((t) => `${t.id} : ${t.name}\n`).join("") : "");
      writeFile(this.abs(`${dir}/nvidia/current_vgpu_type`), `${current}\n`, this.mode(0o644));
      writeFile(this.abs(`${dir}/nvidia/creatable_vgpu_types`), creatable, ro);
    }
    const n = this.nextVfio + index;
    Deno.mkdirSync(this.abs(`${dir}/vfio-dev/vfio${n}`), { recursive: true });
    writeFile(this.abs(`${dir}/vfio-dev/vfio${n}/dev`), `511:${n}\n`, ro);
    const group = `sys/kernel/iommu_groups/${100 + n}`;
    Deno.mkdirSync(this.abs(`${group}/devices`), { recursive: true });
    Deno.symlinkSync(this.link(group, `${dir}/iommu_group`), this.abs(`${dir}/iommu_group`));
    Deno.mkdirSync(this.abs("sys/bus/pci/devices"), { recursive: true });
    Deno.symlinkSync(
      this.link(dir, `sys/bus/pci/devices/${address}`),
      this.abs(`sys/bus/pci/devices/${address}`),
    );
  }

  /**
   * A supported type, whole at once: a new type directory is filled aside
   * and renamed into place (an existing one is filled in place).
   */
  type(parent: string, type: string, spec: TypeSpec = {}): void {
    const final = this.abs(`${this.devDir(parent)}/mdev_supported_types/${type}`);
    let exists = true;
    try {
      Deno.lstatSync(final);
    } catch {
      exists = false;
    }
    const dir = exists ? final : Deno.makeTempDirSync({ dir: this.root, prefix: ".type-" });
    this.fillType(dir, spec);
    if (!exists) {
      Deno.chmodSync(dir, 0o755);
      Deno.mkdirSync(final.slice(0, final.lastIndexOf("/")), { recursive: true });
      Deno.renameSync(dir, final);
    }
  }

  private fillType(dir: string, spec: TypeSpec): void {
    const ro = this.mode(0o444);
    writeFile(`${dir}/available_instances`, `${spec.available ?? 1}\n`, ro);
    writeFile(`${dir}/device_api`, `${spec.deviceApi ?? "vfio-pci"}\n`, ro);
    if (spec.name !== undefined) writeFile(`${dir}/name`, spec.name, ro);
    if (spec.description !== undefined) writeFile(`${dir}/description`, spec.description, ro);
    if (spec.createIsDir) Deno.mkdirSync(`${dir}/create`);
    else writeFile(`${dir}/create`, "", this.mode(0o200));
    Deno.mkdirSync(`${dir}/devices`, { recursive: true });
  }

  active(a: ActiveSpec): void {
    const parentDev = this.devDir(a.parent);
    const typeDir = `${parentDev}/mdev_supported_types/${a.type}`;
    const dev = `${parentDev}/${a.uuid}`;
    Deno.mkdirSync(this.abs(dev), { recursive: true });
    if (!a.noTypeLink) {
      Deno.symlinkSync(this.link(typeDir, `${dev}/mdev_type`), this.abs(`${dev}/mdev_type`));
    }
    if (a.removeIsDir) Deno.mkdirSync(this.abs(`${dev}/remove`));
    else writeFile(this.abs(`${dev}/remove`), "", this.mode(0o200));
    for (const [name, value] of Object.entries(a.attributes ?? {})) {
      writeFile(this.abs(`${dev}/${name}`), value);
    }
    for (const name of a.attributeDirs ?? []) {
      Deno.mkdirSync(this.abs(`${dev}/${name}`), { recursive: true });
    }
    Deno.symlinkSync(
      this.link(dev, `sys/bus/mdev/devices/${a.uuid}`),
      this.abs(`sys/bus/mdev/devices/${a.uuid}`),
    );
    if (!a.noTypeLink) {
      // The kernel lists the device under its type's devices/ too (when the type exists).
      const at = `${typeDir}/devices/${a.uuid}`;
      try {
        Deno.symlinkSync(this.link(dev, at), this.abs(at));
      } catch {
        // no such type directory: nothing to list the device in
      }
    }
  }

  defined(d: DefinedSpec): void {
    writeFile(
      this.abs(`etc/mdevctl.d/${d.parent}/${d.uuid}`),
      typeof d.config === "string" ? d.config : JSON.stringify(d.config, null, 2),
    );
  }

  /** Writes an executable script; returns its absolute path. */
  script(s: ScriptFileSpec): string {
    const path = this.abs(`${scriptDirOf(s.where ?? "callouts", this.options)}/${s.name}`);
    const body = typeof s.body === "string"
      ? s.body
      : script({ ...s.body, log: this.abs(CALL_LOG) });
    writeFile(path, body, 0o755);
    return path;
  }
}

/** Builds `spec` below `root` (which may not exist yet). */
export async function buildHost(
  root: string,
  spec: HostSpec,
  options: BuildOptions = {},
): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  new HostBuilder(root, options).build(spec);
}

export interface RunOptions {
  stdin?: string;
  /** Run as lsmdev (argv[0] ends in lsmdev). */
  lsmdev?: boolean;
  env?: Record<string, string>;
  /** Working directory (default: the root). */
  cwd?: string;
  /**
   * A command line the program runs under, e.g. `setpriv …` to drop
   * capabilities; the program and its arguments follow it.
   */
  prefix?: string[];
  /** More programs the source entry may run (e.g. a stand-in for udevadm). */
  allowRun?: string[];
  /**
   * A test-only entry module run instead of cli.ts, from source whatever the
   * target (tests/monitor/faulty_monitor.ts injects faults in-process).
   */
  entry?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class FakeHost {
  readonly root: string;
  private readonly builder: HostBuilder;

  private constructor(root: string) {
    this.root = root;
    this.builder = new HostBuilder(root);
  }

  /** A fresh host in a new temporary directory, with `spec` built (default: the bare layout). */
  static async create(spec: HostSpec = {}): Promise<FakeHost> {
    const root = await Deno.makeTempDir({ prefix: "mdevctl-test-" });
    const host = new FakeHost(root);
    await host.builder.build(spec);
    return host;
  }

  /** Adds the parts of `spec` to this host. */
  async build(spec: HostSpec): Promise<void> {
    await this.builder.build(spec);
  }

  /** Absolute path of a root-relative path. */
  path(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The log fixture scripts (scripts.ts) built by this host append to. */
  get callLog(): string {
    return this.path(CALL_LOG);
  }

  /** Where a parent's device directory lives (the class entry links to it). */
  parentDir(parent: string): string {
    return this.path(this.builder.devDir(parent));
  }

  typeDir(parent: string, type: string): string {
    return `${this.parentDir(parent)}/mdev_supported_types/${type}`;
  }

  /** A vendor-VFIO GPU with its VFs (see `VfioGpuSpec`). */
  addVfioGpu(gpu: VfioGpuSpec): void {
    this.builder.vfioGpu(gpu);
  }

  /** The vendor-VFIO GPUs built on this host, by PF address. */
  get vfioGpus(): ReadonlyMap<string, VfioGpuSpec> {
    return this.builder.vfioGpus;
  }

  /** Root-relative directory of VF `index` of GPU `pf`. */
  vfDir(pf: string, index: number): string {
    const gpu = this.builder.vfioGpus.get(pf);
    if (gpu === undefined) throw new Error(`no vendor-VFIO GPU ${pf}`);
    return this.builder.pciDir(gpu, vfAddress(pf, index));
  }

  /**
   * A stand-in for NVIDIA's `sriov-manage`: logs `sriov-manage ARGS` to
   * `callLog`; `-e <PF>` copies in the VFs staged for that PF (numVfs < totalVfs),
   * anything else fails. Returns its path (for MDEVCTL_SRIOV_MANAGE).
   */
  async sriovManage(): Promise<string> {
    const path = this.path("bin/sriov-manage");
    await Deno.mkdir(this.path("bin"), { recursive: true });
    await Deno.writeTextFile(
      path,
      `#!/bin/sh
echo "sriov-manage $*" >> '${this.callLog}'
[ "$1" = -e ] && [ -d '${
        this.path(".sriov")
      }/'"$2" ] || { echo "sriov-manage: cannot enable $2" >&2; exit 1; }
cp -a '${this.path(".sriov")}/'"$2"/. '${this.root}/'
`,
      { mode: 0o755 },
    );
    await Deno.chmod(path, 0o755);
    return path;
  }

  /** A parent registered with mdev, with its supported types. */
  async addParent(parent: string, types: Record<string, TypeSpec> = {}): Promise<void> {
    await this.builder.parent({ name: parent, types });
  }

  async addType(parent: string, type: string, spec: TypeSpec = {}): Promise<void> {
    await this.builder.type(parent, type, spec);
  }

  /**
   * A running device, as the kernel shows it: a directory under the parent
   * with an `mdev_type` link and a `remove` file, linked from the mdev bus.
   * Extra attribute files can be given. The type's directory is created
   * (empty) when missing, so the link resolves.
   */
  async addActive(
    uuid: string,
    parent: string,
    type: string,
    attributes: Record<string, string> = {},
  ): Promise<void> {
    await Deno.mkdir(this.typeDir(parent, type), { recursive: true });
    await this.builder.active({ uuid, parent, type, attributes });
  }

  /** A stored definition; `config` is written verbatim when a string. */
  async define(parent: string, uuid: string, config: string | object): Promise<void> {
    await this.builder.defined({ parent, uuid, config });
  }

  /**
   * An executable script in a callout or notifier directory: a body, or a
   * fixture of scripts.ts logging to `callLog`. Returns its path.
   */
  async addScript(
    name: string,
    body: string | Omit<ScriptSpec, "log">,
    where: ScriptDir = "callouts",
  ): Promise<string> {
    return await this.builder.script({ name, body, where });
  }

  async read(relative: string): Promise<string> {
    return await Deno.readTextFile(this.path(relative));
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await Deno.lstat(this.path(relative));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every entry below `relative` → its content (for "nothing changed"
   * checks): directories as `dir/` → "", symlinks as "-> target", other
   * special files as "(special)".
   */
  async snapshot(relative = "."): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const text = new TextDecoder();
    for (const e of await readTree(this.path(relative), { contents: true })) {
      result[e.path] = e.kind === "link"
        ? `-> ${e.target}`
        : e.kind === "dir"
        ? ""
        : e.kind === "file"
        ? text.decode(e.bytes)
        : "(special)";
    }
    return result;
  }

  /** Starts mdevctl (or lsmdev) against this host; the caller collects it. */
  async spawn(args: string[], options: RunOptions = {}): Promise<Deno.ChildProcess> {
    const env: Record<string, string> = {
      MDEVCTL_ENV_ROOT: this.root,
      ...(options.lsmdev ? { MDEVCTL_ARGV0: "/usr/sbin/lsmdev" } : {}),
      ...options.env,
    };
    let command: Deno.Command;
    const common = {
      env,
      cwd: options.cwd ?? this.root,
      stdin: options.stdin === undefined ? "null" as const : "piped" as const,
      stdout: "piped" as const,
      stderr: "piped" as const,
    };
    if (TARGET === "dist" && options.entry === undefined) {
      const program = `${TOP}/dist/${options.lsmdev ? "lsmdev" : "mdevctl"}`;
      // The launcher passes $0 itself; drop our override so it is exercised.
      delete env.MDEVCTL_ARGV0;
      command = prefixed(options.prefix, program, args, common);
    } else {
      const scripts = [...await this.scripts(), ...(options.allowRun ?? [])];
      const perms = [
        `--allow-read=${this.root}`,
        `--allow-write=${this.root}`,
        "--allow-env",
        ...(scripts.length > 0 ? [`--allow-run=${scripts.join(",")}`] : []),
      ];
      command = prefixed(options.prefix, denoPath(), [
        "run",
        "--no-prompt",
        "--no-config",
        "--no-lock",
        "--quiet",
        ...perms,
        options.entry ?? `${TOP}/cli.ts`,
        ...args,
      ], common);
    }
    const child = command.spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    return child;
  }

  /** Runs mdevctl (or lsmdev) against this host to completion. */
  async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const out = await (await this.spawn(args, options)).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  }

  private async scripts(): Promise<string[]> {
    const found: string[] = [];
    for (
      const dir of [
        "usr/lib/mdevctl/scripts.d/callouts",
        "usr/lib/mdevctl/scripts.d/notifiers",
        "etc/mdevctl.d/scripts.d/callouts",
        "etc/mdevctl.d/scripts.d/notifiers",
      ]
    ) {
      try {
        for await (const e of Deno.readDir(this.path(dir))) {
          found.push(this.path(`${dir}/${e.name}`));
        }
      } catch {
        // no such directory
      }
    }
    return found;
  }

  async cleanup(): Promise<void> {
    await Deno.remove(this.root, { recursive: true });
  }
}

/** Log lines without their time stamp: `[WARN  mdevctl::callouts] …`. */
export function stripLogTimes(stderr: string): string {
  return stderr.replace(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /gm, "[");
}

/** `program args`, run under `prefix` when one is given. */
function prefixed(
  prefix: string[] | undefined,
  program: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args">,
): Deno.Command {
  if (prefix === undefined || prefix.length === 0) {
    return new Deno.Command(program, { args, ...options });
  }
  return new Deno.Command(prefix[0]!, {
    args: [...prefix.slice(1), program, ...args],
    ...options,
  });
}

/** Runs `body` with a fresh fake host, removed afterwards. */
export async function withHost(body: (host: FakeHost) => Promise<void>): Promise<void> {
  const host = await FakeHost.create();
  try {
    await body(host);
  } finally {
    await host.cleanup();
  }
}

export const U1 = "11111111-1111-0000-0000-000000000000";
export const U2 = "22222222-2222-0000-0000-000000000000";
export const U3 = "33333333-3333-0000-0000-000000000000";
export const P1 = "0000:00:02.0";
export const P2 = "0000:00:03.0";

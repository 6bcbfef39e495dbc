/**
 * The VFIO model test's host: vendor-VFIO GPUs laid out on plain files as
 * tests/helpers/vfio_unit_tree.ts does, and an in-process stand-in for the
 * NVIDIA driver in front of them, after the rules of the FUSE fake
 * (tests/helpers/fake_nvidia/README.md): each GPU has a capacity and each
 * type a size; a type is creatable on a free VF while the sizes held by its
 * siblings plus its own fit, and (unless the GPU mixes sizes) every vGPU on
 * the GPU has that size; a VF holding a vGPU lists nothing. A write to
 * `current_vgpu_type` is refused as the driver refuses it (EBUSY on a VF
 * that holds a vGPU, EINVAL for an id not creatable now, EIO on a VF whose
 * file reads junk), and after every accepted write the siblings' creatable
 * lists are rewritten, so the program reads what the driver would show.
 * Opening the VFIO device or group of a VF a VM holds fails with EBUSY.
 *
 * The driver hooks `Deno.openSync` (the program writes a VF's type through
 * it, and probes VFIO nodes with it) while installed; its own tree writes go
 * through the functions as they were at import, so a crash simulation
 * (`killedAfter`, installed on top) neither counts nor stops them.
 */
import { vfAddress } from "../helpers/vfio_unit_tree.ts";

/** A vGPU type of a GPU model: its id, frame-buffer size and full name. */
export interface ModelType {
  id: number;
  size: number;
  name: string;
}

/** A GPU model: PCI device id, capacity and type table. */
export interface GpuModel {
  device: string;
  capacity: number;
  types: ModelType[];
}

/** Two models (ids made up): an L40S-like one of 48 and an H100-like one of 80. */
export const MODELS: readonly GpuModel[] = [
  {
    device: "0x26b9",
    capacity: 48,
    types: [
      { id: 1008, size: 8, name: "NVIDIA L40S-8Q" },
      { id: 1012, size: 12, name: "NVIDIA L40S-12Q" },
      { id: 1024, size: 24, name: "NVIDIA L40S-24Q" },
      { id: 1048, size: 48, name: "NVIDIA L40S-48Q" },
    ],
  },
  {
    device: "0x2331",
    capacity: 80,
    types: [
      { id: 2010, size: 10, name: "NVIDIA H100-10C" },
      { id: 2020, size: 20, name: "NVIDIA H100-20C" },
      { id: 2040, size: 40, name: "NVIDIA H100-40C" },
    ],
  },
];

export interface VfState {
  address: string;
  index: number;
  /** The type id it holds; 0 none. */
  current: number;
  /** current_vgpu_type reads this text instead (not an id); writes fail with EIO. */
  hostile?: string;
  /** A VM holds its VFIO device and group open. */
  inUse: boolean;
  /** N of its vfio-dev/vfioN (its group is 100 + N). */
  vfio: number;
}

export interface GpuState {
  pf: string;
  model: GpuModel;
  /** Sizes may mix on this GPU. */
  mixed: boolean;
  driver: string;
  totalVfs: number;
  /** The VFs enabled now (none while disabled). */
  vfs: VfState[];
  /** How many of them show their `nvidia/` directory (the first ones): fewer while appearing. */
  appeared: number;
  /** creatable_vgpu_types with NVIDIA's header line. */
  header: boolean;
}

/** One write to a VF's current_vgpu_type and what the driver made of it. */
export interface Write {
  vf: string;
  pf: string;
  value: string;
  result: "ok" | "EINVAL" | "EBUSY" | "EIO";
}

// The tree is written with the functions as they are now, before any hook.
const real = {
  mkdir: Deno.mkdirSync.bind(Deno),
  remove: Deno.removeSync.bind(Deno),
  symlink: Deno.symlinkSync.bind(Deno),
  write: Deno.writeTextFileSync.bind(Deno),
  open: Deno.openSync.bind(Deno),
};

function removeIfThere(path: string): void {
  try {
    real.remove(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function osError(code: string, text: string): Error {
  return Object.assign(new Error(text), { code });
}

/** The fake host: GPU states, their tree under `root`, and the driver's write log. */
export class VfioHost {
  readonly gpus = new Map<string, GpuState>();
  /** Writes to current_vgpu_type through the hook (the program's), in order. */
  readonly writes: Write[] = [];

  constructor(readonly root: string) {
    for (const d of ["sys/class/mdev_bus", "sys/bus/mdev/devices", "etc/mdevctl.d"]) {
      real.mkdir(`${root}/${d}`, { recursive: true });
    }
    for (const d of ["sys/bus/pci/devices", "sys/bus/pci/drivers/nvidia", "dev/vfio/devices"]) {
      real.mkdir(`${root}/${d}`, { recursive: true });
    }
    real.mkdir(`${root}/sys/bus/pci/drivers/vfio-pci`, { recursive: true });
  }

  /** Adds a GPU (VFs disabled unless `enabled`) and writes its tree. */
  add(pf: string, model: GpuModel, totalVfs: number, opts: Partial<GpuState> = {}): GpuState {
    const g: GpuState = {
      pf,
      model,
      mixed: false,
      driver: "nvidia",
      totalVfs,
      vfs: [],
      appeared: 0,
      header: false,
      ...opts,
    };
    this.gpus.set(pf, g);
    this.sync(g);
    return g;
  }

  /** Enables a GPU's VFs, all empty; the first `appeared` show `nvidia/`. */
  enable(g: GpuState, appeared: number): void {
    const base = [...this.gpus.keys()].indexOf(g.pf) * 8;
    g.vfs = Array.from({ length: g.totalVfs }, (_, i) => ({
      address: vfAddress(g.pf, i),
      index: i,
      current: 0,
      inUse: false,
      vfio: base + i,
    }));
    g.appeared = appeared;
    this.sync(g);
  }

  /** The VFs showing `nvidia/`. */
  visible(g: GpuState): VfState[] {
    return g.vfs.slice(0, g.appeared);
  }

  /** Ready as docs/vfio-vgpu.md defines it (and seen as a vendor-VFIO GPU at all). */
  ready(g: GpuState): boolean {
    return g.driver === "nvidia" && g.vfs.length > 0 && g.appeared === g.vfs.length;
  }

  /** True when type `t` could be created on VF `v` of `g` now. */
  creatable(g: GpuState, v: VfState, t: ModelType): boolean {
    if (v.hostile !== undefined || v.current !== 0) return false;
    let used = 0;
    let sizeInUse = 0;
    for (const o of g.vfs) {
      if (o.hostile !== undefined || o.current === 0) continue;
      const s = g.model.types.find((x) => x.id === o.current)?.size ?? 0;
      used += s;
      if (s > 0) sizeInUse = s;
    }
    if (used + t.size > g.model.capacity) return false;
    return g.mixed || sizeInUse === 0 || sizeInUse === t.size;
  }

  /** The driver's answer to writing `text` to a VF's current_vgpu_type (state changed when ok). */
  store(g: GpuState, v: VfState, text: string): Write["result"] {
    if (v.hostile !== undefined) return "EIO";
    const t = text.trim();
    if (!/^[0-9]+$/.test(t)) return "EINVAL";
    const id = Number(t);
    if (id === 0) {
      v.current = 0;
      return "ok";
    }
    if (v.current !== 0) return "EBUSY";
    const type = g.model.types.find((x) => x.id === id);
    if (type === undefined || !this.creatable(g, v, type)) return "EINVAL";
    v.current = id;
    return "ok";
  }

  private devDir(a: string): string {
    return `${this.root}/sys/devices/pci0000:00/${a}`;
  }

  /** Rewrites the nvidia/ files of every visible VF of a GPU from its state. */
  syncFiles(g: GpuState): void {
    for (const v of this.visible(g)) {
      const dir = `${this.devDir(v.address)}/nvidia`;
      real.write(`${dir}/current_vgpu_type`, v.hostile ?? `${v.current}\n`);
      const lines = g.model.types.filter((t) => this.creatable(g, v, t))
        .map((t) => `${t.id} : ${t.name}\n`);
      real.write(
        `${dir}/creatable_vgpu_types`,
        (g.header ? "ID : vGPU Name\n" : "") + lines.join(""),
      );
    }
  }

  /** Writes a GPU's whole tree from its state (PF files, VF links and dirs, /dev/vfio nodes). */
  sync(g: GpuState): void {
    const pfDir = this.devDir(g.pf);
    const bus = `${this.root}/sys/bus/pci/devices`;
    removeIfThere(pfDir);
    removeIfThere(`${bus}/${g.pf}`);
    for (let i = 0; i < g.totalVfs; i++) {
      removeIfThere(this.devDir(vfAddress(g.pf, i)));
      removeIfThere(`${bus}/${vfAddress(g.pf, i)}`);
    }
    real.mkdir(pfDir, { recursive: true });
    real.write(`${pfDir}/vendor`, "0x10de\n");
    real.write(`${pfDir}/device`, `${g.model.device}\n`);
    real.write(`${pfDir}/class`, "0x030200\n");
    real.write(`${pfDir}/sriov_totalvfs`, `${g.totalVfs}\n`);
    real.write(`${pfDir}/sriov_numvfs`, `${g.vfs.length}\n`);
    real.symlink(`../../bus/pci/drivers/${g.driver}`, `${pfDir}/driver`);
    real.symlink(`../../../devices/pci0000:00/${g.pf}`, `${bus}/${g.pf}`);
    for (const v of g.vfs) {
      const dir = this.devDir(v.address);
      real.mkdir(dir, { recursive: true });
      real.symlink(`../${g.pf}`, `${dir}/physfn`);
      real.symlink(`../${v.address}`, `${pfDir}/virtfn${v.index}`);
      real.symlink(`../../../devices/pci0000:00/${v.address}`, `${bus}/${v.address}`);
      real.mkdir(`${dir}/vfio-dev/vfio${v.vfio}`, { recursive: true });
      real.mkdir(`${this.root}/sys/kernel/iommu_groups/${100 + v.vfio}`, { recursive: true });
      real.symlink(`../../kernel/iommu_groups/${100 + v.vfio}`, `${dir}/iommu_group`);
      real.write(`${this.root}/dev/vfio/devices/vfio${v.vfio}`, "");
      real.write(`${this.root}/dev/vfio/${100 + v.vfio}`, "");
    }
    for (const v of this.visible(g)) real.mkdir(`${this.devDir(v.address)}/nvidia`);
    this.syncFiles(g);
  }

  /** The VF a path under the tree names, by its PF's virtfn link or its own directory. */
  private vfAt(path: string): [GpuState, VfState] | undefined {
    const rel = path.startsWith(`${this.root}/`) ? path.slice(this.root.length + 1) : undefined;
    if (rel === undefined) return undefined;
    let m = /^sys\/bus\/pci\/devices\/([^/]+)\/virtfn([0-9]+)\/nvidia\/current_vgpu_type$/.exec(
      rel,
    );
    if (m !== null) {
      const g = this.gpus.get(m[1]!);
      const v = g === undefined ? undefined : this.visible(g)[Number(m[2])];
      return v === undefined ? undefined : [g!, v];
    }
    m = /^sys\/(?:bus\/pci\/devices|devices\/pci0000:00)\/([^/]+)\/nvidia\/current_vgpu_type$/
      .exec(rel);
    if (m === null) return undefined;
    for (const g of this.gpus.values()) {
      const v = this.visible(g).find((x) => x.address === m![1]);
      if (v !== undefined) return [g, v];
    }
    return undefined;
  }

  /** True when `path` is the VFIO device or group node of a VF a VM holds. */
  private busy(path: string): boolean {
    const m = /\/dev\/vfio\/(?:devices\/vfio([0-9]+)|([0-9]+))$/.exec(path);
    if (m === null || !path.startsWith(`${this.root}/dev/vfio/`)) return false;
    const n = m[1] !== undefined ? Number(m[1]) : Number(m[2]) - 100;
    for (const g of this.gpus.values()) {
      if (g.vfs.some((v) => v.vfio === n && v.inUse)) return true;
    }
    return false;
  }

  /** The hooked `Deno.openSync`. */
  private open(path: string | URL, opts?: Deno.OpenOptions): Deno.FsFile {
    const p = String(path);
    const writing = !!(opts?.write || opts?.append || opts?.truncate || opts?.create);
    if (writing && this.busy(p)) {
      throw new Deno.errors.Busy("Device or resource busy (os error 16)");
    }
    const at = writing ? this.vfAt(p) : undefined;
    if (at === undefined) return real.open(path, opts);
    const [g, v] = at;
    let text = "";
    return {
      writeSync: (bytes: Uint8Array) => {
        text = new TextDecoder().decode(bytes);
        const result = this.store(g, v, text);
        this.writes.push({ vf: v.address, pf: g.pf, value: text.trim(), result });
        if (result !== "ok") throw osError(result, `${result} (fake NVIDIA driver)`);
        this.syncFiles(g);
        return bytes.length;
      },
      close: () => {},
    } as unknown as Deno.FsFile;
  }

  /** Hooks `Deno.openSync` to this host's driver until the returned function is called. */
  install(): () => void {
    const deno = Deno as unknown as { openSync: typeof Deno.openSync };
    const saved = deno.openSync;
    deno.openSync = (path, opts) => this.open(path, opts);
    return () => {
      deno.openSync = saved;
    };
  }
}

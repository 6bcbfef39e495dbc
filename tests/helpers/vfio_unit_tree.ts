/**
 * A plain fake sysfs for the in-process unit tests of lib/vfio/ and the
 * host-file VFIO code: NVIDIA GPUs (PFs) with VFs laid out as the kernel
 * does (bus/pci/devices links into devices/, virtfnN and physfn links,
 * nvidia/ files). Plain files: writes to current_vgpu_type just store text,
 * and creatable lists change only when a test rewrites them.
 */
export interface FakeVf {
  /** current_vgpu_type text (default "0"). */
  current?: string;
  /** creatable_vgpu_types text. */
  creatable?: string;
  /** No nvidia/ directory (a VF still appearing). */
  noNvidia?: boolean;
  /** An mdev parent VF (Ampere). */
  mdev?: boolean;
}

export interface FakeGpu {
  address: string;
  device?: string;
  cls?: string;
  driver?: string;
  totalVfs?: number;
  vendor?: string;
  /** The PF is an mdev parent itself (mdev_supported_types). */
  mdevParent?: boolean;
  vfs: FakeVf[];
}

/** The VF address of index i of a PF `dddd:bb:00.0`: functions 4.. of the same slot, then next slots. */
export function vfAddress(pf: string, i: number): string {
  const [dom, bus] = pf.split(":");
  const n = i + 4;
  return `${dom}:${bus}:${String(Math.floor(n / 8)).padStart(2, "0")}.${n % 8}`;
}

/** Builds the GPUs under `root/sys` and `root/dev`; returns the VF addresses per GPU. */
export function buildVfioTree(root: string, gpus: FakeGpu[]): Map<string, string[]> {
  const devices = `${root}/sys/devices/pci0000:00`;
  const bus = `${root}/sys/bus/pci/devices`;
  Deno.mkdirSync(bus, { recursive: true });
  Deno.mkdirSync(`${root}/sys/bus/pci/drivers/nvidia`, { recursive: true });
  Deno.mkdirSync(`${root}/dev/vfio/devices`, { recursive: true });
  const out = new Map<string, string[]>();
  let vfioN = 0;
  for (const g of gpus) {
    const pfDir = `${devices}/${g.address}`;
    Deno.mkdirSync(pfDir, { recursive: true });
    Deno.writeTextFileSync(`${pfDir}/vendor`, `${g.vendor ?? "0x10de"}\n`);
    Deno.writeTextFileSync(`${pfDir}/device`, `${g.device ?? "0x26b9"}\n`);
    Deno.writeTextFileSync(`${pfDir}/class`, `${g.cls ?? "0x030200"}\n`);
    Deno.writeTextFileSync(`${pfDir}/sriov_totalvfs`, `${g.totalVfs ?? 32}\n`);
    Deno.writeTextFileSync(`${pfDir}/sriov_numvfs`, `${g.vfs.length}\n`);
    Deno.symlinkSync(`../../bus/pci/drivers/${g.driver ?? "nvidia"}`, `${pfDir}/driver`);
    if (g.mdevParent) Deno.mkdirSync(`${pfDir}/mdev_supported_types`);
    Deno.symlinkSync(`../../../devices/pci0000:00/${g.address}`, `${bus}/${g.address}`);
    const addrs: string[] = [];
    g.vfs.forEach((vf, i) => {
      const a = vfAddress(g.address, i);
      addrs.push(a);
      const dir = `${devices}/${a}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.symlinkSync(`../${g.address}`, `${dir}/physfn`);
      Deno.symlinkSync(`../${a}`, `${pfDir}/virtfn${i}`);
      Deno.symlinkSync(`../../../devices/pci0000:00/${a}`, `${bus}/${a}`);
      if (vf.mdev) Deno.mkdirSync(`${dir}/mdev_supported_types`);
      if (!vf.noNvidia && !vf.mdev) {
        Deno.mkdirSync(`${dir}/nvidia`);
        Deno.writeTextFileSync(`${dir}/nvidia/current_vgpu_type`, vf.current ?? "0\n");
        Deno.writeTextFileSync(`${dir}/nvidia/creatable_vgpu_types`, vf.creatable ?? "");
      }
      const n = vfioN++;
      Deno.mkdirSync(`${dir}/vfio-dev/vfio${n}`, { recursive: true });
      Deno.writeTextFileSync(`${root}/dev/vfio/devices/vfio${n}`, "");
      Deno.mkdirSync(`${root}/sys/kernel/iommu_groups/${100 + n}`, { recursive: true });
      Deno.symlinkSync(`../../kernel/iommu_groups/${100 + n}`, `${dir}/iommu_group`);
      Deno.writeTextFileSync(`${root}/dev/vfio/${100 + n}`, "");
    });
    out.set(g.address, addrs);
  }
  return out;
}

/** The nvidia/ file of VF `index` of a PF, by its link. */
export function vfFile(root: string, pf: string, index: number, file: string): string {
  return `${root}/sys/bus/pci/devices/${pf}/virtfn${index}/nvidia/${file}`;
}

/** `ID : Name` lines with NVIDIA's header. */
export function creatableText(types: [number, string][]): string {
  return "ID : vGPU Name\n" + types.map(([id, n]) => `${id} : ${n}\n`).join("");
}

/**
 * Vendor-specific VFIO GPUs (docs/vfio-vgpu.md): NVIDIA physical functions
 * whose SR-IOV virtual functions carry one vGPU each, chosen by writing a
 * numeric type id to the VF's `nvidia/current_vgpu_type`. Every read and
 * write of those files is here; paths come from the run's sysfs and /dev
 * (`env.sysfs`, `env.dev`), never from `/sys` spelled out.
 */
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { exists, openProbe, readDirOrNull, readLinkOrNull, readTextOrNull } from "../fs_probe.ts";
import { compareBytes } from "../order.ts";
import { basename, quotePath } from "../paths.ts";
import { parseCreatable, parseTypeId, type VgpuType } from "./creatable.ts";

export type { VgpuType } from "./creatable.ts";

/** NVIDIA's PCI vendor id. */
export const NVIDIA_VENDOR = "0x10de";
/** PCI class prefixes of a display controller: VGA and 3D. */
const GPU_CLASSES = ["0x0300", "0x0302"];
/** The driver a vendor-VFIO GPU is bound to. */
export const GPU_DRIVER = "nvidia";
/** What `--enable-vfs` runs when `MDEVCTL_SRIOV_MANAGE` is not set. */
export const DEFAULT_SRIOV_MANAGE = "/usr/lib/nvidia/sriov-manage";

/** One SR-IOV virtual function of a vendor-VFIO GPU. */
export interface VirtualFunction {
  /** PCI address of the VF (the vGPU's identity: there is no uuid). */
  address: string;
  /** N of the PF's `virtfnN` link. */
  index: number;
  /** PCI address of its GPU. */
  pf: string;
  /** `nvidia/current_vgpu_type`: 0 none; null when unreadable or not a decimal id ("unknown"). */
  currentType: number | null;
  /** The raw text of `current_vgpu_type` when it is not an id (for reports). */
  currentText?: string;
  /** `nvidia/creatable_vgpu_types` as read now. */
  creatable: VgpuType[];
  /** Name of its VFIO device (`vfio3` -> /dev/vfio/devices/vfio3). */
  vfioDevice?: string;
  /** Its IOMMU group (-> /dev/vfio/<group>). */
  iommuGroup?: string;
}

/** A GPU (physical function) bound to `nvidia` whose VFs are vendor-VFIO. */
export interface VfioGpu {
  address: string;
  vendor: string;
  device: string;
  driver: string;
  totalVfs: number;
  numVfs: number;
  /** Its VFs that have an `nvidia/` directory, by index. */
  vfs: VirtualFunction[];
  /** `virtfnN` links present: more than `vfs.length` while VFs are still appearing. */
  linkedVfs: number;
}

/**
 * VFs enabled and each showing its `nvidia/` directory: the GPU can take
 * vGPUs (`wait --vfio` waits for this; a plan treats other GPUs as not ready).
 */
export function vfsReady(gpu: VfioGpu): boolean {
  return gpu.numVfs > 0 && gpu.linkedVfs > 0 && gpu.vfs.length === gpu.linkedVfs;
}

/** `sys/bus/pci/devices` where this run reaches it. */
export function pciDevicesDir(env: Environment): string {
  return `${env.sysfs}/bus/pci/devices`;
}

/** A VF's directory, through its PF's `virtfnN` link (present in every sysfs layout). */
export function vfDir(env: Environment, vf: Pick<VirtualFunction, "pf" | "index">): string {
  return `${pciDevicesDir(env)}/${vf.pf}/virtfn${vf.index}`;
}

// Absent means NotFound (or ENODEV, a VF going away mid-read); any other
// failure surfaces with its path (lib/fs_probe.ts, the one error rule).
function readText(path: string): string | undefined {
  return readTextOrNull(path) ?? undefined;
}

function linkName(path: string): string | undefined {
  const target = readLinkOrNull(path);
  return target === null ? undefined : basename(target);
}

function names(path: string): string[] {
  return (readDirOrNull(path) ?? []).map((e) => e.name);
}

function count(path: string): number {
  const n = parseTypeId(readText(path) ?? "");
  return n ?? 0;
}

/** The `virtfnN` links of a PF, ordered by N (not by name: virtfn10 after virtfn9). */
function virtfnIndexes(pfDir: string): number[] {
  const out: number[] = [];
  for (const name of names(pfDir)) {
    const m = /^virtfn([0-9]+)$/.exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** Reads one VF; undefined when it has no `nvidia/` directory (not vendor-VFIO, or not yet). */
export function readVf(env: Environment, pf: string, index: number): VirtualFunction | undefined {
  const dir = vfDir(env, { pf, index });
  const address = linkName(dir);
  if (address === undefined || !exists(`${dir}/nvidia`)) return undefined;
  const raw = readText(`${dir}/nvidia/current_vgpu_type`);
  const currentType = raw === undefined ? null : parseTypeId(raw);
  const vf: VirtualFunction = {
    address,
    index,
    pf,
    currentType,
    creatable: parseCreatable(readText(`${dir}/nvidia/creatable_vgpu_types`) ?? ""),
  };
  if (currentType === null) vf.currentText = raw === undefined ? "(unreadable)" : raw.trim();
  const vfio = names(`${dir}/vfio-dev`).filter((n) => /^vfio[0-9]+$/.test(n)).sort(compareBytes);
  if (vfio.length > 0) vf.vfioDevice = vfio[0]!;
  const group = linkName(`${dir}/iommu_group`);
  if (group !== undefined) vf.iommuGroup = group;
  return vf;
}

/**
 * The cheap probe of the monitor's poll ticks: `sriov_numvfs` of a GPU and
 * the `current_vgpu_type` of each given VF index (undefined when unreadable,
 * null when not an id). A tick reads two files per VF less this way.
 */
export function probeCurrentTypes(
  env: Environment,
  pf: string,
  indexes: readonly number[],
): { numVfs: number; types: (number | null | undefined)[] } {
  const dir = `${pciDevicesDir(env)}/${pf}`;
  const types = indexes.map((i) => {
    const raw = readText(`${dir}/virtfn${i}/nvidia/current_vgpu_type`);
    return raw === undefined ? undefined : parseTypeId(raw);
  });
  return { numVfs: count(`${dir}/sriov_numvfs`), types };
}

/**
 * The GPU at a PCI address when it is a vendor-VFIO GPU: NVIDIA, a display
 * class, SR-IOV capable, bound to `nvidia`, and neither it nor any of its
 * VFs an mdev parent (Ampere's SR-IOV vGPU, which the mdev code handles).
 */
export function readVfioGpu(env: Environment, address: string): VfioGpu | undefined {
  const dir = `${pciDevicesDir(env)}/${address}`;
  if (readText(`${dir}/vendor`)?.trim().toLowerCase() !== NVIDIA_VENDOR) return undefined;
  const cls = readText(`${dir}/class`)?.trim().toLowerCase() ?? "";
  if (!GPU_CLASSES.some((c) => cls.startsWith(c))) return undefined;
  const total = readText(`${dir}/sriov_totalvfs`);
  if (total === undefined) return undefined;
  const driver = linkName(`${dir}/driver`);
  if (driver !== GPU_DRIVER) return undefined;
  // An mdev parent itself, or a GPU whose VFs are mdev parents (Ampere): the mdev code's.
  if (exists(`${dir}/mdev_supported_types`)) return undefined;
  const indexes = virtfnIndexes(dir);
  if (indexes.some((i) => exists(`${dir}/virtfn${i}/mdev_supported_types`))) return undefined;
  const vfs: VirtualFunction[] = [];
  for (const i of indexes) {
    const vf = readVf(env, address, i);
    if (vf !== undefined) vfs.push(vf);
  }
  return {
    address,
    vendor: NVIDIA_VENDOR,
    device: readText(`${dir}/device`)?.trim() ?? "",
    driver,
    totalVfs: parseTypeId(total) ?? 0,
    numVfs: count(`${dir}/sriov_numvfs`),
    vfs,
    linkedVfs: indexes.length,
  };
}

/**
 * Every vendor-VFIO GPU of the host, by PCI address (byte order), or only
 * `only` when given. VFs themselves are never GPUs here (they have no
 * `sriov_totalvfs`).
 */
export function readVfioGpus(env: Environment, only?: string): VfioGpu[] {
  const addresses = only !== undefined ? [only] : names(pciDevicesDir(env)).sort(compareBytes);
  const out: VfioGpu[] = [];
  for (const a of addresses) {
    const gpu = readVfioGpu(env, a);
    if (gpu !== undefined) out.push(gpu);
  }
  return out;
}

/** True when the VF's VFIO device or its group is open elsewhere (open read-write: EBUSY). */
export function vfInUse(env: Environment, vf: VirtualFunction): boolean {
  const paths: string[] = [];
  if (vf.vfioDevice !== undefined) paths.push(`${env.dev}/vfio/devices/${vf.vfioDevice}`);
  if (vf.iommuGroup !== undefined) paths.push(`${env.dev}/vfio/${vf.iommuGroup}`);
  for (const path of paths) {
    const probe = openProbe(path);
    if (probe === "busy") return true;
    if (typeof probe === "object") {
      env.logger.warn(
        `cannot tell whether VF ${vf.address} is in use: ${quotePath(env.shownPath(path))}: ${
          describeError(probe.error)
        }`,
      );
    }
  }
  return false;
}

function writeType(env: Environment, vf: VirtualFunction, id: number): void {
  const path = `${vfDir(env, vf)}/nvidia/current_vgpu_type`;
  try {
    // One write(2) of the decimal text, as `echo ID >` does (O_TRUNC is
    // harmless on sysfs and keeps a plain-file fake tree exact).
    const f = Deno.openSync(path, { write: true, truncate: true });
    try {
      f.writeSync(new TextEncoder().encode(`${id}\n`));
    } finally {
      f.close();
    }
  } catch (e) {
    throw MdevError.wrap(`Failed to write ${id} to ${quotePath(env.shownPath(path))}`, e);
  }
  const back = readText(path);
  const now = back === undefined ? null : parseTypeId(back);
  if (now !== id) {
    throw new MdevError(
      `VF ${vf.address} reads back ${
        back === undefined ? "nothing" : JSON.stringify(back.trim())
      } after writing ${id} to ${quotePath(env.shownPath(path))}`,
    );
  }
}

/**
 * Creates a vGPU of type `id` on a free VF: re-reads the VF (it must still
 * hold no vGPU, and list `id` as creatable now, since siblings consume the
 * GPU's capacity), writes the id, and reads it back.
 */
export function assignVgpu(env: Environment, vf: VirtualFunction, id: number): void {
  const now = readVf(env, vf.pf, vf.index);
  if (now === undefined || now.address !== vf.address) {
    throw new MdevError(`VF ${vf.address} of ${vf.pf} is gone`);
  }
  if (now.currentType !== 0) {
    throw new MdevError(
      `VF ${vf.address} is no longer free: it holds type ${now.currentType ?? now.currentText}`,
    );
  }
  if (!now.creatable.some((t) => t.id === id)) {
    throw new MdevError(
      `type ${id} is not creatable on VF ${vf.address} now (the GPU's capacity is used)`,
    );
  }
  writeType(env, now, id);
}

/** Deletes the vGPU of a VF (writes 0) and checks that it reads back 0. */
export function releaseVgpu(env: Environment, vf: VirtualFunction): void {
  writeType(env, vf, 0);
}

/** The program `--enable-vfs` runs: `MDEVCTL_SRIOV_MANAGE`, else NVIDIA's path. */
export function sriovManagePath(env: Environment): string {
  return env.sriovManage ?? DEFAULT_SRIOV_MANAGE;
}

/**
 * Runs `sriov-manage -e <pf>`, which returns once the VFs exist. Its output
 * goes to stderr (stdout is for what callers parse); a failure or a
 * non-zero exit throws, naming the program.
 */
export async function enableVfs(env: Environment, pf: string): Promise<void> {
  const program = sriovManagePath(env);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(program, { args: ["-e", pf], stdin: "null" }).output();
  } catch (e) {
    throw MdevError.wrap(`Failed to run ${quotePath(program)} -e ${pf}`, e);
  }
  if (out.stdout.length > 0) env.stderr(out.stdout);
  if (out.stderr.length > 0) env.stderr(out.stderr);
  if (!out.success) {
    throw new MdevError(`${quotePath(program)} -e ${pf} exited with status ${out.code}`);
  }
}

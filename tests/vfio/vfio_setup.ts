/**
 * Shared set-up of the vendor-VFIO black-box tests: GPUs on a fake host, the
 * fake NVIDIA kernel mounted over them (tests/helpers/fake_nvidia.ts), host
 * files and the owner's ledger.
 */
import { FakeHost, type HostSpec, vfAddress, type VfioGpuSpec } from "../helpers/fake_host.ts";
import {
  type FakeKernel,
  fakeKernelMissing,
  type KernelModel,
  withKernel,
} from "../helpers/fake_nvidia.ts";
import { requiring } from "../helpers/requires.ts";

export { vfAddress };

/** Four L40S PFs, on buses 41, 42, 43 and 44. */
export const GPUS = ["0000:41:00.0", "0000:42:00.0", "0000:43:00.0", "0000:44:00.0"];
export const [G0, G1, G2, G3] = GPUS as [string, string, string, string];

/** VF `index` of PF `pf`. */
export const vf = (pf: string, index: number) => vfAddress(pf, index);

const MISSING = fakeKernelMissing();

/**
 * A test on a host with the fake kernel: ignored (with the reason) where FUSE
 * cannot run. The kernel's process outlives single calls, so the resource
 * sanitizer is off (the kernel is stopped in a `finally`).
 */
export function kernelTest(
  name: string,
  spec: HostSpec,
  model: KernelModel,
  body: (host: FakeHost, kernel: FakeKernel) => Promise<void>,
  prepare?: (host: FakeHost) => Promise<void>,
): void {
  Deno.test({
    ...requiring(name, MISSING, async () => {
      const host = await FakeHost.create(spec);
      await vfioNodes(host);
      await prepare?.(host);
      await withKernel(host, model, (kernel) => body(host, kernel));
    }),
    sanitizeResources: false,
  });
}

/** GPU specs for `pfs` with the same extra settings. */
export function gpus(pfs: string[], extra: Partial<VfioGpuSpec> = {}): VfioGpuSpec[] {
  return pfs.map((pf) => ({ pf, ...extra }));
}

/**
 * The device files of every VF: dev/vfio/devices/vfioN and dev/vfio/<group>
 * (plain files here; the fake kernel over dev/vfio makes chosen ones busy).
 */
export async function vfioNodes(host: FakeHost): Promise<void> {
  await Deno.mkdir(host.path("dev/vfio/devices"), { recursive: true });
  let n = 0;
  for (const gpu of host.vfioGpus.values()) {
    for (let i = 0; i < (gpu.totalVfs ?? 4); i++, n++) {
      await Deno.writeTextFile(host.path(`dev/vfio/devices/vfio${n}`), "");
      await Deno.writeTextFile(host.path(`dev/vfio/${100 + n}`), "");
    }
  }
}

/** Writes the host file etc/mdevctl/<name> and returns its path. */
export async function hostFile(host: FakeHost, text: string, name = "host.yaml"): Promise<string> {
  await Deno.mkdir(host.path("etc/mdevctl"), { recursive: true });
  const path = host.path(`etc/mdevctl/${name}`);
  await Deno.writeTextFile(path, text);
  return path;
}

/** A host file of one VFIO pool `l40s` (owner vgpu) of L40S-12Q. */
export function poolFile(placement: string, type = "{nameToken: L40S-12Q}"): string {
  return `version: 1
owner: vgpu
pools:
  - name: l40s
    type: ${type}
    parents: {driver: nvidia, pciVendor: ["0x10de"]}
    ${placement}
`;
}

/** What `current_vgpu_type` of each VF of `pf` reads now, by VF index. */
export async function currents(host: FakeHost, pf: string): Promise<string[]> {
  const out: string[] = [];
  const n = host.vfioGpus.get(pf)!.totalVfs ?? 4;
  for (let i = 0; i < n; i++) {
    out.push(
      (await Deno.readTextFile(host.path(`${host.vfDir(pf, i)}/nvidia/current_vgpu_type`))).trim(),
    );
  }
  return out;
}

/** The `vfs` key of the owner's ledger ({} when absent). */
export async function ledgerVfs(
  host: FakeHost,
  owner = "vgpu",
): Promise<Record<string, { pf: string; typeId: number; typeName: string; origin: unknown }>> {
  try {
    const doc = JSON.parse(await host.read(`var/lib/mdevctl/owners/${owner}.json`));
    return doc.vfs ?? {};
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
}

/** Lines of `text` without a trailing ` status=...`, for comparing apply with diff. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

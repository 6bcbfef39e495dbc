/**
 * `wait --vfio` (docs/vfio-vgpu.md "Boot"): a vendor-VFIO GPU is ready once
 * its VFs are enabled and every `virtfnN` shows its `nvidia/` directory.
 * What is missing is named as the other waits name it: a top line and the
 * path waited for.
 */
import type { Environment } from "../environment.ts";
import { pciDevicesDir, readVfioGpu, readVfioGpus, type VfioGpu } from "../vfio/gpus.ts";
import type { Missing } from "../sysfs/readiness.ts";

/** What one GPU lacks, or null when its VFs are there. */
function gpuMissing(env: Environment, gpu: VfioGpu): Missing | null {
  const dir = `${pciDevicesDir(env)}/${gpu.address}`;
  if (gpu.numVfs === 0 || gpu.linkedVfs === 0) {
    return { top: `GPU ${gpu.address} has no VFs enabled`, path: `${dir}/sriov_numvfs` };
  }
  const have = new Set(gpu.vfs.map((vf) => vf.index));
  for (let i = 0; i < gpu.linkedVfs; i++) {
    if (!have.has(i)) {
      return {
        top: `VF ${i} of GPU ${gpu.address} is not ready`,
        path: `${dir}/virtfn${i}/nvidia`,
      };
    }
  }
  return null;
}

/**
 * With `pf`: that GPU is a vendor-VFIO GPU with its VFs. Without: every GPU
 * the scan recognises has its VFs (none recognised: ready).
 */
export function checkVfio(env: Environment, pf: string | undefined): Missing | null {
  if (pf !== undefined) {
    const gpu = readVfioGpu(env, pf);
    if (gpu === undefined) {
      return {
        top: `Unable to find vendor-VFIO GPU '${pf}' (NVIDIA, SR-IOV, bound to nvidia)`,
        path: `${pciDevicesDir(env)}/${pf}`,
      };
    }
    return gpuMissing(env, gpu);
  }
  for (const gpu of readVfioGpus(env)) {
    const missing = gpuMissing(env, gpu);
    if (missing !== null) return missing;
  }
  return null;
}

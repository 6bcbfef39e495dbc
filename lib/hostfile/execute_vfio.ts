/**
 * Carrying out the VFIO changes of a plan (docs/vfio-vgpu.md "Apply"):
 * release, reassign and assign, each on the VF as it is now. A release or
 * reassign of a VF whose VFIO device or group is open is skipped (in-use);
 * an assign whose type the VF no longer lists (the GPU's capacity went to
 * others) is skipped (capacity) and leaves the want unsatisfied, and so is a
 * reassign whose type the emptied VF does not list (its old type goes back).
 */
import type { Environment } from "../environment.ts";
import { MdevError } from "../errors.ts";
import {
  assignVgpu,
  readVfioGpu,
  releaseVgpu,
  vfInUse,
  type VirtualFunction,
} from "../vfio/gpus.ts";
import type { Change, VfTarget } from "./changes.ts";

/** The skip reason of an assign the VF cannot take now. */
export const CAPACITY = "capacity";

/** What execute.ts lends the VFIO phases. */
export interface Steps {
  env: Environment;
  /** Runs a step, recording done or failed, or skipped for the reason the step returns. */
  run(c: Change, step: () => Promise<void | string>): Promise<void>;
  /** False once the run stopped, was interrupted, or this change's target was blocked. */
  ready(c: Change): boolean;
  /** Records a skip; with `failure`, as a failure of the run (exit 1). */
  skip(c: Change, reason: string, failure?: string): void;
}

/** The VF a change names, as it is now; throws when it is gone. */
function current(env: Environment, t: VfTarget): VirtualFunction {
  const vf = readVfioGpu(env, t.pf)?.vfs.find((v) => v.address === t.vf);
  if (vf === undefined) throw new MdevError(`VF ${t.vf} of ${t.pf} is gone`);
  return vf;
}

function expectType(vf: VirtualFunction, id: number): void {
  if (vf.currentType !== id) {
    throw new MdevError(
      `VF ${vf.address} holds ${
        vf.currentType ?? JSON.stringify(vf.currentText)
      }, not ${id} as planned: changed meanwhile`,
    );
  }
}

/** A VF in use is skipped; true when it was. */
function skipInUse(s: Steps, c: Change): boolean {
  if (!s.ready(c)) return false;
  let vf: VirtualFunction;
  try {
    vf = current(s.env, c.vfio!);
  } catch {
    return false; // the step itself reports the VF gone
  }
  if (!vfInUse(s.env, vf)) return false;
  s.skip(c, "in-use", `${c.action} of VF ${vf.address} skipped: its VFIO device is in use`);
  return true;
}

/** Releases owned VFs nobody wants (`--prune`). */
export async function releaseVfs(s: Steps, changes: readonly Change[]): Promise<void> {
  for (const c of changes) {
    if (skipInUse(s, c)) continue;
    await s.run(c, () => {
      const vf = current(s.env, c.vfio!);
      expectType(vf, c.vfio!.typeId);
      releaseVgpu(s.env, vf);
      return Promise.resolve();
    });
  }
}

/**
 * Sets owned VFs changed by hand back to their pool's type: release, then
 * assign. A VF holding a vGPU lists nothing, so whether the pool's type fits
 * shows only once it is empty; when it does not (the GPU's room or sizes),
 * the hand-set type is written back and the change is skipped (capacity).
 */
export async function reassignVfs(s: Steps, changes: readonly Change[]): Promise<void> {
  for (const c of changes) {
    if (skipInUse(s, c)) continue;
    await s.run(c, () => {
      const vf = current(s.env, c.vfio!);
      const from = c.vfio!.from!.typeId;
      expectType(vf, from);
      releaseVgpu(s.env, vf);
      const empty = current(s.env, c.vfio!);
      if (!empty.creatable.some((t) => t.id === c.vfio!.typeId)) {
        assignVgpu(s.env, empty, from);
        return Promise.resolve(CAPACITY);
      }
      assignVgpu(s.env, empty, c.vfio!.typeId);
      return Promise.resolve();
    });
  }
}

/** Creates the planned vGPUs, each after re-reading the VF's creatable list. */
export async function assignVfs(s: Steps, changes: readonly Change[]): Promise<void> {
  for (const c of changes) {
    if (s.ready(c)) {
      const vf = readVfioGpu(s.env, c.vfio!.pf)?.vfs.find((v) => v.address === c.vfio!.vf);
      if (vf?.currentType === 0 && !vf.creatable.some((t) => t.id === c.vfio!.typeId)) {
        s.skip(c, CAPACITY);
        continue;
      }
    }
    await s.run(c, () => {
      assignVgpu(s.env, current(s.env, c.vfio!), c.vfio!.typeId);
      return Promise.resolve();
    });
  }
}

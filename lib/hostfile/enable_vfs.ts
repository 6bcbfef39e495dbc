/**
 * `apply --enable-vfs` (docs/vfio-vgpu.md "VFs not enabled"): runs
 * `sriov-manage -e` for each GPU a VFIO pool selects whose VFs are
 * disabled, then waits briefly for the VFs to show their `nvidia/`
 * directories. Never without the flag: the plan reports such GPUs instead.
 */
import type { Environment } from "../environment.ts";
import { causeChain, MdevError } from "../errors.ts";
import { enableVfs, readVfioGpu, vfsReady } from "../vfio/gpus.ts";

/** How long apply waits for enabled VFs to appear. */
const APPEAR_MS = 10_000;
const POLL_MS = 100;

/** One GPU's result: the line apply prints, and the error when it failed. */
export interface Enabled {
  pf: string;
  line: string;
  error?: MdevError;
}

/** Enables the VFs of each GPU; failures are returned, not thrown. */
export async function enableGpus(env: Environment, pfs: readonly string[]): Promise<Enabled[]> {
  const out: Enabled[] = [];
  for (const pf of pfs) {
    try {
      await enableVfs(env, pf);
      const deadline = Date.now() + APPEAR_MS;
      while (!ready(env, pf) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      out.push({ pf, line: `+ ${pf} enable-vfs status=done` });
    } catch (e) {
      const chain = causeChain(e);
      out.push({
        pf,
        line: `+ ${pf} enable-vfs status=failed` + chain.map((c) => `\n  cause: ${c}`).join(""),
        error: new MdevError(`enable-vfs of ${pf} failed`, chain),
      });
    }
  }
  return out;
}

function ready(env: Environment, pf: string): boolean {
  const gpu = readVfioGpu(env, pf);
  return gpu !== undefined && vfsReady(gpu);
}

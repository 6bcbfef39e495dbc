/**
 * Naming the type ids of vendor-VFIO GPUs for the listings and the planner
 * (docs/vfio-vgpu.md "Names"): what sysfs lists now, then what the owners'
 * ledgers remember from when they assigned an id.
 */
import type { Environment } from "../environment.ts";
import type { VfioGpu } from "../vfio/gpus.ts";
import { type NameTable, nameTable } from "../vfio/names.ts";
import { type Ledger, readLedgers, rememberedNames } from "./ledger.ts";

/** A namer over every GPU of the host and the given ledgers. */
export function namerOf(
  all: readonly VfioGpu[],
  ledgers: ReadonlyMap<string, Ledger>,
): (gpu: VfioGpu) => NameTable {
  return (gpu) => nameTable(gpu, all, rememberedNames(ledgers, gpu.address));
}

/** The namer of the listings: every ledger readable (an unreadable one is warned about). */
export function hostNamer(env: Environment, all: readonly VfioGpu[]): (gpu: VfioGpu) => NameTable {
  return namerOf(all, readLedgers(env, null));
}

/**
 * `export` (hostfile.md §9): the host's definitions as a version 1 host file
 * of explicit devices, deterministic (sorted, no timestamp, every string
 * double-quoted). Pure: the caller passes the yaml module.
 */
import type { MdevConfig } from "../config.ts";
import { compareBytes } from "../order.ts";
import { compareParents } from "../parent_order.ts";

export interface ExportedDevice {
  parent: string;
  uuid: string;
  config: MdevConfig;
}

/** A VFIO pool as export writes it: the owner's in-sync VFs of one ledger pool. */
export interface ExportedPool {
  name: string;
  /** The short type name; undefined when nothing names the id (then `{id: …}`). */
  nameToken: string | undefined;
  typeId: number;
  /** The GPUs holding its VFs, sorted. */
  gpus: string[];
  count: number;
}

type YamlModule = typeof import("npm:yaml@2.9.1");

/**
 * The owner an export is written for: `--owner` when given; else the one
 * owner whose ledger holds devices, so that applying the file again finds
 * them managed instead of foreign; else `default`.
 *
 * @example
 * ```ts
 * import { exportOwner } from "./export.ts";
 * const pool = { owner: "gpu-pool", devices: new Map([["u", {} as never]]) };
 * console.assert(exportOwner(undefined, new Map([["gpu-pool", pool]])).owner === "gpu-pool");
 * console.assert(exportOwner("crypto", new Map([["gpu-pool", pool]])).owner === "crypto");
 * console.assert(exportOwner(undefined, new Map()).owner === "default");
 * ```
 */
export function exportOwner(
  given: string | undefined,
  ledgers: ReadonlyMap<
    string,
    { devices: ReadonlyMap<string, unknown>; vfs?: ReadonlyMap<string, unknown> }
  >,
): { owner: string; inferred: boolean } {
  if (given !== undefined) return { owner: given, inferred: false };
  const holding = [...ledgers].filter(([, l]) => l.devices.size > 0 || (l.vfs?.size ?? 0) > 0)
    .map(([name]) => name);
  return holding.length === 1
    ? { owner: holding[0]!, inferred: true }
    : { owner: "default", inferred: false };
}

/** A pool entry of the exported file: count over the GPUs that hold it now. */
function poolEntry(p: ExportedPool): Record<string, unknown> {
  return {
    name: p.name,
    type: p.nameToken === undefined ? { id: String(p.typeId) } : { nameToken: p.nameToken },
    parents: { names: p.gpus },
    count: p.count,
  };
}

/**
 * The host file text for `devices`, sorted by parent (§3) then uuid, and
 * the VFIO `pools` (docs/vfio-vgpu.md "Export"), by name, when there are any.
 */
export function renderExport(
  Y: YamlModule,
  owner: string,
  devices: ExportedDevice[],
  pools: readonly ExportedPool[] = [],
): string {
  const sorted = [...devices].sort((a, b) =>
    compareParents(a.parent, b.parent) || compareBytes(a.uuid, b.uuid)
  );
  const doc = new Y.Document({
    version: 1,
    owner,
    devices: sorted.map((d) => {
      const entry: Record<string, unknown> = {
        uuid: d.uuid,
        parent: d.parent,
        type: d.config.type,
        start: d.config.autostart ? "auto" : "manual",
      };
      if (d.config.attrs.length > 0) {
        entry.attrs = d.config.attrs.map(([k, v]) => {
          // A map built pair by pair: a plain object would reorder index-like names.
          const m = new Y.YAMLMap();
          m.add(new Y.Pair(new Y.Scalar(k), new Y.Scalar(v)));
          return m;
        });
      }
      return entry;
    }),
    ...(pools.length === 0 ? {} : {
      pools: [...pools].sort((a, b) => compareBytes(a.name, b.name)).map(poolEntry),
    }),
  });
  return doc.toString({
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    lineWidth: 0,
    minContentWidth: 0,
  });
}

/**
 * The owner's VFIO pools as they stand: per ledger pool, the VFs that hold
 * the recorded type now. Those that do not (emptied, changed by hand) are
 * left out and counted, for the caller to say so.
 */
export function exportedPools(
  vfs: ReadonlyMap<string, { pf: string; typeId: number; origin: { pool: string } }>,
  current: (vf: string) => number | null | undefined,
  short: (pf: string, id: number) => string | undefined,
  onlyGpu?: string,
): { pools: ExportedPool[]; leftOut: number } {
  const byPool = new Map<string, { typeId: number; gpus: Set<string>; count: number }>();
  let leftOut = 0;
  for (const [vf, e] of vfs) {
    if (onlyGpu !== undefined && e.pf !== onlyGpu) continue;
    const p = byPool.get(e.origin.pool);
    if (current(vf) !== e.typeId || (p !== undefined && p.typeId !== e.typeId)) {
      leftOut++;
      continue;
    }
    if (p === undefined) {
      byPool.set(e.origin.pool, { typeId: e.typeId, gpus: new Set([e.pf]), count: 1 });
    } else {
      p.gpus.add(e.pf);
      p.count++;
    }
  }
  const pools = [...byPool].map(([name, p]): ExportedPool => {
    const gpus = [...p.gpus].sort(compareParents);
    return { name, nameToken: short(gpus[0]!, p.typeId), typeId: p.typeId, gpus, count: p.count };
  });
  return { pools, leftOut };
}

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
  ledgers: ReadonlyMap<string, { devices: ReadonlyMap<string, unknown> }>,
): { owner: string; inferred: boolean } {
  if (given !== undefined) return { owner: given, inferred: false };
  const holding = [...ledgers].filter(([, l]) => l.devices.size > 0).map(([name]) => name);
  return holding.length === 1
    ? { owner: holding[0]!, inferred: true }
    : { owner: "default", inferred: false };
}

/** The host file text for `devices`, sorted by parent (§3) then uuid. */
export function renderExport(Y: YamlModule, owner: string, devices: ExportedDevice[]): string {
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
  });
  return doc.toString({
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    lineWidth: 0,
    minContentWidth: 0,
  });
}

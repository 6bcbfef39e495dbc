/**
 * Whether a registered parent is ready for a host file (hostfile.md §5
 * "Not-ready parent"). A parent whose driver is restarting or whose types are
 * still being populated looks, for a moment, as if it offered nothing: a
 * plan that read that as "not wanted" would prune a whole pool. Pure.
 */
import type { NotReadyReason } from "./changes.ts";
import type { ParentInfo } from "./snapshot.ts";

/**
 * Why the parent is not ready, or `null` when it is:
 * - `no-driver`: it sits on a bus (PCI, css, ap) but no driver is bound.
 *   Class devices (the mtty sample's parent) never have a driver link.
 * - `no-types`: its `mdev_supported_types` is empty or missing.
 * - `type-missing`: a type of a managed device it holds is not offered.
 *
 * @example
 * ```ts
 * import { parentReadiness } from "./readiness.ts";
 * const p = {
 *   name: "0000:3b:00.0", driver: "nvidia", vendor: undefined, device: undefined,
 *   physfn: undefined, onBus: true,
 *   types: new Map([["nvidia-222", { name: "GRID T4-1Q", available: 16 }]]),
 * };
 * console.assert(parentReadiness(p, ["nvidia-222"]) === null);
 * console.assert(parentReadiness(p, ["nvidia-223"]) === "type-missing");
 * console.assert(parentReadiness({ ...p, driver: undefined }, []) === "no-driver");
 * console.assert(parentReadiness({ ...p, types: new Map() }, []) === "no-types");
 * ```
 */
export function parentReadiness(
  p: ParentInfo,
  heldTypes: Iterable<string>,
): NotReadyReason | null {
  if (p.onBus && p.driver === undefined) return "no-driver";
  if (p.types.size === 0) return "no-types";
  for (const t of heldTypes) if (!p.types.has(t)) return "type-missing";
  return null;
}

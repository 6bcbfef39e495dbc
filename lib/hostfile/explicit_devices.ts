/**
 * The checks an explicit device of a host file passes before the plan
 * wants it (hostfile.md §3 "Unmatched", §5 "Not-ready parent"). Pure.
 */
import type { Unmatched } from "./changes.ts";
import type { HostView } from "./host_view.ts";
import type { DeviceSpec } from "./schema.ts";
import { suggestType } from "./selectors.ts";

/**
 * §3 "Unmatched" for an explicit device: its parent is registered and ready
 * but does not offer its type. An unregistered parent is allowed, as
 * `define` allows it; a not-ready one too (its types may come later).
 */
export function unmatchedDevice(dev: DeviceSpec, host: HostView): Unmatched | undefined {
  if (!host.isReady(dev.parent)) return undefined;
  const p = host.snap.parents.get(dev.parent)!;
  if (p.types.has(dev.type)) return undefined;
  const base = {
    parent: dev.parent,
    uuid: dev.uuid,
    type: dev.type,
    reason: `${dev.parent} does not offer type ${dev.type}`,
  };
  const suggestion = suggestType({ kind: "id", value: dev.type }, [p]);
  return suggestion === undefined ? base : { ...base, suggestion };
}

/**
 * An explicit device the file gives another type while the parent it is
 * defined on is registered but not ready: it stays as it is (retained,
 * reported). The types a parent holds decide `type-missing`, so the change
 * could make that parent ready, and the next apply would place and prune
 * there what this one did not: the plan would not converge. Changing
 * nothing on a parent in a transient state is also the conservative choice
 * (§5). (A move to another parent needs no such rule: a device still
 * defined or running on the old one is a conflict, and one that is not
 * holds nothing there.)
 */
export function heldChange(dev: DeviceSpec, host: HostView): Unmatched | undefined {
  const managed = host.own.devices.get(dev.uuid);
  if (managed === undefined || managed.parent !== dev.parent || managed.type === dev.type) {
    return undefined;
  }
  const reason = host.notReady.get(dev.parent);
  if (reason === undefined) return undefined;
  return {
    parent: dev.parent,
    uuid: dev.uuid,
    type: dev.type,
    reason:
      `${dev.parent} is not ready (${reason}); the device keeps type ${managed.type} until it is`,
  };
}

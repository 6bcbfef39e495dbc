/**
 * The host-file hook of the 1.x writers (hostfile.md §5): `undefine` and
 * `modify` warn when a host file owns the device. The ledger code is
 * imported only when some ledger exists, so hosts without host files pay
 * one failed directory lookup.
 */
import type { Environment } from "../environment.ts";
import { isAbsent } from "../fs_probe.ts";

export async function warnIfManaged(env: Environment, uuid: string): Promise<void> {
  try {
    Deno.statSync(env.path("var/lib/mdevctl/owners"));
  } catch (e) {
    // No ledgers: nothing to warn about. Any other failure is for the
    // ledger module to say (managingOwner warns why it cannot tell).
    if (isAbsent(e)) return;
  }
  const ledger = await import("../hostfile/ledger.ts");
  ledger.warnIfManaged(env, uuid);
}

/**
 * The host-file hook of the 1.x writers (hostfile.md §5): `undefine` and
 * `modify` warn when a host file owns the device. The ledger code is
 * imported only when some ledger exists, so hosts without host files pay
 * one failed directory lookup.
 */
import type { Environment } from "../environment.ts";

/** Warns on stderr when a host file's ledger owns `uuid`. */
export async function warnIfManaged(env: Environment, uuid: string): Promise<void> {
  try {
    Deno.statSync(env.ownersDir);
  } catch {
    // No ledgers, or no way to look (a path the sandbox refuses): the
    // courtesy warning needs them; the command's own reads (lock, configs)
    // report anything that matters to it, and apply fails on it.
    return;
  }
  const ledger = await import("./ledger.ts");
  ledger.warnIfManaged(env, uuid);
}

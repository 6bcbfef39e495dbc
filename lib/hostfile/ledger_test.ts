import { deepEqual, equal, match, throws } from "node:assert/strict";
import { withFakeEnv } from "../testing.ts";
import {
  type Ledger,
  ledgerPath,
  managingOwner,
  parseLedger,
  readLedgers,
  serializeLedger,
  writeLedgerIfChanged,
} from "./ledger.ts";

const U = "11111111-1111-0000-0000-000000000000";

function ledger(owner: string): Ledger {
  return {
    owner,
    devices: new Map([[U, {
      parent: "0000:00:02.0",
      type: "t1",
      origin: { pool: "gpu", slot: 0 },
      sha256: "ab",
    }]]),
  };
}

Deno.test("ledger: serialize and parse are inverse; a wrong owner is refused", () => {
  const text = serializeLedger(ledger("ops"));
  deepEqual(parseLedger(text, "ops"), ledger("ops"));
  throws(() => parseLedger(text, "other"), { message: 'owner "ops" does not match the file name' });
  throws(() => parseLedger("[]", "ops"), { message: /^not a version 1 ledger/ });
});

Deno.test("ledger: written once, unchanged writes are skipped, read back by owner", () =>
  withFakeEnv(({ env }) => {
    equal(readLedgers(env, null).size, 0);
    equal(writeLedgerIfChanged(env, { owner: "ops", devices: new Map() }), false);
    equal(writeLedgerIfChanged(env, ledger("ops")), true);
    equal(writeLedgerIfChanged(env, ledger("ops")), false);
    deepEqual([...readLedgers(env, "ops").keys()], ["ops"]);
    equal(managingOwner(env, U), "ops");
  }));

Deno.test("ledger: another owner's garbled ledger is a warning, one's own an error", () =>
  withFakeEnv(({ env, stderr }) => {
    writeLedgerIfChanged(env, ledger("ops"));
    Deno.writeTextFileSync(ledgerPath(env, "lab"), "{");
    deepEqual([...readLedgers(env, "ops").keys()], ["ops"]);
    match(stderr.join(""), /W: ignoring invalid ledger ".*lab\.json"/);
    throws(() => readLedgers(env, "lab"), { message: /^Invalid ledger ".*lab\.json": / });
  }));

Deno.test("ledger: an owners directory that cannot be listed is said, not taken as none", () =>
  withFakeEnv(({ env, stderr }) => {
    Deno.mkdirSync(env.path("var/lib/mdevctl"), { recursive: true });
    Deno.writeTextFileSync(env.path("var/lib/mdevctl/owners"), "");
    throws(() => readLedgers(env, null), {
      message: /^Unable to read ".*owners": Not a directory/,
    });
    equal(managingOwner(env, U), null);
    match(stderr.join(""), new RegExp(`W: cannot tell whether ${U} is managed: Unable to read`));
  }));

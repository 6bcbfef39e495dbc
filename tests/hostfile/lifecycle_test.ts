/**
 * Prune and runtime state end to end (hostfile.md §5, §6, §12.4, §12.5):
 * what --prune and --start --prune touch, what they never touch, and diff's
 * exit statuses.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import { addT4, definitions, T4_FILE, T4_UUIDS, T4A, T4B, writeHostFile } from "./host_setup.ts";

const OTHER = "9f1c7c2e-1111-4b5e-8d8e-2c4a1c9e0001";
const FOREIGN = "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920";
const GONE = "0000:d8:00.0";
const ORPHAN = "77777777-0000-4000-8000-000000000000";

Deno.test("prune removes only this owner's unwanted devices; --start --prune stops them first", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    await addT4(host, T4B);
    const file = await writeHostFile(host, T4_FILE);
    assertEquals((await host.run(["apply", "-f", file])).code, 0);
    // An unmanaged definition, a device of another owner, and a managed device
    // whose parent is absent (its VF not created yet).
    await host.define(T4A, OTHER, { mdev_type: "nvidia-222", start: "auto", attrs: [] });
    const other = await writeHostFile(
      host,
      `version: 1\nowner: other\ndevices: [{uuid: "${FOREIGN}", parent: "${T4B}", type: nvidia-223}]\n`,
      "other.yaml",
    );
    assertEquals((await host.run(["apply", "-f", other])).code, 0);
    const ledgerPath = host.path("var/lib/mdevctl/owners/gpu-pool.json");
    const ledger = JSON.parse(await Deno.readTextFile(ledgerPath));
    ledger.devices[ORPHAN] = {
      parent: GONE,
      type: "nvidia-222",
      origin: { pool: "t4-q", slot: 0 },
      sha256: "0".repeat(64),
    };
    await Deno.writeTextFile(ledgerPath, JSON.stringify(ledger));
    await host.define(GONE, ORPHAN, { mdev_type: "nvidia-222", start: "auto", attrs: [] });
    // Two instances run.
    await host.addActive(T4_UUIDS.a1, T4A, "nvidia-222");
    await host.addActive(T4_UUIDS.b1, T4B, "nvidia-222");

    const shrunk = await writeHostFile(host, T4_FILE.replace("perParent: 2", "perParent: 1"));
    const plain = await host.run(["diff", "-f", shrunk]);
    // Without --prune the two devices the file no longer wants are named, and kept.
    assertEquals([plain.code, plain.stdout], [
      0,
      `# ${T4A}/${T4_UUIDS.a1} nvidia-222 surplus rule=t4-q slot=1
# ${T4B}/${T4_UUIDS.b1} nvidia-222 surplus rule=t4-q slot=1
in sync: 5 managed; surplus: 2 kept (--prune removes); 1 unmanaged definition not touched
`,
    ]);
    const surplus = JSON.parse((await host.run(["diff", "-f", shrunk, "--dumpjson"])).stdout);
    assertEquals(surplus.surplus, [
      { parent: T4A, uuid: T4_UUIDS.a1, type: "nvidia-222", origin: { pool: "t4-q", slot: 1 } },
      { parent: T4B, uuid: T4_UUIDS.b1, type: "nvidia-222", origin: { pool: "t4-q", slot: 1 } },
    ]);
    const kept = await host.run(["apply", "-f", shrunk]);
    assertEquals([kept.code, kept.stdout.split("\n").at(-2)], [
      0,
      "in sync: 5 managed; surplus: 2 kept (--prune removes); 1 unmanaged definition not touched",
    ]);
    const diff = await host.run(["diff", "-f", shrunk, "--prune", "--start"]);
    assertEquals(diff.code, 3);
    assertEquals(
      diff.stdout,
      `< ${T4A}/${T4_UUIDS.a1} nvidia-222 stop rule=t4-q slot=1
< ${T4B}/${T4_UUIDS.b1} nvidia-222 stop rule=t4-q slot=1
- ${T4A}/${T4_UUIDS.a1} nvidia-222 undefine rule=t4-q slot=1
- ${T4B}/${T4_UUIDS.b1} nvidia-222 undefine rule=t4-q slot=1
> ${T4A}/${T4_UUIDS.a0} nvidia-222 start rule=t4-q slot=0
> ${T4B}/${T4_UUIDS.b0} nvidia-222 start rule=t4-q slot=0
drift: 6 changes (stop 2, undefine 2, start 2); 1 unmanaged definition not touched
`,
    );
    const apply = await host.run(["apply", "-f", shrunk, "--prune", "--start"]);
    assertEquals(apply.code, 0, apply.stderr);
    // Stopped through the device's remove file; configs gone; the others untouched.
    assertEquals(await host.read(`sys/devices/pci0000:00/${T4A}/${T4_UUIDS.a1}/remove`), "1");
    assertEquals(
      Object.keys(await definitions(host)).sort(),
      [
        `${T4A}/${OTHER}`,
        `${T4A}/${T4_UUIDS.a0}`,
        `${T4B}/${FOREIGN}`,
        `${T4B}/${T4_UUIDS.b0}`,
        `${GONE}/${ORPHAN}`,
      ].sort(),
    );
    const after = JSON.parse(await Deno.readTextFile(ledgerPath));
    assertEquals(Object.keys(after.devices).sort(), [ORPHAN, T4_UUIDS.a0, T4_UUIDS.b0].sort());
  }));

Deno.test("diff exit statuses: 4 for a shortfall alone, 3 when something would change too", () =>
  withHost(async (host) => {
    await host.addParent("0000:00:02.0", { t: { available: 2 } });
    const file = await writeHostFile(host, "version: 1\npools: [{name: p, type: t, count: 3}]\n");
    const first = await host.run(["diff", "-f", file]);
    assertEquals(first.code, 3);
    assertEquals(first.stdout.split("\n").at(-2), "drift: 2 changes (define 2)");
    // apply finishes, but says the pool stays short: 4.
    assertEquals((await host.run(["apply", "-f", file])).code, 4);
    const second = await host.run(["diff", "-f", file]);
    assertEquals([second.code, second.stdout], [
      4,
      "? pool:p t shortfall wanted=3 placed=2\nin sync: 2 managed; unsatisfied: 1\n",
    ]);
    const json = JSON.parse((await host.run(["diff", "-f", file, "--dumpjson"])).stdout);
    assertEquals([json.in_sync, json.satisfied, json.changes], [true, false, [{
      action: "shortfall",
      pool: "p",
      type: "t",
      wanted: 3,
      placed: 2,
    }]]);
  }));

Deno.test("-f - reads the host file from stdin; --dry-run writes nothing and exits 0", () =>
  withHost(async (host) => {
    await host.addParent("0000:00:02.0", { t: { available: 2 } });
    const text = "version: 1\npools: [{name: p, type: t, perParent: 1}]\n";
    const before = await host.snapshot();
    const dry = await host.run(["apply", "-f", "-", "--dry-run"], { stdin: text });
    assertEquals(dry.code, 0);
    assertEquals(dry.stdout.endsWith("drift: 1 change (define 1)\n"), true, dry.stdout);
    assertEquals(await host.snapshot(), before);
    const real = await host.run(["apply", "-f", "-"], { stdin: text });
    assertEquals(real.code, 0);
    assertEquals(Object.keys(await definitions(host)).length, 1);
  }));

/**
 * `export` (hostfile.md §9, §12.10): deterministic output, filters, and the
 * round trip `export | apply -f -` that only adopts.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import { addT4, T4_FILE, T4_UUIDS, T4A, T4B, writeHostFile } from "./host_setup.ts";

const U1 = "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920";
const U2 = "11111111-2222-4333-8444-555555555555";
const U3 = "aaaaaaaa-2222-4333-8444-555555555555";
const RUNNING = "bbbbbbbb-2222-4333-8444-555555555555";

Deno.test("export: sorted, double-quoted, start always written, attrs in order with repeats", () =>
  withHost(async (host) => {
    await host.addParent("matrix", { "vfio_ap-passthrough": { available: 10 } });
    await host.addParent("0000:00:02.0", { "i915-GVTg_V5_4": { available: 2 } });
    await host.define("matrix", U1, {
      mdev_type: "vfio_ap-passthrough",
      start: "manual",
      attrs: [{ assign_adapter: "5" }, { assign_domain: "4" }, { assign_domain: "0xab" }],
    });
    await host.define("0000:00:02.0", U3, { mdev_type: "i915-GVTg_V5_4", start: "manual" });
    await host.define("0000:00:02.0", U2, { mdev_type: "i915-GVTg_V5_4", start: "auto" });
    const r = await host.run(["export"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(
      r.stdout,
      `version: 1
owner: "default"
devices:
  - uuid: "${U2}"
    parent: "0000:00:02.0"
    type: "i915-GVTg_V5_4"
    start: "auto"
  - uuid: "${U3}"
    parent: "0000:00:02.0"
    type: "i915-GVTg_V5_4"
    start: "manual"
  - uuid: "${U1}"
    parent: "matrix"
    type: "vfio_ap-passthrough"
    start: "manual"
    attrs:
      - assign_adapter: "5"
      - assign_domain: "4"
      - assign_domain: "0xab"
`,
    );
    const parentOnly = await host.run(["export", "-p", "matrix", "--owner", "crypto"]);
    assertEquals(parentOnly.stdout.split("\n").slice(0, 3), [
      "version: 1",
      'owner: "crypto"',
      "devices:",
    ]);
    assertEquals(parentOnly.stdout.includes(U2), false);

    // Round trip: only adopts, then in sync; --start starts the auto one.
    const dry = await host.run(["apply", "-f", "-", "--dry-run"], { stdin: r.stdout });
    assertEquals(
      dry.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[0]),
      [
        "*",
        "*",
        "*",
        "drift:",
      ],
    );
    assertEquals(dry.stdout.endsWith("drift: 3 changes (adopt 3)\n"), true, dry.stdout);
    const before = await host.snapshot("etc/mdevctl.d");
    const apply = await host.run(["apply", "-f", "-", "--start"], { stdin: r.stdout });
    assertEquals(apply.code, 0, apply.stderr);
    assertEquals(await host.snapshot("etc/mdevctl.d"), before);
    assertEquals(
      await host.read(
        "sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/create",
      ),
      U2,
    );
    const file = await writeHostFile(host, r.stdout);
    assertEquals((await host.run(["diff", "-f", file])).code, 0);

    // Filters: everything is now managed by "default".
    assertEquals(
      (await host.run(["export", "--unmanaged"])).stdout,
      'version: 1\nowner: "default"\ndevices: []\n',
    );
    assertEquals((await host.run(["export", "--managed"])).stdout, r.stdout);
    assertEquals((await host.run(["export", "--managed", "--unmanaged"])).code, 2);
  }));

Deno.test("export --active adds running devices that have no definition", () =>
  withHost(async (host) => {
    await host.addParent("0000:00:02.0", { t: { available: 2 } });
    await host.addActive(RUNNING, "0000:00:02.0", "t");
    assertEquals(
      (await host.run(["export"])).stdout,
      'version: 1\nowner: "default"\ndevices: []\n',
    );
    const r = await host.run(["export", "--active"]);
    assertEquals(
      r.stdout,
      `version: 1\nowner: "default"\ndevices:\n  - uuid: "${RUNNING}"\n    parent: "0000:00:02.0"\n    type: "t"\n    start: "manual"\n`,
    );
  }));

Deno.test("export of a host managed by gpu-pool round-trips; other owners are left out and named", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    await addT4(host, T4B);
    const pool = await writeHostFile(host, T4_FILE);
    assertEquals((await host.run(["apply", "-f", pool])).code, 0);
    await host.define(T4A, U2, { mdev_type: "nvidia-223", start: "manual" });
    const crypto = await writeHostFile(
      host,
      `version: 1\nowner: crypto\ndevices: [{uuid: "${U1}", parent: "${T4B}", type: nvidia-223}]\n`,
      "crypto.yaml",
    );
    assertEquals((await host.run(["apply", "-f", crypto])).code, 0);

    // Two owners: plain export is for "default" and leaves both owners' devices out.
    const both = await host.run(["export"]);
    assertEquals(both.code, 0);
    assertEquals(both.stdout.split("\n").slice(0, 2), ["version: 1", 'owner: "default"']);
    assertEquals(both.stdout.includes(T4_UUIDS.a0) || both.stdout.includes(U1), false);
    assertEquals(both.stderr.split("\n").filter(Boolean).sort(), [
      "export: left out 1 device managed by owner crypto (export them with --owner crypto)",
      "export: left out 4 devices managed by owner gpu-pool (export them with --owner gpu-pool)",
    ]);

    // One owner at a time: --owner gpu-pool keeps its devices and the unmanaged one.
    const r = await host.run(["export", "--owner", "gpu-pool"]);
    assertEquals(r.stdout.includes('owner: "gpu-pool"'), true);
    assertEquals(Object.values(T4_UUIDS).every((u) => r.stdout.includes(u)), true);
    assertEquals([r.stdout.includes(U2), r.stdout.includes(U1)], [true, false]);
    const apply = await host.run(["apply", "-f", "-"], { stdin: r.stdout });
    assertEquals(apply.code, 0, apply.stdout + apply.stderr);
    assertEquals(
      apply.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[0]),
      ["*", "applied:"],
    );
    assertEquals((await host.run(["diff", "-f", "-"], { stdin: r.stdout })).code, 0);

    // With one owner left holding devices, plain export picks it and says so.
    await Deno.remove(host.path("var/lib/mdevctl/owners/crypto.json"));
    const only = await host.run(["export"]);
    assertEquals(only.stdout.includes('owner: "gpu-pool"'), true);
    assertEquals(only.stderr, "export: owner gpu-pool (the only owner with a ledger)\n");
    const again = await host.run(["diff", "-f", "-"], { stdin: only.stdout });
    assertEquals(again.code, 3, again.stdout); // U1 is unmanaged now: adopt
    assertEquals(again.stdout.split("\n")[0]!.startsWith(`* ${T4B}/${U1}`), true, again.stdout);
  }));

Deno.test("export -p of a parent that does not exist names it", () =>
  withHost(async (host) => {
    await host.addParent("0000:00:02.0", { t: { available: 2 } });
    await host.define("0000:00:09.0", U1, { mdev_type: "t", start: "manual" });
    const r = await host.run(["export", "-p", "0000:00:05.0"]);
    assertEquals([r.code, r.stdout], [1, ""]);
    assertEquals(
      r.stderr,
      "Error: parent 0000:00:05.0 not found: it is not registered and has no definitions\n",
    );
    // A parent with definitions but not registered (yet) is fine.
    const defined = await host.run(["export", "-p", "0000:00:09.0"]);
    assertEquals([defined.code, defined.stdout.includes(U1)], [0, true]);
  }));

/**
 * `export` (hostfile.md §9, §12.10): deterministic output, filters, and the
 * round trip `export | apply -f -` that only adopts.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import { writeHostFile } from "./host_setup.ts";

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

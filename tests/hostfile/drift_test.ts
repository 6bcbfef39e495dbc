/**
 * hostfile.md §11 (the worked drift case, byte for byte), §12.2 (fresh apply
 * of the three example files, then an apply that writes nothing) and the
 * 1.x warning on managed devices (§5).
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import {
  addT4,
  definitions,
  mtimes,
  setPciFacts,
  T4_FILE,
  T4_UUIDS,
  T4A,
  T4B,
  writeHostFile,
} from "./host_setup.ts";
import { DEFAULT_NAMESPACE, poolInstanceName, uuid5 } from "../../lib/hostfile/uuid5.ts";

const UNMANAGED = "9f1c7c2e-1111-4b5e-8d8e-2c4a1c9e0001";

const EXPECTED_TEXT =
  `~ 0000:3b:00.0/13d239f7-94da-5e66-bf61-1f80948d75bc nvidia-222 modify start=manual->auto rule=t4-q slot=1
+ 0000:5e:00.0/67a61a03-1510-5b8e-b8b7-2a214474293d nvidia-222 define start=auto rule=t4-q slot=1
drift: 2 changes (modify 1, define 1); 1 unmanaged definition not touched
`;

const EXPECTED_JSON = {
  "version": 1,
  "owner": "gpu-pool",
  "in_sync": false,
  "satisfied": true,
  "counts": {
    "stop": 0,
    "undefine": 0,
    "modify": 1,
    "define": 1,
    "adopt": 0,
    "start": 0,
    "conflict": 0,
    "restart-required": 0,
    "shortfall": 0,
  },
  "changes": [
    {
      "action": "modify",
      "parent": "0000:3b:00.0",
      "uuid": "13d239f7-94da-5e66-bf61-1f80948d75bc",
      "type": "nvidia-222",
      "origin": { "pool": "t4-q", "slot": 1 },
      "external_change": true,
      "fields": { "start": { "before": "manual", "after": "auto" } },
    },
    {
      "action": "define",
      "parent": "0000:5e:00.0",
      "uuid": "67a61a03-1510-5b8e-b8b7-2a214474293d",
      "type": "nvidia-222",
      "origin": { "pool": "t4-q", "slot": 1 },
      "external_change": true,
      "config": { "mdev_type": "nvidia-222", "start": "auto", "attrs": [] },
    },
  ],
  "surplus": [],
  "notReady": [],
  "unmatched": [],
  "unmanaged": [{
    "parent": "0000:5e:00.0",
    "uuid": "9f1c7c2e-1111-4b5e-8d8e-2c4a1c9e0001",
    "type": "nvidia-222",
  }],
  "warnings": [],
};

Deno.test("§11: the worked drift case, text and JSON, then apply converges", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    await addT4(host, T4B);
    const file = await writeHostFile(host, T4_FILE);
    const first = await host.run(["apply", "-f", file]);
    assertEquals([first.code, first.stderr], [0, ""]);
    const ledger = JSON.parse(await host.read("var/lib/mdevctl/owners/gpu-pool.json"));
    assertEquals(Object.keys(ledger.devices).sort(), Object.values(T4_UUIDS).sort());

    // Three changes outside apply; the 1.x writers warn about managed devices.
    const modify = await host.run(["modify", "-u", T4_UUIDS.a1, "--manual"]);
    assertEquals(modify.code, 0);
    assertEquals(
      modify.stderr,
      `W: ${T4_UUIDS.a1} is managed by host file owner gpu-pool; the next apply restores it\n`,
    );
    const undefine = await host.run(["undefine", "-u", T4_UUIDS.b1]);
    assertEquals([undefine.code, undefine.stdout], [0, ""]);
    assertEquals(
      undefine.stderr,
      `W: ${T4_UUIDS.b1} is managed by host file owner gpu-pool; the next apply restores it\n`,
    );
    await host.define(T4B, UNMANAGED, { mdev_type: "nvidia-222", start: "manual", attrs: [] });
    const unmanagedBytes = await host.read(`etc/mdevctl.d/${T4B}/${UNMANAGED}`);

    const diff = await host.run(["diff", "-f", file]);
    assertEquals([diff.code, diff.stdout, diff.stderr], [3, EXPECTED_TEXT, ""]);
    const json = await host.run(["diff", "-f", file, "--dumpjson"]);
    assertEquals(json.code, 3);
    assertEquals(JSON.parse(json.stdout), EXPECTED_JSON);
    // Pretty-printed with two spaces, keys in §11's order, one final newline.
    assertEquals(json.stdout, JSON.stringify(EXPECTED_JSON, null, 2) + "\n");

    const apply = await host.run(["apply", "-f", file]);
    assertEquals([apply.code, apply.stderr], [0, ""]);
    const defs = await definitions(host);
    assertEquals((defs[`${T4A}/${T4_UUIDS.a1}`] as { start: string }).start, "auto");
    assertEquals(defs[`${T4B}/${T4_UUIDS.b1}`], {
      mdev_type: "nvidia-222",
      start: "auto",
      attrs: [],
    });
    assertEquals(await host.read(`etc/mdevctl.d/${T4B}/${UNMANAGED}`), unmanagedBytes);
    const after = await host.run(["diff", "-f", file]);
    assertEquals(
      [after.code, after.stdout],
      [0, "in sync: 4 managed; 1 unmanaged definition not touched\n"],
    );
    const verbose = await host.run(["diff", "-f", file, "-v"]);
    assertEquals(
      verbose.stdout,
      `= ${T4B}/${UNMANAGED} nvidia-222 unmanaged\n` +
        "in sync: 4 managed; 1 unmanaged definition not touched\n",
    );
  }));

const CONFIG = (type: string, start: string, attrs: Record<string, string>[] = []) =>
  JSON.stringify({ mdev_type: type, start, attrs }, null, 2);

/** The §11 example (1) whole: T4_FILE and the A40 pool. */
const EXAMPLE_NVIDIA =
  `${T4_FILE}  - {name: a40-c, type: {nameToken: "A40-8C"}, parents: {physfn: ["0000:af:00.0"]},
     count: 6, placement: spread, exclusive: true}      # spread over the VFs of that GPU
`;

const EXAMPLE_S390 = `version: 1
owner: crypto
devices:
  - id: ap-tenant-a                      # uuid5(NS, "v1/crypto/device/ap-tenant-a")
    parent: "matrix"
    type: "vfio_ap-passthrough"
    start: auto
    attrs: [{assign_adapter: "5"}, {assign_domain: "4"}, {assign_domain: "0xab"},
            {assign_control_domain: "4"}]
  - uuid: "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920"        # pinned: a guest already refers to it
    parent: "matrix"
    type: "vfio_ap-passthrough"
    attrs: [{assign_adapter: "6"}, {assign_domain: "5"}]
  - {id: dasd-boot, parent: "0.0.0052", type: "vfio_ccw-io", start: manual}  # 38c07070-…
`;

const EXAMPLE_GVT = `version: 1
owner: vdi
defaults: {start: manual}
pools:
  - {name: gvt, type: "i915-GVTg_V5_4", parents: {names: ["0000:00:02.0"]}, perParent: 2}
    # slot 0 → 7151e295-…, slot 1 → f799ecd3-…
`;

const A40_VFS = [
  "0000:af:00.4",
  "0000:af:00.5",
  "0000:af:00.6",
  "0000:af:00.7",
  "0000:af:01.0",
  "0000:af:01.1",
];

async function applyTwice(
  host: Parameters<Parameters<typeof withHost>[0]>[0],
  text: string,
): Promise<Record<string, unknown>> {
  const file = await writeHostFile(host, text);
  const first = await host.run(["apply", "-f", file]);
  assertEquals([first.code, first.stderr], [0, ""], first.stdout);
  const before = await mtimes(host);
  const snapshot = await host.snapshot("etc/mdevctl.d");
  await new Promise((r) => setTimeout(r, 20));
  const second = await host.run(["apply", "-f", file]);
  assertEquals(second.code, 0);
  assertEquals(second.stdout.split("\n").filter(Boolean).length, 1, second.stdout);
  assertEquals(second.stdout.startsWith("in sync: "), true, second.stdout);
  // Nothing rewritten: same mtimes and inodes, same bytes.
  assertEquals(await mtimes(host), before);
  assertEquals(await host.snapshot("etc/mdevctl.d"), snapshot);
  assertEquals((await host.run(["diff", "-f", file])).code, 0);
  return snapshot;
}

Deno.test("§10 example 1 (NVIDIA): fresh apply writes the expected files; a second writes nothing", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    await addT4(host, T4B);
    await host.addParent("0000:af:00.0", {}); // the PF itself offers nothing here
    for (const vf of A40_VFS) {
      await host.addParent(vf, { "nvidia-560": { available: 1, name: "NVIDIA A40-8C\n" } });
      await setPciFacts(host, vf, {
        driver: "nvidia",
        vendor: "0x10de",
        device: "0x2235",
        physfn: "0000:af:00.0",
      });
    }
    const files = await applyTwice(host, EXAMPLE_NVIDIA);
    const expected: Record<string, string> = {};
    for (
      const [parent, uuids] of [[T4A, [T4_UUIDS.a0, T4_UUIDS.a1]], [T4B, [
        T4_UUIDS.b0,
        T4_UUIDS.b1,
      ]]] as const
    ) {
      expected[`${parent}/`] = "";
      for (const u of uuids) expected[`${parent}/${u}`] = CONFIG("nvidia-222", "auto");
    }
    for (const vf of A40_VFS) {
      const u = uuid5(
        DEFAULT_NAMESPACE,
        poolInstanceName("gpu-pool", "a40-c", vf, "nvidia-560", 0),
      );
      expected[`${vf}/`] = "";
      expected[`${vf}/${u}`] = CONFIG("nvidia-560", "auto");
    }
    assertEquals(files, expected);
  }));

Deno.test("§10 example 2 (s390): explicit devices keep attribute order and repeats", () =>
  withHost(async (host) => {
    await host.addParent("matrix", {
      "vfio_ap-passthrough": { available: 65535, deviceApi: "vfio-ap" },
    });
    await host.addParent("0.0.0052", { "vfio_ccw-io": { available: 1, deviceApi: "vfio-ccw" } });
    const files = await applyTwice(host, EXAMPLE_S390);
    const tenant = uuid5(DEFAULT_NAMESPACE, "v1/crypto/device/ap-tenant-a");
    assertEquals(files, {
      "matrix/": "",
      [`matrix/${tenant}`]: CONFIG("vfio_ap-passthrough", "auto", [
        { assign_adapter: "5" },
        { assign_domain: "4" },
        { assign_domain: "0xab" },
        { assign_control_domain: "4" },
      ]),
      "matrix/6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920": CONFIG("vfio_ap-passthrough", "auto", [
        { assign_adapter: "6" },
        { assign_domain: "5" },
      ]),
      "0.0.0052/": "",
      "0.0.0052/38c07070-f0e1-5536-bde4-14431eda2eee": CONFIG("vfio_ccw-io", "manual"),
    });
  }));

Deno.test("§10 example 3 (GVT-g): the pool's two slots get the §4 vector uuids", () =>
  withHost(async (host) => {
    await host.addParent("0000:00:02.0", { "i915-GVTg_V5_4": { available: 2 } });
    const files = await applyTwice(host, EXAMPLE_GVT);
    assertEquals(files, {
      "0000:00:02.0/": "",
      "0000:00:02.0/7151e295-308f-5810-9cac-ae302fe99485": CONFIG("i915-GVTg_V5_4", "manual"),
      "0000:00:02.0/f799ecd3-b9b0-5882-ab60-17b7f5add2a7": CONFIG("i915-GVTg_V5_4", "manual"),
    });
  }));

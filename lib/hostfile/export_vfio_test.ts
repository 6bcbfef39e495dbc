import { deepEqual as assertEquals } from "node:assert/strict";
import * as Y from "npm:yaml@2.9.1";
import { exportedPools, renderExport } from "./export.ts";

const e = (pf: string, typeId: number, pool: string) => ({ pf, typeId, origin: { pool } });

Deno.test("exportedPools: one pool per ledger pool, in-sync VFs only, count over its GPUs", () => {
  const vfs = new Map([
    ["0000:61:00.4", e("0000:61:00.0", 1155, "desk")],
    ["0000:41:00.4", e("0000:41:00.0", 1155, "desk")],
    ["0000:41:00.5", e("0000:41:00.0", 1155, "desk")],
    ["0000:a1:00.4", e("0000:a1:00.0", 1156, "cad")],
    ["0000:a1:00.5", e("0000:a1:00.0", 1156, "cad")], // emptied: left out
    ["0000:c1:00.4", e("0000:c1:00.0", 7, "odd")], // unnamed id
  ]);
  const current = (vf: string) => (vf === "0000:a1:00.5" ? 0 : vfs.get(vf)!.typeId);
  const short = (_pf: string, id: number) =>
    id === 1155 ? "L40S-12Q" : id === 1156 ? "L40S-24Q" : undefined;
  const r = exportedPools(vfs, current, short);
  assertEquals(r.leftOut, 1);
  assertEquals(r.pools, [
    {
      name: "desk",
      nameToken: "L40S-12Q",
      typeId: 1155,
      gpus: ["0000:41:00.0", "0000:61:00.0"],
      count: 3,
    },
    { name: "cad", nameToken: "L40S-24Q", typeId: 1156, gpus: ["0000:a1:00.0"], count: 1 },
    { name: "odd", nameToken: undefined, typeId: 7, gpus: ["0000:c1:00.0"], count: 1 },
  ]);
  assertEquals(exportedPools(vfs, current, short, "0000:61:00.0").pools.map((p) => p.count), [1]);
  const text = renderExport(Y, "vdi", [], r.pools);
  assertEquals(
    text,
    `version: 1
owner: "vdi"
devices: []
pools:
  - name: "cad"
    type:
      nameToken: "L40S-24Q"
    parents:
      names:
        - "0000:a1:00.0"
    count: 1
  - name: "desk"
    type:
      nameToken: "L40S-12Q"
    parents:
      names:
        - "0000:41:00.0"
        - "0000:61:00.0"
    count: 3
  - name: "odd"
    type:
      id: "7"
    parents:
      names:
        - "0000:c1:00.0"
    count: 1
`,
  );
});

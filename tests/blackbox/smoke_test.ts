import { deepEqual as assertEquals } from "node:assert/strict";
import { P1, U1, withHost } from "../helpers/fake_host.ts";

Deno.test("smoke: list shows a running defined device", () =>
  withHost(async (host) => {
    await host.addParent(P1, { "i915-GVTg_V5_4": { available: 2 } });
    await host.addActive(U1, P1, "i915-GVTg_V5_4");
    await host.define(P1, U1, { mdev_type: "i915-GVTg_V5_4", start: "auto" });
    const r = await host.run(["list"]);
    assertEquals(r, { code: 0, stdout: `${U1} ${P1} i915-GVTg_V5_4 auto (defined)\n`, stderr: "" });
    const l = await host.run(["-d"], { lsmdev: true });
    assertEquals(l, { code: 0, stdout: `${U1} ${P1} i915-GVTg_V5_4 auto (active)\n`, stderr: "" });
  }));

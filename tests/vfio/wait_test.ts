/**
 * `wait --vfio` (the boot unit's ExecStartPre): returns once every vendor-VFIO
 * GPU has its VFs, each with its `nvidia/` directory; times out otherwise.
 * The VFs arrive while it waits, copied in by the fake sriov-manage through the
 * fake kernel's mount.
 */
import { deepEqual as assertEquals, ok } from "node:assert/strict";
import { G0, G1, gpus, kernelTest } from "./vfio_setup.ts";

kernelTest(
  "wait --vfio returns once the VFs appear; -p waits for one GPU; a timeout names what is missing",
  { vfioGpus: [...gpus([G0], { numVfs: 0 }), ...gpus([G1])] },
  {},
  async (host) => {
    const ready = await host.run(["wait", "--vfio", "-p", G1, "--timeout", "5"]);
    assertEquals([ready.code, ready.stderr], [0, ""]);
    const late = await host.run(["wait", "--vfio", "--timeout", "1"]);
    ok(late.code !== 0, "wait --vfio returned with G0's VFs disabled");
    const err = late.stderr.split("\n").filter((l) => l.startsWith("Error:"));
    assertEquals(err.length, 1, late.stderr);
    ok(err[0]!.includes(G0), late.stderr);
    ok(late.stderr.includes("timed out after 1 s"), late.stderr);
    const child = await host.spawn(["wait", "--vfio", "--timeout", "60"]);
    await new Promise((r) => setTimeout(r, 1000));
    const script = await host.sriovManage();
    const s = await new Deno.Command(script, { args: ["-e", G0] }).output();
    assertEquals(s.code, 0, new TextDecoder().decode(s.stderr));
    const started = Date.now();
    const out = await child.output();
    assertEquals([out.code, new TextDecoder().decode(out.stderr)], [0, ""]);
    ok(Date.now() - started < 30_000);
  },
);

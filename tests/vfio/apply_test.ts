/**
 * `diff` and `apply` of VFIO pools (host files whose pools select vendor-VFIO
 * GPUs) against the fake NVIDIA kernel: placement, idempotence (the kernel
 * counts writes), prune safety (foreign and in-use VFs), drift, VFs not
 * enabled (`--enable-vfs` and sriov-manage), hostile values, a write the
 * kernel refuses, and the export round trip.
 */
import { deepEqual as assertEquals, ok } from "node:assert/strict";
import {
  currents,
  G0,
  G1,
  G2,
  G3,
  gpus,
  hostFile,
  kernelTest,
  ledgerVfs,
  lines,
  poolFile,
  vf,
} from "./vfio_setup.ts";

const PER2 = poolFile("perParent: 2");

/** `line` with apply's ` status=done`. */
const done = (line: string) => `${line} status=done`;

kernelTest(
  "perParent: new vGPUs on the lowest free VFs of each GPU, in the ledger, one write each",
  { vfioGpus: gpus([G0, G1]) },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, PER2);
    const d = await host.run(["diff", "-f", file]);
    assertEquals(d.code, 3, d.stderr);
    const plan = [
      `+ ${vf(G0, 0)} L40S-12Q (id 1411) assign rule=l40s slot=0`,
      `+ ${vf(G0, 1)} L40S-12Q (id 1411) assign rule=l40s slot=1`,
      `+ ${vf(G1, 0)} L40S-12Q (id 1411) assign rule=l40s slot=0`,
      `+ ${vf(G1, 1)} L40S-12Q (id 1411) assign rule=l40s slot=1`,
    ];
    assertEquals(lines(d.stdout).slice(0, 4), plan);
    const j = JSON.parse((await host.run(["diff", "-f", file, "--dumpjson"])).stdout);
    assertEquals([j.counts.assign, j.counts.reassign, j.counts.release], [4, 0, 0]);
    const c = j.changes[1];
    assertEquals(
      [c.action, c.vf, c.pf, c.typeId, c.typeName, c.origin],
      ["assign", vf(G0, 1), G0, 1411, "NVIDIA L40S-12Q", { pool: "l40s", slot: 1 }],
    );
    assertEquals(await kernel.writes(), [], "diff writes nothing");
    const a = await host.run(["apply", "-f", file]);
    assertEquals([a.code, a.stderr], [0, ""]);
    assertEquals(lines(a.stdout).slice(0, 4), plan.map(done));
    assertEquals(await currents(host, G0), ["1411", "1411", "0", "0"]);
    assertEquals(await currents(host, G1), ["1411", "1411", "0", "0"]);
    assertEquals((await kernel.writes()).sort(), [
      `${vf(G0, 0)} 1411 ok`,
      `${vf(G0, 1)} 1411 ok`,
      `${vf(G1, 0)} 1411 ok`,
      `${vf(G1, 1)} 1411 ok`,
    ]);
    const ledger = await ledgerVfs(host);
    assertEquals(Object.keys(ledger).sort(), [vf(G0, 0), vf(G0, 1), vf(G1, 0), vf(G1, 1)]);
    assertEquals(ledger[vf(G0, 1)], {
      pf: G0,
      typeId: 1411,
      typeName: "NVIDIA L40S-12Q",
      origin: { pool: "l40s", slot: 1 },
    });
    // Assignment is runtime state: no definition appears, no 1.x listing shows it.
    assertEquals((await host.run(["list", "-d"])).stdout, "");
  },
);

kernelTest(
  "idempotence: a second apply writes nothing and reports in sync",
  { vfioGpus: gpus([G0, G1]) },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, PER2);
    assertEquals((await host.run(["apply", "-f", file])).code, 0);
    const writes = await kernel.writes();
    const ledger = await host.read("var/lib/mdevctl/owners/vgpu.json");
    const ledgerIno = (await Deno.stat(host.path("var/lib/mdevctl/owners/vgpu.json"))).ino;
    const again = await host.run(["apply", "-f", file]);
    assertEquals([again.code, again.stderr], [0, ""]);
    ok(lines(again.stdout).at(-1)!.startsWith("in sync:"), again.stdout);
    assertEquals(await kernel.writes(), writes);
    assertEquals(await host.read("var/lib/mdevctl/owners/vgpu.json"), ledger);
    assertEquals((await Deno.stat(host.path("var/lib/mdevctl/owners/vgpu.json"))).ino, ledgerIno);
    const d = await host.run(["diff", "-f", file]);
    assertEquals(d.code, 0, d.stdout);
  },
);

for (
  const [placement, expected] of [
    // spread: to the GPU with the fewest (first on a tie).
    ["count: 6\n    placement: spread", [2, 2, 1, 1]],
    // pack: to the first GPU with room (4 VFs each).
    ["count: 6\n    placement: pack", [4, 2, 0, 0]],
  ] as const
) {
  kernelTest(
    `count over 4 GPUs, ${placement.split(" ").at(-1)}`,
    { vfioGpus: gpus([G0, G1, G2, G3]) },
    {},
    async (host) => {
      const file = await hostFile(host, poolFile(placement));
      const a = await host.run(["apply", "-f", file]);
      assertEquals([a.code, a.stderr], [0, ""]);
      const held: number[] = [];
      for (const pf of [G0, G1, G2, G3]) {
        const c = await currents(host, pf);
        held.push(c.filter((x) => x === "1411").length);
        // Lowest-index VFs first.
        assertEquals(c, c.slice().sort().reverse(), `${pf}: ${c}`);
      }
      assertEquals(held, [...expected]);
      assertEquals(Object.keys(await ledgerVfs(host)).length, 6);
    },
  );
}

kernelTest(
  "type by full name and by id resolve like the short name",
  { vfioGpus: gpus([G0]) },
  {},
  async (host) => {
    for (const [i, type] of ['{name: "NVIDIA L40S-12Q"}', '"1411"', '{id: "1411"}'].entries()) {
      const file = await hostFile(host, poolFile("perParent: 1", type), `h${i}.yaml`);
      const d = await host.run(["diff", "-f", file]);
      assertEquals(d.code, 3, `${type}: ${d.stderr}`);
      assertEquals(lines(d.stdout)[0], `+ ${vf(G0, 0)} L40S-12Q (id 1411) assign rule=l40s slot=0`);
    }
  },
);

kernelTest(
  "prune releases only owned VFs: a VF assigned by hand is foreign, never touched",
  { vfioGpus: gpus([G0]) },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, PER2);
    assertEquals((await host.run(["apply", "-f", file])).code, 0);
    // By hand, outside any ledger: VF 3 gets a 12Q too.
    await Deno.writeTextFile(host.path(`${host.vfDir(G0, 3)}/nvidia/current_vgpu_type`), "1411");
    const empty = await hostFile(host, "version: 1\nowner: vgpu\npools: []\n", "empty.yaml");
    const surplus = await host.run(["diff", "-f", empty]);
    assertEquals(lines(surplus.stdout).filter((l) => l.startsWith("# ")), [
      `# ${vf(G0, 0)} L40S-12Q (id 1411) surplus rule=l40s slot=0`,
      `# ${vf(G0, 1)} L40S-12Q (id 1411) surplus rule=l40s slot=1`,
    ]);
    const before = (await kernel.writes()).length;
    const a = await host.run(["apply", "-f", empty, "--prune"]);
    assertEquals([a.code, a.stderr], [0, ""]);
    assertEquals(lines(a.stdout).slice(0, 2), [
      done(`- ${vf(G0, 0)} L40S-12Q (id 1411) release rule=l40s slot=0`),
      done(`- ${vf(G0, 1)} L40S-12Q (id 1411) release rule=l40s slot=1`),
    ]);
    assertEquals((await kernel.writes()).slice(before).sort(), [
      `${vf(G0, 0)} 0 ok`,
      `${vf(G0, 1)} 0 ok`,
    ]);
    assertEquals(await currents(host, G0), ["0", "0", "0", "1411"]);
    assertEquals(await ledgerVfs(host), {});
  },
);

kernelTest(
  "a foreign VF counts as used: new vGPUs go around it and fit the capacity left",
  // VF 0 holds a 24Q by hand: 24 of 48 left, and sizes may not mix.
  { vfioGpus: [{ pf: G0, current: { 0: 1412 } }] },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, poolFile("perParent: 1", "{nameToken: L40S-24Q}"));
    const a = await host.run(["apply", "-f", file]);
    assertEquals([a.code, a.stderr], [0, ""]);
    assertEquals(await currents(host, G0), ["1412", "1412", "0", "0"]);
    assertEquals(await kernel.writes(), [`${vf(G0, 1)} 1412 ok`]);
  },
);

for (const busy of ["devices/vfio0", "100"]) {
  kernelTest(
    `prune skips a VF in use (${busy === "100" ? "its group" : "its VFIO device"} is busy), exit 1`,
    { vfioGpus: gpus([G0]) },
    { busy: [busy] },
    async (host, kernel) => {
      const file = await hostFile(host, PER2);
      assertEquals((await host.run(["apply", "-f", file])).code, 0);
      const empty = await hostFile(host, "version: 1\nowner: vgpu\npools: []\n", "empty.yaml");
      const before = (await kernel.writes()).length;
      const a = await host.run(["apply", "-f", empty, "--prune"]);
      assertEquals(a.code, 1, a.stdout + a.stderr);
      assertEquals(lines(a.stdout).slice(0, 2), [
        `- ${vf(G0, 0)} L40S-12Q (id 1411) release rule=l40s slot=0 status=skipped (in-use)`,
        done(`- ${vf(G0, 1)} L40S-12Q (id 1411) release rule=l40s slot=1`),
      ]);
      assertEquals((await kernel.writes()).slice(before), [`${vf(G0, 1)} 0 ok`]);
      assertEquals(await currents(host, G0), ["1411", "0", "0", "0"]);
      // Still owned: a later prune releases it once the VM is gone.
      assertEquals(Object.keys(await ledgerVfs(host)), [vf(G0, 0)]);
    },
  );
}

kernelTest(
  "drift: an owned VF reassigned by hand is reassigned back",
  { vfioGpus: gpus([G0]) },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, poolFile("perParent: 1"));
    assertEquals((await host.run(["apply", "-f", file])).code, 0);
    const current = host.path(`${host.vfDir(G0, 0)}/nvidia/current_vgpu_type`);
    await Deno.writeTextFile(current, "0");
    await Deno.writeTextFile(current, "1412");
    const d = await host.run(["diff", "-f", file]);
    assertEquals(d.code, 3, d.stderr);
    const line = `~ ${vf(G0, 0)} L40S-12Q (id 1411) reassign from=L40S-24Q (id 1412) ` +
      "rule=l40s slot=0";
    assertEquals(lines(d.stdout)[0], line);
    const j = JSON.parse((await host.run(["diff", "-f", file, "--dumpjson"])).stdout);
    assertEquals(j.counts.reassign, 1);
    const c = j.changes[0];
    assertEquals([c.action, c.vf, c.pf, c.typeId], ["reassign", vf(G0, 0), G0, 1411]);
    const before = (await kernel.writes()).length;
    const a = await host.run(["apply", "-f", file]);
    assertEquals([a.code, a.stderr], [0, ""]);
    assertEquals(lines(a.stdout)[0], done(line));
    // Released first (a VF holds one vGPU), then assigned.
    assertEquals((await kernel.writes()).slice(before), [
      `${vf(G0, 0)} 0 ok`,
      `${vf(G0, 0)} 1411 ok`,
    ]);
    assertEquals(await currents(host, G0), ["1411", "0", "0", "0"]);
  },
);

kernelTest(
  "VFs not enabled: reported (exit 4), never enabled silently; --enable-vfs runs sriov-manage",
  { vfioGpus: gpus([G0], { numVfs: 0 }) },
  {},
  async (host, kernel) => {
    const script = await host.sriovManage();
    const file = await hostFile(host, PER2);
    const env = { MDEVCTL_SRIOV_MANAGE: script };
    const hint = `? ${G0} vfs-disabled hint="apply --enable-vfs runs sriov-manage -e ${G0}"`;
    const d = await host.run(["diff", "-f", file], { env, allowRun: [script] });
    assertEquals(d.code, 4, d.stdout + d.stderr);
    ok(lines(d.stdout).includes(hint), d.stdout);
    const a = await host.run(["apply", "-f", file], { env, allowRun: [script] });
    assertEquals(a.code, 4, a.stdout + a.stderr);
    ok(lines(a.stdout).includes(hint), a.stdout);
    assertEquals(await host.exists("calls.log"), false, "sriov-manage ran without --enable-vfs");
    const e = await host.run(["apply", "-f", file, "--enable-vfs"], { env, allowRun: [script] });
    assertEquals([e.code, e.stderr], [0, ""]);
    assertEquals(await host.read("calls.log"), `sriov-manage -e ${G0}\n`);
    assertEquals(await currents(host, G0), ["1411", "1411", "0", "0"]);
    assertEquals((await kernel.writes()).length, 2);
  },
);

kernelTest(
  "a VF with a hostile current_vgpu_type is never written, never released",
  { vfioGpus: gpus([G0]) },
  { hostile: { [vf(G0, 0)]: "twelve" } },
  async (host, kernel) => {
    const file = await hostFile(host, PER2);
    const a = await host.run(["apply", "-f", file]);
    assertEquals(a.code, 0, a.stdout + a.stderr);
    assertEquals(await currents(host, G0), ["twelve", "1411", "1411", "0"]);
    const empty = await hostFile(host, "version: 1\nowner: vgpu\npools: []\n", "empty.yaml");
    await host.run(["apply", "-f", empty, "--prune"]);
    for (const w of await kernel.writes()) ok(!w.startsWith(vf(G0, 0)), w);
  },
);

kernelTest(
  "a write the kernel refuses (capacity taken behind apply's back): an error naming the VF, exit 1, ledger consistent",
  { vfioGpus: gpus([G0]) },
  // Just before apply writes VF 0, someone puts a 24Q on VF 3: 12Q may no longer mix.
  { race: { before: vf("0000:41:00.0", 0), vf: vf("0000:41:00.0", 3), id: 1412 } },
  async (host) => {
    const file = await hostFile(host, PER2);
    const a = await host.run(["apply", "-f", file]);
    assertEquals(a.code, 1, a.stdout + a.stderr);
    // One error, named on one line (the project's Error block may add its causes below).
    const err = lines(a.stderr).filter((l) => l.startsWith("Error:"));
    assertEquals(err.length, 1, a.stderr);
    ok(err[0]!.includes(vf(G0, 0)), a.stderr);
    ok(a.stderr.includes("Invalid argument"), a.stderr);
    ok(
      lines(a.stdout).some((l) => l.startsWith(`+ ${vf(G0, 0)} `) && l.endsWith("status=failed")),
      a.stdout,
    );
    // The ledger claims exactly the VFs that hold its type.
    const c = await currents(host, G0);
    for (const [address, entry] of Object.entries(await ledgerVfs(host))) {
      const index = [0, 1, 2, 3].find((i) => vf(G0, i) === address)!;
      assertEquals(c[index], String(entry.typeId), `${address} in the ledger`);
    }
    assertEquals(c[0], "0");
    assertEquals(c[3], "1412");
  },
);

kernelTest(
  "export writes the VFIO pools back; applying its output plans nothing",
  { vfioGpus: gpus([G0, G1]) },
  {},
  async (host, kernel) => {
    const file = await hostFile(host, poolFile("count: 3\n    placement: spread"));
    assertEquals((await host.run(["apply", "-f", file])).code, 0);
    const writes = (await kernel.writes()).length;
    const x = await host.run(["export", "--owner", "vgpu"]);
    assertEquals([x.code, x.stderr], [0, ""]);
    ok(x.stdout.includes("L40S-12Q"), x.stdout);
    const exported = await hostFile(host, x.stdout, "exported.yaml");
    const d = await host.run(["diff", "-f", exported]);
    assertEquals(d.code, 0, d.stdout + d.stderr);
    const a = await host.run(["apply", "-f", "-"], { stdin: x.stdout });
    assertEquals([a.code, a.stderr], [0, ""]);
    assertEquals((await kernel.writes()).length, writes);
  },
);

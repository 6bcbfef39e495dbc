/**
 * SIGKILL during apply (hostfile.md §7 "Crash safety", §12.9): whenever the
 * process dies, every config of the owner is in its ledger; the next apply
 * converges.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { withHost } from "../helpers/fake_host.ts";
import { seededRandom, testSeed } from "../helpers/random.ts";
import { writeHostFile } from "./host_setup.ts";

const PARENTS = ["0000:00:02.0", "0000:00:03.0"];

async function configUuids(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of PARENTS) {
    try {
      for await (const e of Deno.readDir(`${root}/etc/mdevctl.d/${p}`)) {
        if (!e.name.startsWith(".")) out.push(e.name);
      }
    } catch {
      // no definitions under this parent
    }
  }
  return out.sort();
}

async function ledgerUuids(root: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(`${root}/var/lib/mdevctl/owners/default.json`);
    return Object.keys(JSON.parse(text).devices).sort();
  } catch {
    return [];
  }
}

Deno.test("SIGKILL at random moments of apply never leaves an owned config out of the ledger", async () => {
  const seed = testSeed("hostfile crash");
  const random = seededRandom(seed);
  await withHost(async (host) => {
    for (const p of PARENTS) await host.addParent(p, { t: { available: 64 } });
    const big = await writeHostFile(
      host,
      "version: 1\npools: [{name: p, type: t, count: 48}]\n",
      "big.yaml",
    );
    const small = await writeHostFile(
      host,
      "version: 1\npools: [{name: p, type: t, count: 6}]\n",
      "small.yaml",
    );
    for (let round = 0; round < 10; round++) {
      const file = round % 2 === 0 ? big : small;
      const child = await host.spawn(["apply", "-f", file, "--prune"]);
      const delay = 150 + Math.floor(random() * 400);
      await new Promise((r) => setTimeout(r, delay));
      try {
        child.kill("SIGKILL");
      } catch {
        // already finished
      }
      await child.output();
      const configs = await configUuids(host.root);
      const ledger = new Set(await ledgerUuids(host.root));
      const missing = configs.filter((u) => !ledger.has(u));
      assertEquals(missing, [], `round ${round} (seed ${seed}, delay ${delay} ms)`);
    }
    const final = await host.run(["apply", "-f", small, "--prune"]);
    assertEquals(final.code, 0, final.stderr);
    assertEquals((await host.run(["diff", "-f", small, "--prune"])).code, 0);
    assertEquals(await configUuids(host.root), await ledgerUuids(host.root));
    assertEquals((await configUuids(host.root)).length, 6);
  });
});

Deno.test("apply and 1.x writers running at once lose nothing (one host lock)", () =>
  withHost(async (host) => {
    for (const p of PARENTS) await host.addParent(p, { t: { available: 64 } });
    const file = await writeHostFile(host, "version: 1\npools: [{name: p, type: t, count: 24}]\n");
    const others = Array.from(
      { length: 6 },
      (_, i) => `${String(i + 1).repeat(8)}-0000-4000-8000-000000000000`,
    );
    const results = await Promise.all([
      host.run(["apply", "-f", file]),
      ...others.map((u, i) => host.run(["define", "-u", u, "-p", PARENTS[i % 2]!, "-t", "t"])),
    ]);
    assertEquals(results.map((r) => r.code), results.map(() => 0));
    const configs = await configUuids(host.root);
    assertEquals(configs.length, 30);
    for (const u of others) assertEquals(configs.includes(u), true, u);
    const diff = await host.run(["diff", "-f", file]);
    assertEquals(
      [diff.code, diff.stdout],
      [0, "in sync: 24 managed; 6 unmanaged definitions not touched\n"],
    );
  }));

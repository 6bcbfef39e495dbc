/**
 * Concurrency of config writes (decision §0.5): concurrent invocations lose
 * no update; what killed writers leave behind is skipped and cleared. (Kills
 * at random moments: tests/hardening/crash_test.ts.)
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { P1, U1, withHost } from "../helpers/fake_host.ts";

Deno.test("concurrency: 6 processes × 8 modify --addattr on one device keep all 48", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual", attrs: [] });
    const worker = async (w: number) => {
      for (let i = 0; i < 8; i++) {
        const r = await host.run(["modify", "-u", U1, "--addattr", `w${w}`, "--value", `${i}`]);
        assertEquals([r.code, r.stderr], [0, ""]);
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    const attrs: Record<string, string>[] =
      JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)).attrs;
    assertEquals(attrs.length, 48);
    for (let w = 0; w < 6; w++) {
      // Each worker's own additions stay in its order.
      assertEquals(attrs.filter((a) => `w${w}` in a).map((a) => a[`w${w}`]), [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
      ]);
    }
  }));

Deno.test("concurrency: define of distinct devices on one parent in parallel loses none", () =>
  withHost(async (host) => {
    const uuids = Array.from(
      { length: 12 },
      (_, i) => `${String(i).padStart(8, "0")}-0000-0000-0000-000000000000`,
    );
    const results = await Promise.all(
      uuids.map((u) => host.run(["define", "-u", u, "-p", P1, "-t", "t"])),
    );
    assertEquals(results.map((r) => r.code), uuids.map(() => 0));
    assertEquals((await host.run(["list", "-d"])).stdout.split("\n").filter(Boolean).length, 12);
  }));

Deno.test("leftovers of killed writers are skipped by scans and cleared by the next write", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual", attrs: [] });
    const stale = `.${U1}.0123abcd-0000-4000-8000-000000000000.tmp`;
    await Deno.writeTextFile(host.path(`etc/mdevctl.d/${P1}/${stale}`), '{"mdev_type":"t"');
    const listed = await host.run(["list", "-d"]);
    assertEquals([listed.code, listed.stdout, listed.stderr], [0, `${U1} ${P1} t manual\n`, ""]);
    assertEquals((await host.run(["modify", "-u", U1, "--auto"])).code, 0);
    assertEquals(Object.keys(await host.snapshot(`etc/mdevctl.d/${P1}`)), [U1]);
    // ...and by undefine, which leaves the parent directory empty.
    await Deno.writeTextFile(host.path(`etc/mdevctl.d/${P1}/${stale}`), "");
    assertEquals((await host.run(["undefine", "-u", U1])).code, 0);
    assertEquals(await host.snapshot(`etc/mdevctl.d/${P1}`), {});
  }));

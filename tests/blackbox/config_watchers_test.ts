/**
 * Config writes as a watcher of the config tree sees them. libvirt watches
 * /etc/mdevctl.d and every directory below it with inotify and refreshes
 * (runs `mdevctl list`) on each finished file: a temporary file written
 * beside the config cost it a second refresh per change (tests/e2e counts
 * them on the real stack). The temporary file is staged outside the tree, on
 * the same filesystem, and only the finished config arrives.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { P1, U1, withHost } from "../helpers/fake_host.ts";

const STAGING = "etc/.mdevctl.d.staging";

Deno.test("config writes show a watcher of the config tree no temporary file", () =>
  withHost(async (host) => {
    await host.addParent(P1, { t: {} });
    // The parent's first definition creates its directory: it arrives whole.
    await Deno.mkdir(host.path("etc/mdevctl.d"), { recursive: true });
    const watcher = Deno.watchFs(host.path("etc/mdevctl.d"), { recursive: true });
    const seen: string[] = [];
    const collecting = (async () => {
      for await (const event of watcher) {
        for (const p of event.paths) seen.push(`${event.kind} ${p.slice(host.path("").length)}`);
      }
    })();
    for (
      const args of [
        ["define", "-u", U1, "-p", P1, "-t", "t"],
        ["modify", "-u", U1, "--auto"],
        ["modify", "-u", U1, "--addattr", "a", "--value", "1"],
      ]
    ) {
      const r = await host.run(args);
      assertEquals([r.code, r.stderr], [0, ""], args.join(" "));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    watcher.close();
    await collecting;
    const config = `etc/mdevctl.d/${P1}/${U1}`;
    assert(seen.some((e) => e.endsWith(config)), seen.join("\n"));
    assertEquals(
      seen.filter((e) => !e.endsWith(config) && !e.endsWith(`etc/mdevctl.d/${P1}`)),
      [],
    );
    // Whole and current; no staging directory left beside the config base.
    assertEquals(JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)), {
      mdev_type: "t",
      start: "auto",
      attrs: [{ a: "1" }],
    });
    assertEquals(await host.exists(STAGING), false);
  }));

Deno.test("a killed writer's staged file is never listed and the next write clears it", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual", attrs: [] });
    await Deno.mkdir(host.path(STAGING));
    const stale = `.${U1}.0123abcd-0000-4000-8000-000000000000.tmp`;
    await Deno.writeTextFile(host.path(`${STAGING}/${stale}`), '{"mdev_type":"t"');
    // ...and a parent directory being built when its writer was killed.
    const staleDir = `${STAGING}/.${P1}.0123abcd-0000-4000-8000-000000000000.tmp`;
    await Deno.mkdir(host.path(staleDir));
    await Deno.writeTextFile(host.path(`${staleDir}/${U1}`), "{}");
    const listed = await host.run(["list", "-d"]);
    assertEquals([listed.code, listed.stdout, listed.stderr], [0, `${U1} ${P1} t manual\n`, ""]);
    assertEquals((await host.run(["modify", "-u", U1, "--auto"])).code, 0);
    assertEquals(await host.exists(STAGING), false);
    assertEquals(Object.keys(await host.snapshot(`etc/mdevctl.d/${P1}`)), [U1]);
  }));

Deno.test("where staging cannot be created, the write still lands, atomically beside the config", () =>
  withHost(async (host) => {
    await host.define(P1, U1, { mdev_type: "t", start: "manual", attrs: [] });
    // A file where the staging directory would go: mkdir fails, the temporary
    // file goes beside the config (one more event for a watcher, still whole).
    await Deno.writeTextFile(host.path(STAGING), "in the way\n");
    const r = await host.run(["modify", "-u", U1, "--auto"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(JSON.parse(await host.read(`etc/mdevctl.d/${P1}/${U1}`)).start, "auto");
    assertEquals(Object.keys(await host.snapshot(`etc/mdevctl.d/${P1}`)), [U1]);
    assertEquals(await host.read(STAGING), "in the way\n");
  }));

/**
 * `undefine` (spec §5.2). An emptied parent directory stays (docs/behaviour.md:
 * libvirt watches it; removing it made libvirt refresh more and more often).
 */
import { deepEqual as assertEquals, match } from "node:assert/strict";
import { P1, P2, U1, U2, withHost } from "../helpers/fake_host.ts";

const config = { mdev_type: "typeA", start: "auto" };

Deno.test("undefine: the single definition goes, its emptied parent directory stays", () =>
  withHost(async (host) => {
    await host.define(P1, U1, config);
    assertEquals(await host.run(["undefine", "-u", U1]), { code: 0, stdout: "", stderr: "" });
    assertEquals(await host.snapshot(`etc/mdevctl.d/${P1}`), {});
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}`), true);
    // ...and a parent without definitions lists nothing.
    const listed = await host.run(["list", "-d"]);
    assertEquals([listed.code, listed.stdout, listed.stderr], [0, "", ""]);
  }));

Deno.test("undefine: without --parent every parent's definition goes; with it only that one", () =>
  withHost(async (host) => {
    await host.define(P1, U1, config);
    await host.define(P2, U1, config);
    await host.define(P2, U2, config);
    assertEquals((await host.run(["undefine", "-u", U1, "-p", P2])).code, 0);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), true);
    assertEquals(await host.exists(`etc/mdevctl.d/${P2}/${U1}`), false);
    assertEquals(await host.exists(`etc/mdevctl.d/${P2}/${U2}`), true);
    await host.define(P2, U1, config);
    assertEquals((await host.run(["undefine", "--uuid", U1])).code, 0);
    assertEquals((await host.run(["list", "-d"])).stdout, `${U2} ${P2} typeA auto\n`);
  }));

Deno.test("undefine: nothing matches → error, exit 1", () =>
  withHost(async (host) => {
    await host.define(P1, U1, config);
    for (const args of [["undefine", "-u", U2], ["undefine", "-u", U1, "-p", P2]]) {
      assertEquals(await host.run(args), {
        code: 1,
        stdout: "",
        stderr: "Error: No devices match the specified uuid\n",
      });
    }
  }));

Deno.test("undefine: a running device keeps running", () =>
  withHost(async (host) => {
    await host.addParent(P1, { typeA: {} });
    await host.addActive(U1, P1, "typeA");
    await host.define(P1, U1, config);
    assertEquals((await host.run(["undefine", "-u", U1])).code, 0);
    assertEquals((await host.run(["list"])).stdout, `${U1} ${P1} typeA manual\n`);
    assertEquals(
      await host.read(`${host.parentDir(P1).slice(host.root.length + 1)}/${U1}/remove`),
      "",
    );
  }));

Deno.test("undefine: an unreadable (corrupt) config can still be removed", () =>
  withHost(async (host) => {
    await host.define(P1, U1, "{ truncated");
    const r = await host.run(["undefine", "-u", U1]);
    assertEquals(r.code, 0);
    match(r.stderr, /WARN .*Removing unreadable config/);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1}`), false);
  }));

Deno.test("undefine: a non-canonical file name is removed in place", () =>
  withHost(async (host) => {
    await host.define(P1, U1.toUpperCase(), config);
    await host.define(P1, "keep-me-" + U2, config);
    assertEquals((await host.run(["undefine", "-u", U1])).code, 0);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U1.toUpperCase()}`), false);
  }));

Deno.test("undefine: --uuid is required", () =>
  withHost(async (host) => {
    const r = await host.run(["undefine", "-p", P1]);
    assertEquals(r.code, 2);
    match(r.stderr, /--uuid <UUID>/);
  }));

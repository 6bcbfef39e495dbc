/**
 * The error rule (docs/behaviour.md "Unreadable paths"): only a path that is
 * not there counts as absent. A definition directory or sysfs file that is
 * there but cannot be read gives one line, `Error: Unable to read "<path>":
 * <reason>`, and exit 1, for every command family that reads it: never a
 * silently shorter list or a wrong answer.
 *
 * Root reads through mode 000, so as root the program runs with the
 * capabilities that override file modes dropped (setpriv); the files stay
 * root's, and mode 000 then denies their owner too.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, P1, P2, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { have, isRoot, requiring } from "../helpers/requires.ts";

const TYPE = "vfio_t1";

/** The command line the program runs under: without DAC override when root. */
const PREFIX = isRoot()
  ? ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
  : [];
const WHY = isRoot() && !have("setpriv")
  ? "setpriv missing (apt-get install util-linux)"
  : undefined;

function test(name: string, fn: () => Promise<void>): void {
  Deno.test(requiring(`unreadable: ${name}`, WHY, fn));
}

/** A host with two parents, a definition under each and one running device. */
async function populate(host: FakeHost): Promise<void> {
  await host.addParent(P1, { [TYPE]: { available: 4 } });
  await host.addParent(P2, { [TYPE]: { available: 4 } });
  await host.define(P1, U1, { mdev_type: TYPE, start: "auto", attrs: [] });
  await host.define(P2, U2, { mdev_type: TYPE, start: "manual", attrs: [] });
  await host.addActive(U2, P2, TYPE);
}

/** Runs `args` with `path` (absolute) made mode 000; its mode is restored afterwards. */
async function runDenied(host: FakeHost, path: string, args: string[]) {
  const mode = (await Deno.stat(path)).mode! & 0o7777;
  await Deno.chmod(path, 0);
  try {
    return await host.run(args, { prefix: PREFIX });
  } finally {
    await Deno.chmod(path, mode);
  }
}

/** What every case must give: exit 1, nothing on stdout, one line naming `shown`. */
function expectError(result: { code: number; stdout: string; stderr: string }, shown: string) {
  assertEquals(result, {
    code: 1,
    stdout: "",
    stderr: `Error: Unable to read "${shown}": Permission denied (os error 13)\n`,
  });
}

test("list -d with a definition directory it cannot read fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path(`etc/mdevctl.d/${P1}`);
    expectError(await runDenied(host, dir, ["list", "-d"]), dir);
    // The same host, readable: both definitions are listed (the check above is not vacuous).
    const ok = await host.run(["list", "-d"]);
    assertEquals([ok.code, ok.stdout.split("\n").length - 1], [0, 2]);
  }));

test("list with the running-device directory unreadable fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path("sys/bus/mdev/devices");
    expectError(await runDenied(host, dir, ["list"]), dir);
  }));

test("types with an unreadable available_instances fails naming the file", () =>
  withHost(async (host) => {
    await populate(host);
    const file = `${host.typeDir(P2, TYPE)}/available_instances`;
    const shown = host.path(
      `sys/class/mdev_bus/${P2}/mdev_supported_types/${TYPE}/available_instances`,
    );
    expectError(await runDenied(host, file, ["types"]), shown);
  }));

test("types with an unreadable mdev_supported_types fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = `${host.parentDir(P1)}/mdev_supported_types`;
    const shown = host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types`);
    expectError(await runDenied(host, dir, ["types"]), shown);
  }));

test("start of a defined device under an unreadable definition directory fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path(`etc/mdevctl.d/${P1}`);
    expectError(await runDenied(host, dir, ["start", "-u", U1]), dir);
    assertEquals(await host.exists(`sys/bus/mdev/devices/${U1}`), false);
  }));

test("start with an unreadable available_instances fails naming the file", () =>
  withHost(async (host) => {
    await populate(host);
    const file = `${host.typeDir(P1, TYPE)}/available_instances`;
    const shown = host.path(
      `sys/class/mdev_bus/${P1}/mdev_supported_types/${TYPE}/available_instances`,
    );
    const result = await runDenied(host, file, ["start", "-u", U3, "-p", P1, "-t", TYPE]);
    expectError(result, shown);
    assertEquals(await host.exists(`sys/bus/mdev/devices/${U3}`), false);
  }));

test("define under an unreadable definition directory fails naming it, writing nothing", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path(`etc/mdevctl.d/${P1}`);
    const result = await runDenied(host, dir, ["define", "-u", U3, "-p", P1, "-t", TYPE]);
    // Named is the file it looked for inside the directory it cannot search.
    expectError(result, `${dir}/${U3}`);
    assertEquals(await host.exists(`etc/mdevctl.d/${P1}/${U3}`), false);
  }));

test("wait for a type under an unreadable mdev_supported_types fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = `${host.parentDir(P1)}/mdev_supported_types`;
    const shown = host.path(`sys/class/mdev_bus/${P1}/mdev_supported_types/${TYPE}`);
    const args = ["wait", "--parent", P1, "--type", TYPE, "--timeout", "0"];
    expectError(await runDenied(host, dir, args), shown);
  }));

test("export (host files) with a definition directory it cannot read fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path(`etc/mdevctl.d/${P1}`);
    expectError(await runDenied(host, dir, ["export"]), dir);
    assertEquals((await host.run(["export"])).code, 0);
  }));

test("apply (host files) with an unreadable available_instances fails naming it, changing nothing", () =>
  withHost(async (host) => {
    await populate(host);
    const hostFile = (await host.run(["export"])).stdout;
    const before = await host.snapshot("etc");
    const file = `${host.typeDir(P1, TYPE)}/available_instances`;
    const shown = host.path(
      `sys/class/mdev_bus/${P1}/mdev_supported_types/${TYPE}/available_instances`,
    );
    const mode = (await Deno.stat(file)).mode! & 0o7777;
    await Deno.chmod(file, 0);
    try {
      const result = await host.run(["apply", "-f", "-"], { stdin: hostFile, prefix: PREFIX });
      expectError(result, shown);
    } finally {
      await Deno.chmod(file, mode);
    }
    assertEquals(await host.snapshot("etc"), before);
  }));

test("monitor with the parent class directory unreadable fails naming it", () =>
  withHost(async (host) => {
    await populate(host);
    const dir = host.path("sys/class/mdev_bus");
    const args = ["monitor", "--source", "poll", "--timeout", "1"];
    expectError(await runDenied(host, dir, args), dir);
  }));

test("start-parent-mdevs: a device whose state cannot be read fails alone; the others start", () =>
  withHost(async (host) => {
    await populate(host);
    await host.define(P1, U3, { mdev_type: TYPE, start: "auto", attrs: [] });
    // U2 runs under P2; U1 is made to look half-there: a device directory nobody may search.
    await host.addActive(U1, P1, TYPE);
    const dir = `${host.parentDir(P1)}/${U1}`;
    const result = await runDenied(host, dir, ["start-parent-mdevs", P1]);
    assertEquals(result.code, 0);
    const lines = result.stderr.split("\n");
    assertEquals(lines[0], `Failed to start mdev ${U1} (type ${TYPE}) on parent ${P1}`);
    assertEquals(lines.at(-2), `Started mdev ${U3} (type ${TYPE}) on parent ${P1}`);
    assertEquals(
      lines.some((l) => l.endsWith("] Permission denied (os error 13)")),
      true,
      result.stderr,
    );
    assertEquals(
      await host.read(`${host.typeDir(P1, TYPE).slice(host.root.length + 1)}/create`),
      U3,
    );
  }));

/**
 * The in-use check of apply (hostfile.md §7): before stopping a device, its
 * VFIO group file `/dev/vfio/<group>` is opened read-write. EBUSY (a holder
 * such as QEMU) cannot be made on a fake tree; the kernel suite checks it
 * (tests/kernel, scenario hostfile-in-use). Here: the path is the one under
 * the root (through dist/mdevctl: granted by the launcher), a group file that
 * opens or does not exist means not in use, any other failure warns with the
 * path as /dev names it, and the device is stopped anyway.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, withHost } from "../helpers/fake_host.ts";
import { definitions, writeHostFile } from "./host_setup.ts";

const P = "0000:00:02.0";
const GROUP = "7";

/** One managed device of type t on P, running, in IOMMU group 7; returns its uuid. */
async function managedRunning(host: FakeHost): Promise<string> {
  await host.addParent(P, { t: { available: 2 } });
  const file = await writeHostFile(host, "version: 1\npools: [{name: p, type: t, perParent: 1}]\n");
  const first = await host.run(["apply", "-f", file]);
  assertEquals(first.code, 0, first.stderr);
  const [key] = Object.keys(await definitions(host));
  const uuid = key!.split("/")[1]!;
  await host.addActive(uuid, P, "t");
  const group = host.path(`sys/kernel/iommu_groups/${GROUP}`);
  await Deno.mkdir(group, { recursive: true });
  await Deno.symlink(group, `${host.parentDir(P)}/${uuid}/iommu_group`);
  await Deno.mkdir(host.path("dev/vfio"), { recursive: true });
  return uuid;
}

/** Prunes the device: stop, then undefine. */
async function prune(host: FakeHost) {
  const file = await writeHostFile(host, "version: 1\npools: []\n", "empty.yaml");
  return await host.run(["apply", "-f", file, "--prune", "--start"]);
}

async function stopped(host: FakeHost, uuid: string): Promise<boolean> {
  return (await host.read(`sys/devices/pci0000:00/${P}/${uuid}/remove`)) === "1";
}

Deno.test("apply opens the VFIO group file; one that opens means not in use", () =>
  withHost(async (host) => {
    const uuid = await managedRunning(host);
    // A FIFO opens read-write at once, like a free group's character device.
    new Deno.Command("mkfifo", { args: [host.path(`dev/vfio/${GROUP}`)] }).outputSync();
    const r = await prune(host);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(await stopped(host, uuid), true);
    assertEquals(Object.keys(await definitions(host)), []);
  }));

Deno.test("apply: no VFIO group file means not in use, silently", () =>
  withHost(async (host) => {
    const uuid = await managedRunning(host);
    const r = await prune(host);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(await stopped(host, uuid), true);
  }));

Deno.test("apply warns when the VFIO group file cannot be opened, and stops the device", () =>
  withHost(async (host) => {
    const uuid = await managedRunning(host);
    await Deno.mkdir(host.path(`dev/vfio/${GROUP}`));
    const r = await prune(host);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assertEquals(lines.length, 1, r.stderr);
    assertEquals(
      lines[0]!.replace(/^\[.*? WARN {2}mdevctl\] /, ""),
      `cannot tell whether ${uuid} is in use: "${
        host.path(`dev/vfio/${GROUP}`)
      }": Is a directory (os error 21)`,
    );
    assertEquals(await stopped(host, uuid), true);
  }));

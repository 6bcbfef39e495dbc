/**
 * The fake NVIDIA kernel itself (tests/helpers/fake_nvidia.ts): what the
 * vendor-VFIO tests rely on it to do, checked through the file system as a
 * program sees it, and through a Deno program whose permissions are scoped to
 * the fake root as the source entry's are (Deno canonicalises the granted path).
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { FakeHost, vfAddress } from "../helpers/fake_host.ts";
import { fakeKernelMissing, withKernel } from "../helpers/fake_nvidia.ts";
import { requiring } from "../helpers/requires.ts";

const missing = fakeKernelMissing();
const PF = "0000:41:00.0";
const VF0 = vfAddress(PF, 0);
const VF1 = vfAddress(PF, 1);

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ ...requiring(name, missing, fn), sanitizeResources: false });
}

const ERRNO: Record<string, string> = { "5": "EIO", "16": "EBUSY", "22": "EINVAL" };

/** "ok", or the errno's name of a failed call. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (e) {
    const n = /\(os error (\d+)\)/.exec((e as Error).message)?.[1] ?? "";
    return ERRNO[n] ?? (e as Error).message;
  }
}

function writeError(path: string, text: string): Promise<string> {
  return outcome(() => Deno.writeTextFile(path, text));
}

test("fake kernel: VFs, creatable lists that shrink, refused writes, release", async () => {
  const host = await FakeHost.create({ vfioGpus: [{ pf: PF }] });
  await withKernel(host, { format: "header" }, async (kernel) => {
    const dir0 = host.path(host.vfDir(PF, 0));
    const dir1 = host.path(host.vfDir(PF, 1));
    assertEquals(vfAddress(PF, 4), "0000:41:01.0");
    assertEquals(await Deno.readLink(`${dir0}/physfn`), host.path(`sys/devices/pci0000:40/${PF}`));
    assertEquals(await Deno.readTextFile(`${dir0}/nvidia/current_vgpu_type`), "0\n");
    const all = "ID : vGPU Name\n1410 : NVIDIA L40S-6Q\n1411 : NVIDIA L40S-12Q\n" +
      "1412 : NVIDIA L40S-24Q\n1413 : NVIDIA L40S-48Q\n";
    assertEquals(await Deno.readTextFile(`${dir1}/nvidia/creatable_vgpu_types`), all);
    assertEquals(await writeError(`${dir0}/nvidia/current_vgpu_type`, "1412\n"), "ok");
    // 24 of 48 used, sizes may not mix: only 24Q on the sibling; nothing on the VF itself.
    assertEquals(
      await Deno.readTextFile(`${dir1}/nvidia/creatable_vgpu_types`),
      "ID : vGPU Name\n1412 : NVIDIA L40S-24Q\n",
    );
    assertEquals(
      await Deno.readTextFile(`${dir0}/nvidia/creatable_vgpu_types`),
      "ID : vGPU Name\n",
    );
    assertEquals(await writeError(`${dir1}/nvidia/current_vgpu_type`, "1411"), "EINVAL");
    assertEquals(await writeError(`${dir0}/nvidia/current_vgpu_type`, "1412"), "EBUSY");
    assertEquals(await writeError(`${dir1}/nvidia/current_vgpu_type`, "x"), "EINVAL");
    assertEquals(await writeError(`${dir0}/nvidia/current_vgpu_type`, "0"), "ok");
    assertEquals(await Deno.readTextFile(`${dir0}/nvidia/current_vgpu_type`), "0\n");
    assertEquals(await Deno.readTextFile(`${dir1}/nvidia/creatable_vgpu_types`), all);
    assertEquals(await kernel.writes(), [
      `${VF0} 1412 ok`,
      `${VF1} 1411 EINVAL`,
      `${VF0} 1412 EBUSY`,
      `${VF1} x EINVAL`,
      `${VF0} 0 ok`,
    ]);
  });
});

test("fake kernel: list formats, hostile value, busy VFIO files, race", async () => {
  const host = await FakeHost.create({ vfioGpus: [{ pf: PF, current: { 2: 1411 } }] });
  const vfio0 = "devices/vfio0";
  await Deno.mkdir(host.path("dev/vfio/devices"), { recursive: true });
  await Deno.writeTextFile(host.path(`dev/vfio/${vfio0}`), "");
  await Deno.writeTextFile(host.path("dev/vfio/devices/vfio1"), "");
  await withKernel(host, {
    format: "odd",
    hostile: { [VF1]: "banana" },
    busy: [vfio0],
    race: { before: VF0, vf: vfAddress(PF, 3), id: 1411 },
  }, async (kernel) => {
    const dir0 = host.path(host.vfDir(PF, 0));
    assertEquals(
      await Deno.readTextFile(`${dir0}/nvidia/creatable_vgpu_types`),
      "  1411\t:   NVIDIA L40S-12Q  \n",
    );
    assertEquals(
      await Deno.readTextFile(host.path(`${host.vfDir(PF, 1)}/nvidia/current_vgpu_type`)),
      "banana\n",
    );
    const open = (p: string) =>
      outcome(async () =>
        (await Deno.open(host.path(`dev/vfio/${p}`), { read: true, write: true })).close()
      );
    assertEquals([await open(vfio0), await open("devices/vfio1")], ["EBUSY", "ok"]);
    // 12 used by VF 2; the race takes 12 more before VF 0's write; 24 + 12 fits: ok.
    assertEquals(await writeError(`${dir0}/nvidia/current_vgpu_type`, "1411"), "ok");
    assertEquals(await kernel.writes(), [`race ${vfAddress(PF, 3)} 1411 ok`, `${VF0} 1411 ok`]);
  });
});

test("fake kernel: sriov-manage -e copies the staged VFs in through the mount", async () => {
  const host = await FakeHost.create({ vfioGpus: [{ pf: PF, numVfs: 0, totalVfs: 2 }] });
  const script = await host.sriovManage();
  await withKernel(host, {}, async () => {
    const pf = host.path(`sys/devices/pci0000:40/${PF}`);
    assertEquals(await Deno.readTextFile(`${pf}/sriov_numvfs`), "0\n");
    const r = await new Deno.Command(script, { args: ["-e", PF] }).output();
    assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    assertEquals(await Deno.readTextFile(`${pf}/sriov_numvfs`), "2\n");
    assertEquals(await Deno.readLink(`${pf}/virtfn1`), host.path(host.vfDir(PF, 1)));
    const vf1 = host.path(`sys/bus/pci/devices/${VF1}/nvidia`);
    assertEquals(await Deno.readTextFile(`${vf1}/current_vgpu_type`), "0\n");
    assertEquals(await Deno.readTextFile(host.callLog), `sriov-manage -e ${PF}\n`);
  });
});

test("fake kernel: a Deno program scoped to the root reads and writes through the mount", async () => {
  const host = await FakeHost.create({ vfioGpus: [{ pf: PF }] });
  await withKernel(host, {}, async (kernel) => {
    const deno = new TextDecoder().decode(
      (await new Deno.Command(new URL("../../tools/deno_path.sh", import.meta.url).pathname)
        .output()).stdout,
    ).trim();
    const file = `${host.root}/sys/bus/pci/devices/${VF0}/nvidia/current_vgpu_type`;
    const program = `await Deno.writeTextFile(${JSON.stringify(file)}, "1413");
console.log((await Deno.readTextFile(${JSON.stringify(file)})).trim());`;
    await Deno.writeTextFile(`${host.root}.kernel/p.ts`, program);
    const r = await new Deno.Command(deno, {
      args: [
        "run",
        "--no-prompt",
        "--no-config",
        "--quiet",
        `--allow-read=${host.root},${host.root}.kernel/p.ts`,
        `--allow-write=${host.root}`,
        `${host.root}.kernel/p.ts`,
      ],
    }).output();
    assertEquals(new TextDecoder().decode(r.stderr), "");
    assertEquals(new TextDecoder().decode(r.stdout), "1413\n");
    assertEquals(await kernel.writes(), [`${VF0} 1413 ok`]);
  });
});

/**
 * Fake hosts for the host-file tests: the NVIDIA T4 host of hostfile.md §11,
 * and helpers to write host files and look at what apply left behind.
 */
import { FakeHost } from "../helpers/fake_host.ts";

export const T4A = "0000:3b:00.0";
export const T4B = "0000:5e:00.0";

/** The four §4 vector UUIDs of pool t4-q (owner gpu-pool). */
export const T4_UUIDS = {
  a0: "ce5e6e4d-2d74-5e66-8270-93e4b8657ce0",
  a1: "13d239f7-94da-5e66-bf61-1f80948d75bc",
  b0: "a357575d-a701-55ee-af7a-ddb3c7a58c06",
  b1: "67a61a03-1510-5b8e-b8b7-2a214474293d",
};

export interface PciFacts {
  driver?: string;
  vendor?: string;
  device?: string;
  physfn?: string;
}

/** Writes the PCI facts a parent selector reads (driver link, vendor, device, physfn). */
export async function setPciFacts(host: FakeHost, parent: string, facts: PciFacts): Promise<void> {
  const dir = host.parentDir(parent);
  if (facts.driver !== undefined) {
    const drv = host.path(`sys/bus/pci/drivers/${facts.driver}`);
    await Deno.mkdir(drv, { recursive: true });
    await Deno.symlink(drv, `${dir}/driver`);
    // A PCI device is on a bus: without a driver link it is not ready.
    await Deno.symlink(host.path("sys/bus/pci"), `${dir}/subsystem`);
  }
  if (facts.vendor !== undefined) await Deno.writeTextFile(`${dir}/vendor`, `${facts.vendor}\n`);
  if (facts.device !== undefined) await Deno.writeTextFile(`${dir}/device`, `${facts.device}\n`);
  if (facts.physfn !== undefined) {
    await Deno.symlink(`../${facts.physfn}`, `${dir}/physfn`);
  }
}

/** A T4 parent: nvidia-222 "GRID T4-1Q" (16) and nvidia-223 "GRID T4-2Q" (8). */
export async function addT4(host: FakeHost, parent: string): Promise<void> {
  await host.addParent(parent, {
    "nvidia-222": { available: 16, name: "GRID T4-1Q\n" },
    "nvidia-223": { available: 8, name: "GRID T4-2Q\n" },
  });
  await setPciFacts(host, parent, { driver: "nvidia", vendor: "0x10de", device: "0x1eb8" });
}

/** The §11 host file: example (1) cut down to pool t4-q. */
export const T4_FILE = `version: 1
owner: gpu-pool
defaults: {start: auto}
pools:
  - name: t4-q
    type: {name: "GRID T4-1Q"}                          # nvidia-222 on a T4
    parents: {driver: nvidia, pciDevice: ["0x1eb8"]}
    perParent: 2
`;

/** Writes a host file at etc/mdevctl/<name> and returns its path. */
export async function writeHostFile(
  host: FakeHost,
  text: string,
  name = "host.yaml",
): Promise<string> {
  await Deno.mkdir(host.path("etc/mdevctl"), { recursive: true });
  const path = host.path(`etc/mdevctl/${name}`);
  await Deno.writeTextFile(path, text);
  return path;
}

/** Modification times of every file below etc/mdevctl.d and var/lib/mdevctl. */
export async function mtimes(host: FakeHost): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else {
        const st = await Deno.lstat(p);
        // A rename gives a new inode even when the mtime happens to match.
        out[p] = `${st.mtime!.getTime()} ${st.ino}`;
      }
    }
  };
  await walk(host.path("etc/mdevctl.d"));
  await walk(host.path("var/lib/mdevctl"));
  return out;
}

/** The definitions on disk as `parent/uuid` -> parsed config. */
export async function definitions(host: FakeHost): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const base = host.path("etc/mdevctl.d");
  for await (const p of Deno.readDir(base)) {
    if (!p.isDirectory || p.name === "scripts.d") continue;
    for await (const f of Deno.readDir(`${base}/${p.name}`)) {
      out[`${p.name}/${f.name}`] = JSON.parse(
        await Deno.readTextFile(`${base}/${p.name}/${f.name}`),
      );
    }
  }
  return out;
}

/** The uuids an owner's ledger holds, sorted; none when it has no ledger. */
export async function ledgerUuids(host: FakeHost, owner = "default"): Promise<string[]> {
  let text: string;
  try {
    text = await host.read(`var/lib/mdevctl/owners/${owner}.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return Object.keys(JSON.parse(text).devices).sort();
}

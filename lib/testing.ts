/**
 * A fake host for the unit tests beside the core modules: an Environment on
 * a temporary root, with parents, running devices and definitions laid out
 * as the kernel and mdevctl lay them out (mdevctl.md §1.2). Test-only: no
 * module of the program imports it.
 */
import type { MdevConfig } from "./config.ts";
import { serializeConfig } from "./config.ts";
import { Environment } from "./environment.ts";

/** A fake host and its run context, with captured stderr. */
export interface FakeEnv {
  env: Environment;
  root: string;
  /** Everything written to stderr (log lines included). */
  stderr: string[];
  /** A parent with types name -> available_instances text. */
  addParent(parent: string, types?: Record<string, string>): string;
  /** A running device of `type` under `parent` (with an iommu group when given). */
  addActive(uuid: string, parent: string, type: string, group?: string): string;
  /** A stored definition. */
  define(parent: string, uuid: string, config: MdevConfig): string;
  /** Removes the root. */
  cleanup(): void;
}

/** A fresh fake host; `log` is the MDEVCTL_LOG filter (default warn). */
export function fakeEnv(log = "warn"): FakeEnv {
  const root = Deno.makeTempDirSync({ prefix: "mdevctl-unit-" });
  const stderr: string[] = [];
  const env = new Environment(root, {
    log,
    stdout: () => {},
    stderr: (data) => stderr.push(typeof data === "string" ? data : new TextDecoder().decode(data)),
  });
  const dev = (parent: string) => env.path(`sys/devices/pci0000:00/${parent}`);
  Deno.mkdirSync(env.mdevBase, { recursive: true });
  Deno.mkdirSync(env.parentBase, { recursive: true });
  return {
    env,
    root,
    stderr,
    addParent(parent, types = {}) {
      const dir = dev(parent);
      Deno.mkdirSync(`${dir}/mdev_supported_types`, { recursive: true });
      for (const [type, available] of Object.entries(types)) {
        const t = `${dir}/mdev_supported_types/${type}`;
        Deno.mkdirSync(`${t}/devices`, { recursive: true });
        Deno.writeTextFileSync(`${t}/available_instances`, available);
        Deno.writeTextFileSync(`${t}/device_api`, "vfio-pci\n");
        Deno.writeTextFileSync(`${t}/create`, "");
      }
      Deno.symlinkSync(dir, env.parentPath(parent));
      return dir;
    },
    addActive(uuid, parent, type, group) {
      const dir = `${dev(parent)}/${uuid}`;
      Deno.mkdirSync(dir, { recursive: true });
      const typeDir = `${dev(parent)}/mdev_supported_types/${type}`;
      Deno.mkdirSync(`${typeDir}/devices`, { recursive: true });
      Deno.symlinkSync(typeDir, `${dir}/mdev_type`);
      Deno.symlinkSync(dir, `${typeDir}/devices/${uuid}`);
      Deno.writeTextFileSync(`${dir}/remove`, "");
      if (group !== undefined) {
        const groupDir = env.path(`sys/kernel/iommu_groups/${group}`);
        Deno.mkdirSync(groupDir, { recursive: true });
        Deno.symlinkSync(groupDir, `${dir}/iommu_group`);
      }
      Deno.symlinkSync(dir, env.devicePath(uuid));
      return dir;
    },
    define(parent, uuid, config) {
      Deno.mkdirSync(env.parentConfigDir(parent), { recursive: true });
      const path = env.configFile(parent, uuid);
      Deno.writeTextFileSync(path, serializeConfig(config));
      return path;
    },
    cleanup() {
      Deno.removeSync(root, { recursive: true });
    },
  };
}

/** Runs `body` with a fresh fake host, removed afterwards. */
export async function withFakeEnv(
  body: (host: FakeEnv) => void | Promise<void>,
  log?: string,
): Promise<void> {
  const host = fakeEnv(log);
  try {
    await body(host);
  } finally {
    host.cleanup();
  }
}

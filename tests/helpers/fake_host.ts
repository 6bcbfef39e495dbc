/**
 * A fake host for black-box tests: a temporary root holding the sysfs, config
 * and script trees mdevctl reads (spec §1.2), and a way to run the real
 * program against it.
 *
 * The program under test is chosen by MDEVCTL_TEST_TARGET:
 *  - "source" (default): `deno run cli.ts` with permissions scoped to the
 *    root, so any access outside the fake host fails the test;
 *  - "dist": the built dist/mdevctl (or dist/lsmdev) with -A, as installed.
 */

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const DENO = new TextDecoder().decode(
  new Deno.Command(`${TOP}/tools/deno_path.sh`).outputSync().stdout,
).trim();

export const TARGET = Deno.env.get("MDEVCTL_TEST_TARGET") ?? "source";

export interface TypeSpec {
  available?: number | string;
  deviceApi?: string;
  name?: string;
  description?: string;
}

export interface RunOptions {
  stdin?: string;
  /** Run as lsmdev (argv[0] ends in lsmdev). */
  lsmdev?: boolean;
  env?: Record<string, string>;
  /** Working directory (default: the root). */
  cwd?: string;
  /**
   * A command line the program runs under, e.g. `setpriv …` to drop
   * capabilities; the program and its arguments follow it.
   */
  prefix?: string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class FakeHost {
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<FakeHost> {
    const root = await Deno.makeTempDir({ prefix: "mdevctl-test-" });
    const host = new FakeHost(root);
    for (
      const dir of [
        "sys/bus/mdev/devices",
        "sys/class/mdev_bus",
        "sys/devices",
        "etc/mdevctl.d",
        "usr/lib/mdevctl/scripts.d/callouts",
        "usr/lib/mdevctl/scripts.d/notifiers",
      ]
    ) {
      await Deno.mkdir(host.path(dir), { recursive: true });
    }
    return host;
  }

  /** Absolute path of a root-relative path. */
  path(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** Where a parent's device directory lives (the class entry links to it). */
  parentDir(parent: string): string {
    return this.path(`sys/devices/pci0000:00/${parent}`);
  }

  typeDir(parent: string, type: string): string {
    return `${this.parentDir(parent)}/mdev_supported_types/${type}`;
  }

  /** A parent registered with mdev, with its supported types. */
  async addParent(parent: string, types: Record<string, TypeSpec> = {}): Promise<void> {
    const dir = this.parentDir(parent);
    await Deno.mkdir(`${dir}/mdev_supported_types`, { recursive: true });
    await Deno.symlink(dir, this.path(`sys/class/mdev_bus/${parent}`));
    for (const [type, spec] of Object.entries(types)) await this.addType(parent, type, spec);
  }

  async addType(parent: string, type: string, spec: TypeSpec = {}): Promise<void> {
    const dir = this.typeDir(parent, type);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/available_instances`, `${spec.available ?? 1}\n`);
    await Deno.writeTextFile(`${dir}/device_api`, `${spec.deviceApi ?? "vfio-pci"}\n`);
    if (spec.name !== undefined) await Deno.writeTextFile(`${dir}/name`, spec.name);
    if (spec.description !== undefined) {
      await Deno.writeTextFile(`${dir}/description`, spec.description);
    }
    await Deno.writeTextFile(`${dir}/create`, "");
  }

  /**
   * A running device, as the kernel shows it: a directory under the parent
   * with an `mdev_type` link and a `remove` file, linked from the mdev bus.
   * Extra attribute files can be given.
   */
  async addActive(
    uuid: string,
    parent: string,
    type: string,
    attributes: Record<string, string> = {},
  ): Promise<void> {
    const typeDir = this.typeDir(parent, type);
    await Deno.mkdir(typeDir, { recursive: true });
    const dir = `${this.parentDir(parent)}/${uuid}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.symlink(typeDir, `${dir}/mdev_type`);
    await Deno.writeTextFile(`${dir}/remove`, "");
    for (const [name, value] of Object.entries(attributes)) {
      await Deno.writeTextFile(`${dir}/${name}`, value);
    }
    await Deno.symlink(dir, this.path(`sys/bus/mdev/devices/${uuid}`));
  }

  /** A stored definition; `config` is written verbatim when a string. */
  async define(parent: string, uuid: string, config: string | object): Promise<void> {
    await Deno.mkdir(this.path(`etc/mdevctl.d/${parent}`), { recursive: true });
    await Deno.writeTextFile(
      this.path(`etc/mdevctl.d/${parent}/${uuid}`),
      typeof config === "string" ? config : JSON.stringify(config, null, 2),
    );
  }

  /** An executable script in a callout or notifier directory. */
  async addScript(
    name: string,
    body: string,
    where: "callouts" | "notifiers" | "deprecated-callouts" | "deprecated-notifiers" = "callouts",
  ): Promise<string> {
    const dir = where.startsWith("deprecated-")
      ? this.path(`etc/mdevctl.d/scripts.d/${where.slice("deprecated-".length)}`)
      : this.path(`usr/lib/mdevctl/scripts.d/${where}`);
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${name}`;
    await Deno.writeTextFile(path, body, { mode: 0o755 });
    await Deno.chmod(path, 0o755);
    return path;
  }

  async read(relative: string): Promise<string> {
    return await Deno.readTextFile(this.path(relative));
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await Deno.lstat(this.path(relative));
      return true;
    } catch {
      return false;
    }
  }

  /** Every file below `relative` with its content (for "nothing changed" checks). */
  async snapshot(relative = "."): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const walk = async (dir: string, prefix: string) => {
      for await (const entry of Deno.readDir(dir)) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        const full = `${dir}/${entry.name}`;
        if (entry.isSymlink) result[rel] = `-> ${await Deno.readLink(full)}`;
        else if (entry.isDirectory) {
          result[rel + "/"] = "";
          await walk(full, rel);
        } else result[rel] = await Deno.readTextFile(full);
      }
    };
    await walk(this.path(relative), "");
    return result;
  }

  /** Starts mdevctl (or lsmdev) against this host; the caller collects it. */
  async spawn(args: string[], options: RunOptions = {}): Promise<Deno.ChildProcess> {
    const env: Record<string, string> = {
      MDEVCTL_ENV_ROOT: this.root,
      ...(options.lsmdev ? { MDEVCTL_ARGV0: "/usr/sbin/lsmdev" } : {}),
      ...options.env,
    };
    let command: Deno.Command;
    const common = {
      env,
      cwd: options.cwd ?? this.root,
      stdin: options.stdin === undefined ? "null" as const : "piped" as const,
      stdout: "piped" as const,
      stderr: "piped" as const,
    };
    if (TARGET === "dist") {
      const program = `${TOP}/dist/${options.lsmdev ? "lsmdev" : "mdevctl"}`;
      // The launcher passes $0 itself; drop our override so it is exercised.
      delete env.MDEVCTL_ARGV0;
      command = prefixed(options.prefix, program, args, common);
    } else {
      const scripts = await this.scripts();
      const perms = [
        `--allow-read=${this.root}`,
        `--allow-write=${this.root}`,
        "--allow-env",
        ...(scripts.length > 0 ? [`--allow-run=${scripts.join(",")}`] : []),
      ];
      command = prefixed(options.prefix, DENO, [
        "run",
        "--no-prompt",
        "--no-config",
        "--no-lock",
        "--quiet",
        ...perms,
        `${TOP}/cli.ts`,
        ...args,
      ], common);
    }
    const child = command.spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    return child;
  }

  /** Runs mdevctl (or lsmdev) against this host to completion. */
  async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const out = await (await this.spawn(args, options)).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  }

  private async scripts(): Promise<string[]> {
    const found: string[] = [];
    for (
      const dir of [
        "usr/lib/mdevctl/scripts.d/callouts",
        "usr/lib/mdevctl/scripts.d/notifiers",
        "etc/mdevctl.d/scripts.d/callouts",
        "etc/mdevctl.d/scripts.d/notifiers",
      ]
    ) {
      try {
        for await (const e of Deno.readDir(this.path(dir))) {
          found.push(this.path(`${dir}/${e.name}`));
        }
      } catch {
        // no such directory
      }
    }
    return found;
  }

  async cleanup(): Promise<void> {
    await Deno.remove(this.root, { recursive: true });
  }
}

/** `program args`, run under `prefix` when one is given. */
function prefixed(
  prefix: string[] | undefined,
  program: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args">,
): Deno.Command {
  if (prefix === undefined || prefix.length === 0) {
    return new Deno.Command(program, { args, ...options });
  }
  return new Deno.Command(prefix[0]!, {
    args: [...prefix.slice(1), program, ...args],
    ...options,
  });
}

/** Runs `body` with a fresh fake host, removed afterwards. */
export async function withHost(body: (host: FakeHost) => Promise<void>): Promise<void> {
  const host = await FakeHost.create();
  try {
    await body(host);
  } finally {
    await host.cleanup();
  }
}

export const U1 = "11111111-1111-0000-0000-000000000000";
export const U2 = "22222222-2222-0000-0000-000000000000";
export const U3 = "33333333-3333-0000-0000-000000000000";
export const P1 = "0000:00:02.0";
export const P2 = "0000:00:03.0";

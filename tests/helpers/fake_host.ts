/**
 * The fake host of the black-box and compatibility suites: a temporary root
 * holding the sysfs, config and script trees mdevctl reads (mdevctl.md §1.2),
 * described by one declarative `HostSpec` (or built step by step with the
 * `FakeHost` methods, which use the same builder), and a way to run the real
 * program against it.
 *
 * Links point into the root (black-box: the program gets MDEVCTL_ENV_ROOT)
 * or, with `relativeLinks`, are relative as the kernel makes them
 * (compatibility suite: the tree is bind-mounted over /sys and /etc/mdevctl.d
 * in a private mount namespace, and the sandboxed program reaches /sys through
 * a bind of it elsewhere, docs/sandbox.md, where a link to /sys/... would lead
 * back to /sys, which Deno refuses).
 *
 * The program under test is chosen by MDEVCTL_TEST_TARGET:
 *  - "source" (default): `deno run cli.ts` with permissions scoped to the
 *    root, so any access outside the fake host fails the test;
 *  - "dist": the built dist/mdevctl (or dist/lsmdev), through its sandboxing
 *    launcher (docs/sandbox.md), which scopes permissions to the root.
 */
import { script, type ScriptSpec } from "./scripts.ts";
import { readTree } from "./tree.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
let deno: string | undefined;
/** The pinned Deno binary, looked up on first use. */
function denoPath(): string {
  deno ??= new TextDecoder().decode(
    new Deno.Command(`${TOP}/tools/deno_path.sh`).outputSync().stdout,
  ).trim();
  return deno;
}

export const TARGET = Deno.env.get("MDEVCTL_TEST_TARGET") ?? "source";

/** One supported type: the files of its directory under mdev_supported_types/. */
export interface TypeSpec {
  /** available_instances, written with a newline (default 1). */
  available?: number | string;
  /** device_api, written with a newline (default vfio-pci). */
  deviceApi?: string;
  /** The `name` file (the type's display name), written verbatim; none when absent. */
  name?: string;
  /** The `description` file, written verbatim; none when absent. */
  description?: string;
  /** `create` is a directory, so writing it fails (EISDIR). */
  createIsDir?: boolean;
}

/** A parent device registered with mdev. */
export interface ParentSpec {
  /** The parent's device name (its sys/class/mdev_bus entry), e.g. 0000:00:02.0. */
  name: string;
  /** Its device directory below sys/devices (default `pci0000:00/<name>`). */
  dev?: string;
  /**
   * Type directory name → type. Absent: no mdev_supported_types directory
   * at all (a device that is not, or no longer, an mdev parent).
   */
  types?: Record<string, TypeSpec>;
  /** Other files of the parent's device directory (name → content), e.g. `vendor`. */
  files?: Record<string, string>;
}

/** A running device, as the kernel shows it. */
export interface ActiveSpec {
  uuid: string;
  /** The parent's device name (its device directory as in `parents`, else the default). */
  parent: string;
  /** Type directory name the `mdev_type` link points at (the type is not created). */
  type: string;
  /** Attribute files (name → content); a name may hold `/`. */
  attributes?: Record<string, string>;
  /** Attribute names made directories, so writing them fails. */
  attributeDirs?: string[];
  /** No mdev_type link (a half-created device). */
  noTypeLink?: boolean;
  /** `remove` is a directory, so writing it fails (EISDIR). */
  removeIsDir?: boolean;
}

/** A stored definition, etc/mdevctl.d/<parent>/<uuid>. */
export interface DefinedSpec {
  parent: string;
  /** The file name, normally the uuid. */
  uuid: string;
  /** An object is written as pretty JSON (no trailing newline); a string verbatim. */
  config: string | object;
}

/** Where a script lives: usr/lib/mdevctl/scripts.d/… or the deprecated etc/mdevctl.d/scripts.d/…. */
export type ScriptDir =
  | "callouts"
  | "notifiers"
  | "deprecated-callouts"
  | "deprecated-notifiers";

/** An executable script. */
export interface ScriptFileSpec {
  /** File name. */
  name: string;
  /** Default "callouts". */
  where?: ScriptDir;
  /** The script text, or a fixture of scripts.ts that logs to the host's calls.log. */
  body: string | Omit<ScriptSpec, "log">;
}

/** A whole fake host. */
export interface HostSpec {
  parents?: ParentSpec[];
  active?: ActiveSpec[];
  defined?: DefinedSpec[];
  scripts?: ScriptFileSpec[];
  /** Files under in/ (command inputs such as --jsonfile), name → content. */
  inputs?: Record<string, string>;
  /**
   * Also create the deprecated etc/mdevctl.d/scripts.d/{callouts,notifiers}
   * directories (a Debian host has them; 1.2.0's start-up check needs them).
   */
  deprecatedScriptDirs?: boolean;
}

export interface BuildOptions {
  /**
   * Prefix of symlink targets: the root itself (default), or "" for links
   * that resolve only once the tree is mounted at / (compatibility suite).
   */
  linkBase?: string;
  /** Links relative to their own directory (`../../devices/...`), as the kernel's. */
  relativeLinks?: boolean;
  /**
   * Scripts meant for usr/lib/mdevctl go to etc/mdevctl.d/scripts.d instead
   * (Debian's 1.2.0 reads only there).
   */
  usrLibScriptsToEtc?: boolean;
  /** Kernel-like modes: 0444 for read-only attributes, 0200 for create/remove. */
  sysfsModes?: boolean;
}

const BASE_DIRS = [
  "sys/bus/mdev/devices",
  "sys/class/mdev_bus",
  "sys/devices",
  "etc/mdevctl.d",
  "usr/lib/mdevctl/scripts.d/callouts",
  "usr/lib/mdevctl/scripts.d/notifiers",
];

/** The call log fixture scripts append to, relative to the root. */
export const CALL_LOG = "calls.log";

/** Root-relative directory of a parent's device (default `sys/devices/pci0000:00/<name>`). */
export function parentDevDir(parent: string, dev?: string): string {
  return `sys/devices/${dev ?? `pci0000:00/${parent}`}`;
}

function scriptDirOf(where: ScriptDir, options: BuildOptions): string {
  if (where.startsWith("deprecated-")) {
    return `etc/mdevctl.d/scripts.d/${where.slice("deprecated-".length)}`;
  }
  return options.usrLibScriptsToEtc
    ? `etc/mdevctl.d/scripts.d/${where}`
    : `usr/lib/mdevctl/scripts.d/${where}`;
}

function writeFile(path: string, content: string, mode?: number): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, content, mode === undefined ? {} : { mode });
  if (mode !== undefined) Deno.chmodSync(path, mode);
}

/**
 * Builds the parts of a host below `root`, in a fixed order: base layout,
 * parents and types, running devices, definitions, scripts, inputs. Each
 * part may be called alone on an existing host (the FakeHost methods do).
 */
export class HostBuilder {
  readonly root: string;
  readonly options: BuildOptions;
  /** Device directory of each parent built so far, by name. */
  readonly devs = new Map<string, string>();

  constructor(root: string, options: BuildOptions = {}) {
    this.root = root;
    this.options = options;
  }

  private abs(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The text of a link at `at` to `target` (both relative to the root). */
  private link(target: string, at: string): string {
    if (!this.options.relativeLinks) return `${this.options.linkBase ?? this.root}/${target}`;
    const from = at.split("/").slice(0, -1);
    const to = target.split("/");
    let common = 0;
    while (common < from.length && from[common] === to[common]) common++;
    return "../".repeat(from.length - common) + to.slice(common).join("/");
  }

  private mode(kernel: number): number | undefined {
    return this.options.sysfsModes ? kernel : undefined;
  }

  /** Root-relative device directory of a parent. */
  devDir(parent: string): string {
    return this.devs.get(parent) ?? parentDevDir(parent);
  }

  build(spec: HostSpec): void {
    this.layout(spec.deprecatedScriptDirs ?? false);
    for (const p of spec.parents ?? []) this.parent(p);
    for (const a of spec.active ?? []) this.active(a);
    for (const d of spec.defined ?? []) this.defined(d);
    for (const s of spec.scripts ?? []) this.script(s);
    for (const [name, content] of Object.entries(spec.inputs ?? {})) {
      writeFile(this.abs(`in/${name}`), content);
    }
  }

  layout(deprecatedScriptDirs = false): void {
    const dirs = deprecatedScriptDirs
      ? [...BASE_DIRS, "etc/mdevctl.d/scripts.d/callouts", "etc/mdevctl.d/scripts.d/notifiers"]
      : BASE_DIRS;
    for (const dir of dirs) Deno.mkdirSync(this.abs(dir), { recursive: true });
  }

  /**
   * A parent appears as the kernel registers one: its types first, the
   * class entry last, so a program waiting for it never sees it half made.
   */
  parent(p: ParentSpec): void {
    const dev = parentDevDir(p.name, p.dev);
    this.devs.set(p.name, dev);
    Deno.mkdirSync(this.abs(dev), { recursive: true });
    if (p.types !== undefined) {
      Deno.mkdirSync(this.abs(`${dev}/mdev_supported_types`), { recursive: true });
      for (const [type, spec] of Object.entries(p.types)) this.type(p.name, type, spec);
    }
    for (const [name, content] of Object.entries(p.files ?? {})) {
      writeFile(this.abs(`${dev}/${name}`), content, this.mode(0o444));
    }
    Deno.symlinkSync(
      this.link(dev, `sys/class/mdev_bus/${p.name}`),
      this.abs(`sys/class/mdev_bus/${p.name}`),
    );
  }

  /**
   * A supported type, whole at once: a new type directory is filled aside
   * and renamed into place (an existing one is filled in place).
   */
  type(parent: string, type: string, spec: TypeSpec = {}): void {
    const final = this.abs(`${this.devDir(parent)}/mdev_supported_types/${type}`);
    let exists = true;
    try {
      Deno.lstatSync(final);
    } catch {
      exists = false;
    }
    const dir = exists ? final : Deno.makeTempDirSync({ dir: this.root, prefix: ".type-" });
    this.fillType(dir, spec);
    if (!exists) {
      Deno.chmodSync(dir, 0o755);
      Deno.mkdirSync(final.slice(0, final.lastIndexOf("/")), { recursive: true });
      Deno.renameSync(dir, final);
    }
  }

  private fillType(dir: string, spec: TypeSpec): void {
    const ro = this.mode(0o444);
    writeFile(`${dir}/available_instances`, `${spec.available ?? 1}\n`, ro);
    writeFile(`${dir}/device_api`, `${spec.deviceApi ?? "vfio-pci"}\n`, ro);
    if (spec.name !== undefined) writeFile(`${dir}/name`, spec.name, ro);
    if (spec.description !== undefined) writeFile(`${dir}/description`, spec.description, ro);
    if (spec.createIsDir) Deno.mkdirSync(`${dir}/create`);
    else writeFile(`${dir}/create`, "", this.mode(0o200));
    Deno.mkdirSync(`${dir}/devices`, { recursive: true });
  }

  active(a: ActiveSpec): void {
    const parentDev = this.devDir(a.parent);
    const typeDir = `${parentDev}/mdev_supported_types/${a.type}`;
    const dev = `${parentDev}/${a.uuid}`;
    Deno.mkdirSync(this.abs(dev), { recursive: true });
    if (!a.noTypeLink) {
      Deno.symlinkSync(this.link(typeDir, `${dev}/mdev_type`), this.abs(`${dev}/mdev_type`));
    }
    if (a.removeIsDir) Deno.mkdirSync(this.abs(`${dev}/remove`));
    else writeFile(this.abs(`${dev}/remove`), "", this.mode(0o200));
    for (const [name, value] of Object.entries(a.attributes ?? {})) {
      writeFile(this.abs(`${dev}/${name}`), value);
    }
    for (const name of a.attributeDirs ?? []) {
      Deno.mkdirSync(this.abs(`${dev}/${name}`), { recursive: true });
    }
    Deno.symlinkSync(
      this.link(dev, `sys/bus/mdev/devices/${a.uuid}`),
      this.abs(`sys/bus/mdev/devices/${a.uuid}`),
    );
    if (!a.noTypeLink) {
      // The kernel lists the device under its type's devices/ too (when the type exists).
      const at = `${typeDir}/devices/${a.uuid}`;
      try {
        Deno.symlinkSync(this.link(dev, at), this.abs(at));
      } catch {
        // no such type directory: nothing to list the device in
      }
    }
  }

  defined(d: DefinedSpec): void {
    writeFile(
      this.abs(`etc/mdevctl.d/${d.parent}/${d.uuid}`),
      typeof d.config === "string" ? d.config : JSON.stringify(d.config, null, 2),
    );
  }

  /** Writes an executable script; returns its absolute path. */
  script(s: ScriptFileSpec): string {
    const path = this.abs(`${scriptDirOf(s.where ?? "callouts", this.options)}/${s.name}`);
    const body = typeof s.body === "string"
      ? s.body
      : script({ ...s.body, log: this.abs(CALL_LOG) });
    writeFile(path, body, 0o755);
    return path;
  }
}

/** Builds `spec` below `root` (which may not exist yet). */
export async function buildHost(
  root: string,
  spec: HostSpec,
  options: BuildOptions = {},
): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  new HostBuilder(root, options).build(spec);
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
  /** More programs the source entry may run (e.g. a stand-in for udevadm). */
  allowRun?: string[];
  /**
   * A test-only entry module run instead of cli.ts, from source whatever the
   * target (tests/monitor/faulty_monitor.ts injects faults in-process).
   */
  entry?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class FakeHost {
  readonly root: string;
  private readonly builder: HostBuilder;

  private constructor(root: string) {
    this.root = root;
    this.builder = new HostBuilder(root);
  }

  /** A fresh host in a new temporary directory, with `spec` built (default: the bare layout). */
  static async create(spec: HostSpec = {}): Promise<FakeHost> {
    const root = await Deno.makeTempDir({ prefix: "mdevctl-test-" });
    const host = new FakeHost(root);
    await host.builder.build(spec);
    return host;
  }

  /** Adds the parts of `spec` to this host. */
  async build(spec: HostSpec): Promise<void> {
    await this.builder.build(spec);
  }

  /** Absolute path of a root-relative path. */
  path(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** The log fixture scripts (scripts.ts) built by this host append to. */
  get callLog(): string {
    return this.path(CALL_LOG);
  }

  /** Where a parent's device directory lives (the class entry links to it). */
  parentDir(parent: string): string {
    return this.path(this.builder.devDir(parent));
  }

  typeDir(parent: string, type: string): string {
    return `${this.parentDir(parent)}/mdev_supported_types/${type}`;
  }

  /** A parent registered with mdev, with its supported types. */
  async addParent(parent: string, types: Record<string, TypeSpec> = {}): Promise<void> {
    await this.builder.parent({ name: parent, types });
  }

  async addType(parent: string, type: string, spec: TypeSpec = {}): Promise<void> {
    await this.builder.type(parent, type, spec);
  }

  /**
   * A running device, as the kernel shows it: a directory under the parent
   * with an `mdev_type` link and a `remove` file, linked from the mdev bus.
   * Extra attribute files can be given. The type's directory is created
   * (empty) when missing, so the link resolves.
   */
  async addActive(
    uuid: string,
    parent: string,
    type: string,
    attributes: Record<string, string> = {},
  ): Promise<void> {
    await Deno.mkdir(this.typeDir(parent, type), { recursive: true });
    await this.builder.active({ uuid, parent, type, attributes });
  }

  /** A stored definition; `config` is written verbatim when a string. */
  async define(parent: string, uuid: string, config: string | object): Promise<void> {
    await this.builder.defined({ parent, uuid, config });
  }

  /**
   * An executable script in a callout or notifier directory: a body, or a
   * fixture of scripts.ts logging to `callLog`. Returns its path.
   */
  async addScript(
    name: string,
    body: string | Omit<ScriptSpec, "log">,
    where: ScriptDir = "callouts",
  ): Promise<string> {
    return await this.builder.script({ name, body, where });
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

  /**
   * Every entry below `relative` → its content (for "nothing changed"
   * checks): directories as `dir/` → "", symlinks as "-> target", other
   * special files as "(special)".
   */
  async snapshot(relative = "."): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const text = new TextDecoder();
    for (const e of await readTree(this.path(relative), { contents: true })) {
      result[e.path] = e.kind === "link"
        ? `-> ${e.target}`
        : e.kind === "dir"
        ? ""
        : e.kind === "file"
        ? text.decode(e.bytes)
        : "(special)";
    }
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
    if (TARGET === "dist" && options.entry === undefined) {
      const program = `${TOP}/dist/${options.lsmdev ? "lsmdev" : "mdevctl"}`;
      // The launcher passes $0 itself; drop our override so it is exercised.
      delete env.MDEVCTL_ARGV0;
      command = prefixed(options.prefix, program, args, common);
    } else {
      const scripts = [...await this.scripts(), ...(options.allowRun ?? [])];
      const perms = [
        `--allow-read=${this.root}`,
        `--allow-write=${this.root}`,
        "--allow-env",
        ...(scripts.length > 0 ? [`--allow-run=${scripts.join(",")}`] : []),
      ];
      command = prefixed(options.prefix, denoPath(), [
        "run",
        "--no-prompt",
        "--no-config",
        "--no-lock",
        "--quiet",
        ...perms,
        options.entry ?? `${TOP}/cli.ts`,
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

/** Log lines without their time stamp: `[WARN  mdevctl::callouts] …`. */
export function stripLogTimes(stderr: string): string {
  return stderr.replace(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /gm, "[");
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

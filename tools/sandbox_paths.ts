/**
 * The permission sandbox, declared once (docs/sandbox.md): every path the
 * program may read, write or run from, every variable it may read, the views
 * of /sys and /dev, and Deno's flags. tools/gen_sandbox.ts makes the rest
 * from it: the launcher's configuration (both forms), the compiled binary's
 * flags, the units' ReadWritePaths= and BindPaths= lines and the table of
 * docs/sandbox.md; tools/gen_sandbox_test.ts fails when a checked-in copy
 * drifts, and tests/install/sandbox_test.ts expects what it says.
 *
 * Paths are relative to the root: "/" installed, MDEVCTL_ENV_ROOT in tests.
 * They hold no blank and no comma (the launcher splits lists at blanks,
 * Deno at commas), which the generator checks.
 */
import {
  CALLOUT_DIRS,
  CONFIG_BASE,
  CONFIG_STAGING,
  LOCK_FILE,
  NOTIFIER_DIRS,
  OWNERS_DIR,
} from "../lib/environment.ts";

/** What the program may do with a path: write (and read) it, or only read it. */
export type Access = "write" | "read";

/**
 * How the units (systemd/*.in) let the program write a path under
 * ProtectSystem=strict: `ReadWritePaths=` always, or only when it exists
 * (`-` prefix), or not at all, because `/dev` stays writable there.
 */
export type UnitGrant = "always" | "if-present" | "none";

/** One path of the program's. */
export interface SandboxPath {
  /** Relative to the root; under `sys/` or `dev/` it is reached through the view. */
  readonly path: string;
  readonly access: Access;
  /** Why the program needs it (the docs' table). */
  readonly purpose: string;
  /** Writable paths only: how the units make it writable. */
  readonly unit?: UnitGrant;
}

/** A tree the program reaches through a bind of it at an empty directory, its view. */
export interface View {
  /** The tree, relative to the root: `sys` or `dev`. */
  readonly tree: string;
  /** The view's directory in LIBDIR (`$LIBDIR/<dir>`; dist/<dir> for the build). */
  readonly dir: string;
  /** The variable the program takes the view from (lib/environment.ts). */
  readonly variable: string;
  /** A name the launcher checks to know the view is bound. */
  readonly probe: string;
}

/** The views: Deno refuses paths under /sys and device files under /dev without -A. */
export const VIEWS: readonly View[] = [
  { tree: "sys", dir: "sysfs", variable: "MDEVCTL_SYSFS_VIEW", probe: "class" },
  // /dev/null is in every /dev; /dev/vfio only once a VFIO driver is loaded.
  { tree: "dev", dir: "dev", variable: "MDEVCTL_DEV_VIEW", probe: "null" },
];

/** Script directories: each entry in them when a command starts may be run. */
export const SCRIPT_DIRS: readonly string[] = [...CALLOUT_DIRS, ...NOTIFIER_DIRS];

/** The paths, in the order the flags list them. */
export const SANDBOX_PATHS: readonly SandboxPath[] = [
  {
    path: "sys",
    access: "write",
    purpose: "sysfs, through its view: create, remove, attributes",
    unit: "always",
  },
  {
    path: "dev/vfio",
    access: "write",
    purpose: "VFIO group files, through the view of `/dev`: the in-use check of `apply` " +
      "(no other device file)",
    unit: "none",
  },
  {
    path: CONFIG_BASE,
    access: "write",
    purpose: "the definitions",
    unit: "if-present",
  },
  {
    path: CONFIG_STAGING,
    access: "write",
    purpose: "config writes stage their temporary file here, outside the tree libvirt watches",
    unit: "if-present",
  },
  {
    path: LOCK_FILE.slice(0, LOCK_FILE.lastIndexOf("/")),
    access: "write",
    purpose: "the lock file `mdevctl.lock` (the directory: a missing one is made)",
    unit: "if-present",
  },
  {
    path: OWNERS_DIR.slice(0, OWNERS_DIR.lastIndexOf("/")),
    access: "write",
    purpose: "the ownership ledgers of `apply`",
    unit: "if-present",
  },
  {
    path: "usr/lib/mdevctl/scripts.d",
    access: "read",
    purpose: "the callout and notifier scripts (always below /usr/lib, whatever PREFIX is)",
  },
];

/** Programs the program may run by name, beside the scripts: `udevadm` for `monitor`. */
export const PROGRAMS: readonly string[] = ["udevadm"];

/** The environment variables the program reads, and nothing else. */
export const ENV_VARS: readonly { name: string; purpose: string }[] = [
  { name: "MDEVCTL_ENV_ROOT", purpose: "a fake host's root (tests)" },
  { name: "MDEVCTL_LOG", purpose: "the log filter" },
  { name: "MDEVCTL_CALLOUT_TIMEOUT", purpose: "seconds a script may run" },
  { name: "MDEVCTL_AUTOSTART_WAIT", purpose: "seconds start-parent-mdevs waits for types" },
  { name: "MDEVCTL_START_WAIT", purpose: "seconds a bare `start --wait` waits" },
  { name: "MDEVCTL_SRIOV_MANAGE", purpose: "the program `apply --enable-vfs` runs" },
  { name: "MDEVCTL_ARGV0", purpose: "argv[0] as typed (lsmdev), from the launcher" },
  { name: "MDEVCTL_SYSFS_VIEW", purpose: "the view of /sys, from the launcher" },
  { name: "MDEVCTL_DEV_VIEW", purpose: "the view of /dev, from the launcher" },
  { name: "MDEVCTL_WARM_CODE_CACHE", purpose: "the warm-up run of tools/warm_code_cache.sh" },
];

/**
 * The V8 flags. All three keep the peak memory of large listings down
 * (bench/analysis.md); none changed a listing's time measurably:
 *  - a 1 MiB young generation: 2-3 MiB lower;
 *  - no incremental marking and scavenges on the main thread only: objects
 *    allocated during a concurrent marking and the pages parallel scavenges
 *    promote into put the large host's `list` at 63.0-67.2 MiB from run to
 *    run, 61.1-64.2 without (sandboxed launcher, ten runs each).
 */
export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--no-parallel-scavenge",
  "--no-incremental-marking",
];

/**
 * Deno's flags besides the permissions, for `deno run` of the bundle (the
 * bare Deno floor of bench/ runs an empty script with the same): no prompt,
 * no config or lock file lookup, no network, no "Download" or "Check" lines.
 */
export const DENO_RUN_FLAGS: readonly string[] = [
  "--no-prompt",
  "--no-config",
  "--no-lock",
  "--cached-only",
  "--quiet",
  `--v8-flags=${V8_FLAGS.join(",")}`,
];

/**
 * The permission sandbox of the INSTALLED program (issue 13, docs/sandbox.md).
 *
 * `tools/install.sh install` into a scratch DESTDIR; then, in a private mount
 * namespace, the install is laid over /usr, a fake sysfs tree is bound over
 * /sys and a scratch directory over /etc/mdevctl.d, so the launcher runs
 * exactly as on a real host: no MDEVCTL_ENV_ROOT, its own namespace and bind
 * mount of "/sys", Deno permissions scoped by the launcher. A notifier script
 * records the command line of the program that runs it (/proc/$PPID/cmdline);
 * the test checks the flags, then replays them with a probe program to show
 * that Deno itself refuses what they leave out.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { missing, needsRoot, reasons, requiring } from "../helpers/requires.ts";
import { type CommandResult, runClean } from "../helpers/command.ts";
import { envList, grants } from "../../tools/gen_sandbox.ts";
import { PROGRAMS } from "../../tools/sandbox_paths.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const RUN_HERE = Deno.env.get("MDEVCTL_TEST_TARGET") !== "source";
const P = "0000:00:02.0";
const T = "i915-GVTg_V5_4";
/** A parent without types (a driver gone half-way): listing it warns with its path. */
const BROKEN = "0000:00:03.0";
const RUNNING = "11111111-1111-0000-0000-000000000000";
const DEFINED = "22222222-2222-0000-0000-000000000000";
const LIBDIR = "/usr/lib/mdevctl";
const VIEW = `${LIBDIR}/sysfs`;
/** The launcher's view of /dev; only its vfio directory is granted. */
const DEV_VIEW = `${LIBDIR}/dev`;

type Result = CommandResult;

function run(cmd: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return runClean(cmd, env, TOP);
}

const REASON = reasons(
  needsRoot("a private mount namespace"),
  missing({ unshare: "util-linux", mount: "mount", setpriv: "util-linux" }),
  !existsDir("/etc/mdevctl.d") && "needs /etc/mdevctl.d to bind a scratch directory over",
);

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Registered in the dist pass only (or with no target): it does not depend on the target. */
/** A test on a fresh install and fake host of its own (withHost). */
function sandboxTest(
  name: string,
  fn: (made: { dest: string; host: string }) => Promise<void>,
): void {
  if (RUN_HERE) Deno.test(requiring(`sandbox: ${name}`, REASON, () => withHost(fn)));
}

/** A host: the install, a fake sysfs (relative links, as the kernel makes them), a config dir. */
async function makeHost(): Promise<{ dest: string; host: string; cleanup: () => Promise<void> }> {
  const dest = await Deno.makeTempDir({ prefix: "mdevctl-sandbox-dest-" });
  const host = await Deno.makeTempDir({ prefix: "mdevctl-sandbox-host-" });
  await Deno.chmod(host, 0o755); // the non-root test reads it as nobody
  const r = await run(["bash", "tools/install.sh", "install"], {
    DESTDIR: dest,
    PREFIX: "/usr",
    UDEVDIR: "/usr/lib/udev",
    SYSTEMDUNITDIR: "/usr/lib/systemd/system",
    BASHCOMPDIR: "/usr/share/bash-completion/completions",
  });
  equal(r.code, 0, `install failed:\n${r.stdout}\n${r.stderr}`);
  // The notifier records the argv of its parent: the running program.
  const notifier = `${dest}/usr/lib/mdevctl/scripts.d/notifiers/probe`;
  await Deno.writeTextFile(
    notifier,
    '#!/bin/sh\ntr "\\0" "\\n" < /proc/$PPID/cmdline > "$PROBE_OUT/cmdline"\necho "$*" >> "$PROBE_OUT/calls"\n',
  );
  await Deno.chmod(notifier, 0o755);

  const parent = `${host}/sys/devices/pci0000:00/${P}`;
  const type = `${parent}/mdev_supported_types/${T}`;
  await Deno.mkdir(type, { recursive: true });
  await Deno.writeTextFile(`${type}/available_instances`, "2\n");
  await Deno.writeTextFile(`${type}/device_api`, "vfio-pci\n");
  await Deno.writeTextFile(`${type}/name`, "GVTg_V5_4\n");
  await Deno.writeTextFile(`${type}/create`, "");
  await Deno.mkdir(`${parent}/${RUNNING}`);
  await Deno.symlink(`../mdev_supported_types/${T}`, `${parent}/${RUNNING}/mdev_type`);
  await Deno.writeTextFile(`${parent}/${RUNNING}/remove`, "");
  await Deno.mkdir(`${host}/sys/class/mdev_bus`, { recursive: true });
  await Deno.symlink(`../../devices/pci0000:00/${P}`, `${host}/sys/class/mdev_bus/${P}`);
  await Deno.mkdir(`${host}/sys/devices/pci0000:00/${BROKEN}`);
  await Deno.symlink(
    `../../devices/pci0000:00/${BROKEN}`,
    `${host}/sys/class/mdev_bus/${BROKEN}`,
  );
  await Deno.mkdir(`${host}/sys/bus/mdev/devices`, { recursive: true });
  await Deno.symlink(
    `../../../devices/pci0000:00/${P}/${RUNNING}`,
    `${host}/sys/bus/mdev/devices/${RUNNING}`,
  );
  await Deno.mkdir(`${host}/etc/mdevctl.d`, { recursive: true });
  await Deno.mkdir(`${host}/out`, { mode: 0o777 });
  await Deno.chmod(`${host}/out`, 0o777);
  return {
    dest,
    host,
    cleanup: async () => {
      await Deno.remove(dest, { recursive: true });
      await Deno.remove(host, { recursive: true });
    },
  };
}

/** Runs `test` on a fresh install and fake host, both removed afterwards whatever happens. */
async function withHost(
  test: (made: { dest: string; host: string }) => Promise<void>,
): Promise<void> {
  const { dest, host, cleanup } = await makeHost();
  try {
    await test({ dest, host });
  } finally {
    await cleanup();
  }
}

/** Runs a script as root in a private mount namespace where the host is in place. */
function inHost(dest: string, host: string, script: string): Promise<Result> {
  const setup = [
    `mount -t overlay mdevctl-sandbox -o lowerdir=${dest}/usr:/usr /usr`,
    `mount --bind ${host}/sys /sys`,
    `mount --bind ${host}/etc/mdevctl.d /etc/mdevctl.d`,
    "mount -t tmpfs tmpfs /run/lock",
  ];
  return run(
    ["unshare", "--mount", "--propagation", "private", "sh", "-ec", [...setup, script].join("\n")],
    { PROBE_OUT: `${host}/out` },
  );
}

/** The flag `--name=value` of an argv, or undefined. */
function flag(argv: string[], name: string): string | undefined {
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

sandboxTest(
  "the installed program runs on /sys and /etc with scoped Deno permissions only",
  async ({ dest, host }) => {
    const r = await inHost(
      dest,
      host,
      [
        `/usr/sbin/mdevctl types -p ${P}`,
        "echo ---",
        `/usr/sbin/mdevctl define -u ${DEFINED} -p ${P} -t ${T}`,
        "/usr/sbin/mdevctl list -d",
        "echo ---",
        "/usr/sbin/lsmdev",
        "echo ---",
        `/usr/sbin/mdevctl stop -u ${RUNNING}`,
        "echo ---",
        // Messages name /sys, not the view the program reads it through.
        `/usr/sbin/mdevctl types -p ${BROKEN} 2>&1`,
        "echo ---",
        // The first run bound /sys and /dev at the views; the others found them there.
        `awk '$5 == "${VIEW}" { n++ } END { print n + 0 }' /proc/self/mountinfo`,
        `awk '$5 == "${DEV_VIEW}" { n++ } $5 ~ "^${DEV_VIEW}/" { m++ } END { print n + 0, m + 0 }' /proc/self/mountinfo`,
      ].join("\n"),
    );
    equal(r.stderr, "");
    equal(r.code, 0, r.stdout);
    const [types, defined, active, stopped, errors, views] = r.stdout.split("---\n");
    // One bind each; none below the /dev view (pts, shm, mqueue stay out).
    equal(views, "1\n1 0\n");
    match(types!, new RegExp(`^${P}\\n  ${T}\\n    Available instances: 2\\n`));
    equal(defined, `${DEFINED} ${P} ${T} manual\n`);
    equal(active, `${RUNNING} ${P} ${T} manual\n`);
    equal(stopped, "");
    ok(
      errors!.endsWith(
        ` WARN  mdevctl] Skipping parent ${BROKEN}: No such file or directory (os error 2): ` +
          `"/sys/class/mdev_bus/${BROKEN}/mdev_supported_types"\n`,
      ),
      errors!,
    );
    // The writes reached the real paths (here: the fake trees bound there).
    const config = JSON.parse(await Deno.readTextFile(`${host}/etc/mdevctl.d/${P}/${DEFINED}`));
    equal(config.mdev_type, T);
    equal(
      await Deno.readTextFile(`${host}/sys/devices/pci0000:00/${P}/${RUNNING}/remove`),
      "1",
    );

    // What the program ran with, as its notifier saw it.
    const argv = (await Deno.readTextFile(`${host}/out/cmdline`)).split("\n").filter((a) =>
      a !== ""
    );
    equal(argv[0], "/usr/lib/mdevctl/deno");
    equal(argv[1], "run");
    for (const arg of argv) {
      ok(arg !== "-A" && !arg.startsWith("--allow-all"), `unscoped: ${arg}`);
      ok(!/^--allow-(net|ffi|sys|import|hrtime)/.test(arg), `not needed: ${arg}`);
      ok(!/^--allow-(read|write|run|env)$/.test(arg), `unscoped: ${arg}`);
    }
    // What tools/sandbox_paths.ts declares, where the installed program reaches it.
    const write = grants("write", LIBDIR);
    deepEqual(write.slice(0, 2), [VIEW, `${DEV_VIEW}/vfio`]);
    ok(write.includes("/etc/.mdevctl.d.staging"), write.join(","));
    equal(flag(argv, "--allow-write"), write.join(","));
    equal(
      flag(argv, "--allow-run"),
      [...PROGRAMS, "/usr/lib/mdevctl/scripts.d/notifiers/probe"].join(","),
    );
    equal(flag(argv, "--allow-env"), envList());
    const read = flag(argv, "--allow-read")!.split(",");
    const declared = [...write, ...grants("read", LIBDIR)];
    deepEqual(read.slice(0, declared.length), declared);
    // Only the command line's own words follow (files it may name).
    ok(read.slice(declared.length).every((a) => argv.includes(a)), read.join(" "));
  },
);

sandboxTest(
  "Deno itself refuses what the installed program's flags leave out",
  async ({ dest, host }) => {
    let r = await inHost(dest, host, `/usr/sbin/mdevctl define -u ${DEFINED} -p ${P} -t ${T}`);
    equal(r.code, 0, r.stderr);
    const argv = (await Deno.readTextFile(`${host}/out/cmdline`)).split("\n");
    const flags = argv.slice(0, argv.indexOf("/usr/lib/mdevctl/mdevctl.js"));
    ok(flags.length > 2, argv.join(" "));
    // The same Deno, the same flags, a program that tries each access.
    const probe = `${host}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `const tries: [string, () => unknown][] = [
  ["write-config", () => Deno.writeTextFileSync("/etc/mdevctl.d/probe", "x")],
  ["write-view", () => Deno.writeTextFileSync("${VIEW}/class/probe", "x")],
  ["write-outside", () => Deno.writeTextFileSync("${host}/out/escaped", "x")],
  ["write-scripts", () => Deno.writeTextFileSync("/usr/lib/mdevctl/scripts.d/callouts/x", "x")],
  ["write-sys", () => Deno.writeTextFileSync("/sys/class/probe", "x")],
  ["open-vfio-view", () => Deno.openSync("${DEV_VIEW}/vfio/0", { read: true, write: true })],
  ["open-dev-view", () => Deno.openSync("${DEV_VIEW}/null", { read: true, write: true })],
  ["read-dev-view", () => Deno.readDirSync("${DEV_VIEW}")],
  ["open-dev-vfio", () => Deno.openSync("/dev/vfio/0", { read: true, write: true })],
  ["read-shadow", () => Deno.readTextFileSync("/etc/shadow")],
  ["run-sh", () => new Deno.Command("/bin/sh", { args: ["-c", "true"] }).outputSync()],
  ["env-home", () => Deno.env.get("HOME")],
  ["net", () => Deno.resolveDns("localhost", "A")],
];
for (const [name, fn] of tries) {
  try {
    await fn();
    console.log(name, "allowed");
  } catch (e) {
    console.log(name, e instanceof Deno.errors.NotCapable ? "refused-by-deno" : "os-error");
  }
}
`,
    );
    r = await inHost(
      dest,
      host,
      `mount --bind /dev ${DEV_VIEW}; cd /; exec ${flags.map((a) => `'${a}'`).join(" ")} ${probe}`,
    );
    equal(r.stderr, "");
    deepEqual(
      Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(" "))),
      {
        // Granted: the OS decides (scratch dir writable; view has no sysfs
        // bound in this replay, the read-only overlay refuses).
        "write-config": "allowed",
        "write-view": "os-error",
        "write-outside": "refused-by-deno",
        "write-scripts": "refused-by-deno",
        "write-sys": "refused-by-deno",
        // Granted: the OS decides (no VFIO group 0 here). The rest of /dev is not.
        "open-vfio-view": "os-error",
        "open-dev-view": "refused-by-deno",
        "read-dev-view": "refused-by-deno",
        "open-dev-vfio": "refused-by-deno",
        "read-shadow": "refused-by-deno",
        "run-sh": "refused-by-deno",
        "env-home": "refused-by-deno",
        "net": "refused-by-deno",
      },
    );
    await Deno.stat(`${host}/out/escaped`).then(
      () => ok(false, "a write outside the granted paths got through"),
      () => {},
    );
  },
);

sandboxTest(
  "a non-root user lists through a user namespace, with the same scoping",
  async ({ dest, host }) => {
    const asNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups";
    const r = await inHost(
      dest,
      host,
      [
        `${asNobody} /usr/sbin/lsmdev`,
        `${asNobody} /usr/sbin/mdevctl types -p ${P}`,
        // Writing is the kernel's to refuse, as for any unprivileged user.
        `${asNobody} /usr/sbin/mdevctl define -u ${DEFINED} -p ${P} -t ${T} 2>&1 || echo "exit $?"`,
      ].join("\n"),
    );
    equal(r.stderr, "");
    equal(r.code, 0);
    const lines = r.stdout.split("\n");
    equal(lines[0], `${RUNNING} ${P} ${T} manual`);
    equal(lines[1], P);
    ok(r.stdout.includes("Permission denied (os error 13)"), r.stdout);
    ok(r.stdout.endsWith("exit 1\n"), r.stdout);
  },
);

sandboxTest(
  "a root launcher that cannot bind /sys or /dev fails with one line, never -A",
  async ({ dest, host }) => {
    // The view directory gone: mount has nowhere to bind.
    const r = await inHost(
      dest,
      host,
      `mount -t tmpfs tmpfs /usr/lib/mdevctl\n/usr/sbin/mdevctl list || echo "exit $?"`,
    );
    equal(r.code, 0);
    equal(r.stdout, "exit 1\n");
    equal(
      r.stderr,
      "mdevctl: cannot set up the permission sandbox: /usr/lib/mdevctl/sysfs is missing (reinstall mdevctl)\n",
    );
    // Only the view of /dev gone (an install from before it existed).
    const dev = await inHost(
      dest,
      host,
      [
        "mount -t tmpfs tmpfs /usr/lib/mdevctl",
        "mkdir /usr/lib/mdevctl/sysfs",
        '/usr/sbin/mdevctl list || echo "exit $?"',
      ].join("\n"),
    );
    equal(dev.stdout, "exit 1\n");
    equal(
      dev.stderr,
      "mdevctl: cannot set up the permission sandbox: /usr/lib/mdevctl/dev is missing (reinstall mdevctl)\n",
    );
  },
);

sandboxTest(
  "dist/mdevctl binds /sys and /dev per command and leaves no bind in the source tree",
  async ({ host }) => {
    const view = `${TOP}/dist/sysfs`;
    const r = await run([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      [
        `mount --bind ${host}/sys /sys`,
        `${TOP}/dist/lsmdev`,
        `awk '$5 == "${view}" || $5 == "${TOP}/dist/dev" { n++ } END { print "binds:", n + 0 }' /proc/self/mountinfo`,
      ].join("\n"),
    ]);
    equal(r.stdout, `${RUNNING} ${P} ${T} manual\nbinds: 0\n`);
    equal(r.stderr, "");
  },
);

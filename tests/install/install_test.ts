/**
 * `make install` into a scratch DESTDIR: the tree, the substituted paths, the
 * installed program run at its real paths (private mount namespace, root
 * only), the systemd units (systemd-analyze verify, and their command lines
 * run the way systemd would), the udev rules (syntax, targets, and the
 * fallback RUN command run the way udev would), and uninstall.
 *
 * `make test` runs the black-box suites twice (source, dist); these tests do
 * not depend on the target, so they run once, in the dist pass (or when no
 * target is set).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { missing, needsRoot, reasons, requiring } from "../helpers/requires.ts";
import { readTree } from "../helpers/tree.ts";
import { type CommandResult, runCommand } from "../helpers/command.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const RUN_HERE = Deno.env.get("MDEVCTL_TEST_TARGET") !== "source";

type Result = CommandResult;

function run(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  return runCommand(cmd, { env: opts.env, cwd: opts.cwd ?? TOP });
}

const temps: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of temps) Deno.removeSync(dir, { recursive: true });
});
async function tempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  temps.push(dir);
  return dir;
}

/** Everything under /usr, so one overlay over /usr shows the whole install. */
const LAYOUT = {
  PREFIX: "/usr",
  UDEVDIR: "/usr/lib/udev",
  SYSTEMDUNITDIR: "/usr/lib/systemd/system",
  BASHCOMPDIR: "/usr/share/bash-completion/completions",
};

async function install(destdir: string, vars: Record<string, string> = LAYOUT, verb = "install") {
  const r = await run(["bash", "tools/install.sh", verb], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DESTDIR: destdir, ...vars },
  });
  equal(r.code, 0, `install.sh ${verb} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** For installs whose program never runs: a small stand-in for the 100 MB Deno binary. */
const SMALL_DENO = { DENO_BIN: "/bin/sh" };

let standard: Promise<string> | undefined;
/** The default install, shared by the tests that only read it. */
function installed(): Promise<string> {
  standard ??= (async () => {
    const dest = await tempDir("mdevctl-install-");
    await install(dest);
    return dest;
  })();
  return standard;
}

async function lstat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch {
    return null;
  }
}

/** Every non-directory below `root`, as absolute paths of the installed system. */
async function treeFiles(root: string): Promise<string[]> {
  return (await readTree(root)).filter((e) => e.kind !== "dir").map((e) => `/${e.path}`);
}

/** The bundled form; the compiled one has dist/mdevctl.bin behind the same launcher. */
const bundled = async () => !(await lstat(`${TOP}/dist/mdevctl.bin`));

/** Registered in one pass of `make test` only (see above); `reason`: why it cannot run here. */
const test = (name: string, fn: () => Promise<void>, reason?: string) => {
  if (RUN_HERE) Deno.test(requiring(`install: ${name}`, reason, fn));
};

function haveFile(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Why a private mount namespace cannot be made here, if it cannot. */
const NO_NAMESPACE = reasons(
  needsRoot("a private mount namespace"),
  missing({ unshare: "util-linux" }),
);
const NO_ESCAPE = missing({ "systemd-escape": "systemd" });

test("puts every file in place with its mode, links and final paths", async () => {
  const dest = await installed();
  const isBundled = await bundled();
  const expected: Record<string, number | string> = {
    "/usr/sbin/mdevctl": 0o755,
    "/usr/sbin/lsmdev": "mdevctl",
    "/usr/lib/udev/rules.d/60-mdevctl.rules": 0o644,
    "/usr/share/mdevctl/61-mdevctl-record.rules": 0o644,
    "/usr/lib/systemd/system/mdev@.service": 0o644,
    "/usr/lib/systemd/system/mdevctl-autostart@.service": 0o644,
    "/usr/lib/systemd/system/mdevctl-wait-online.service": 0o644,
    "/usr/lib/systemd/system/mdevctl-apply.service": 0o644,
    "/usr/share/man/man8/mdevctl.8": 0o644,
    "/usr/share/man/man8/lsmdev.8": "mdevctl.8",
    "/usr/share/man/man5/mdevctl-hostfile.5": 0o644,
    "/usr/share/bash-completion/completions/mdevctl": 0o644,
    "/usr/share/bash-completion/completions/lsmdev": "mdevctl",
    "/usr/share/zsh/site-functions/_mdevctl": 0o644,
  };
  if (isBundled) {
    expected["/usr/lib/mdevctl/mdevctl.js"] = 0o644;
    expected["/usr/lib/mdevctl/mdevctl-yaml.js"] = 0o644;
    expected["/usr/lib/mdevctl/deno"] = 0o755;
  } else expected["/usr/lib/mdevctl/mdevctl.bin"] = 0o755;
  deepEqual(await treeFiles(dest), Object.keys(expected).sort());
  for (const [path, want] of Object.entries(expected)) {
    const info = (await lstat(`${dest}${path}`))!;
    if (typeof want === "string") {
      ok(info.isSymlink, `${path} is a symlink`);
      equal(await Deno.readLink(`${dest}${path}`), want, path);
    } else {
      ok(info.isFile, `${path} is a file`);
      equal(info.mode! & 0o7777, want, `mode of ${path}`);
    }
  }
  for (
    const dir of [
      "/etc/mdevctl.d",
      "/usr/lib/mdevctl/scripts.d/callouts",
      "/usr/lib/mdevctl/scripts.d/notifiers",
      "/usr/lib/mdevctl/sysfs",
      "/usr/lib/mdevctl/dev",
      // Deno's cache of the bundle (empty until the warm-up on the target).
      ...(isBundled ? ["/var/cache/mdevctl", "/var/cache/mdevctl/deno"] : []),
    ]
  ) {
    const info = await lstat(`${dest}${dir}`);
    ok(info?.isDirectory, `${dir} is a directory`);
    equal(info!.mode! & 0o7777, 0o755, `mode of ${dir}`);
  }
  // Text files: no placeholder left, no staging path leaked.
  for (const path of Object.keys(expected).filter((p) => !/deno$|\.js$/.test(p))) {
    if (path === "/usr/sbin/mdevctl" && !isBundled) continue;
    const text = await Deno.readTextFile(`${dest}${path}`);
    ok(!/@[A-Z_]+@/.test(text), `${path} has a placeholder left`);
    ok(!text.includes(dest), `${path} names the DESTDIR`);
  }
  if (isBundled) {
    const launcher = await Deno.readTextFile(`${dest}/usr/sbin/mdevctl`);
    match(launcher, /^#!\/bin\/sh\n/);
    for (
      const line of [
        "deno='/usr/lib/mdevctl/deno'",
        "bundle='/usr/lib/mdevctl/mdevctl.js'",
        "view='/usr/lib/mdevctl/sysfs'",
        "devview='/usr/lib/mdevctl/dev'",
        "keep=1",
      ]
    ) ok(launcher.includes(`\n${line}\n`), `${line} in\n${launcher}`);
    ok(launcher.includes("\ndenodir='/var/cache/mdevctl/deno'\n"), launcher);
  }
});

test("rules and units name the installed program, for any SBINDIR", async () => {
  const dest = await tempDir("mdevctl-install-");
  await install(dest, {
    ...LAYOUT,
    ...SMALL_DENO,
    PREFIX: "/opt/mdev",
    SBINDIR: "/opt/mdev/bin",
    CACHEDIR: "/var/opt/mdev/cache",
  });
  const rule = await Deno.readTextFile(`${dest}/usr/lib/udev/rules.d/60-mdevctl.rules`);
  const record = await Deno.readTextFile(`${dest}/opt/mdev/share/mdevctl/61-mdevctl-record.rules`);
  const units = [
    await Deno.readTextFile(`${dest}/usr/lib/systemd/system/mdev@.service`),
    await Deno.readTextFile(`${dest}/usr/lib/systemd/system/mdevctl-autostart@.service`),
  ];
  for (const unitOrRule of [rule, record, ...units]) {
    // (The directories the program may write, /var/lib/mdevctl among them, are not programs.)
    const text = unitOrRule.replace(/^ReadWritePaths=.*$/gm, "");
    const named = [...text.matchAll(/(\/[\w./-]*)\/mdevctl\b(?![.\w/-])/g)].map((m) => m[1]);
    ok(named.length > 0);
    deepEqual([...new Set(named)], ["/opt/mdev/bin"], text);
  }
  ok((await lstat(`${dest}/opt/mdev/bin/mdevctl`))?.isFile);
  if (await bundled()) {
    const launcher = await Deno.readTextFile(`${dest}/opt/mdev/bin/mdevctl`);
    ok(launcher.includes("\ndeno='/opt/mdev/lib/mdevctl/deno'\n"), launcher);
    ok(launcher.includes("\ndenodir='/var/opt/mdev/cache/deno'\n"), launcher);
    ok((await lstat(`${dest}/var/opt/mdev/cache/deno`))?.isDirectory);
  }
  for (const unit of units) {
    ok(unit.includes("\nBindPaths=/sys:/opt/mdev/lib/mdevctl/sysfs:norbind\n"));
    ok(unit.includes("\nBindPaths=/dev:/opt/mdev/lib/mdevctl/dev:norbind\n"));
    ok(unit.includes("\nReadWritePaths=-/var/opt/mdev/cache/deno\n"), unit);
  }
  ok((await lstat(`${dest}/opt/mdev/lib/mdevctl/sysfs`))?.isDirectory);
  ok((await lstat(`${dest}/opt/mdev/lib/mdevctl/dev`))?.isDirectory);
  // Script directories follow PREFIX; the program itself always uses /usr/lib (docs say so).
  ok((await lstat(`${dest}/opt/mdev/lib/mdevctl/scripts.d/callouts`))?.isDirectory);
});

test("takes udev and systemd directories from pkg-config, with fallbacks", async () => {
  const dest = await tempDir("mdevctl-install-");
  const r = await install(dest, { ...SMALL_DENO, PREFIX: "/usr" });
  const pkg = async (pkgName: string, variable: string, fallback: string) => {
    const out = await run(["sh", "-c", `pkg-config --variable=${variable} ${pkgName}`], {
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    }).catch(() => null);
    return out?.code === 0 && out.stdout.trim() ? out.stdout.trim() : fallback;
  };
  const udevdir = await pkg("udev", "udevdir", "/usr/lib/udev");
  const unitdir = await pkg("systemd", "systemdsystemunitdir", "/usr/lib/systemd/system");
  ok(r.stdout.includes(`UDEVDIR=${udevdir}`), r.stdout);
  ok((await lstat(`${dest}${udevdir}/rules.d/60-mdevctl.rules`))?.isFile);
  ok((await lstat(`${dest}${unitdir}/mdev@.service`))?.isFile);
});

test("installs a compiled program behind the sandboxing launcher", async () => {
  const dist = await tempDir("mdevctl-dist-");
  // Any ELF file stands for the compiled program here.
  const elf = (await run(["sh", "-c", "command -v ls"])).stdout.trim();
  await Deno.copyFile(elf, `${dist}/mdevctl.bin`);
  await Deno.chmod(`${dist}/mdevctl.bin`, 0o755);
  await Deno.writeTextFile(`${dist}/mdevctl`, "#!/bin/sh\n");
  // Its write permissions name the view it was built for (tools/build.sh).
  await Deno.writeTextFile(`${dist}/mdevctl.libdir`, "/opt/elsewhere\n");
  const dest = await tempDir("mdevctl-install-");
  const refused = await run(["bash", "tools/install.sh", "install"], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DESTDIR: dest, ...LAYOUT, DIST: dist },
  });
  equal(refused.code, 1);
  match(refused.stderr, /rebuild with LIBDIR=\/usr\/lib\/mdevctl\n$/);
  await Deno.writeTextFile(`${dist}/mdevctl.libdir`, "/usr/lib/mdevctl\n");
  await install(dest, { ...LAYOUT, DIST: dist });
  deepEqual(await Deno.readFile(`${dest}/usr/lib/mdevctl/mdevctl.bin`), await Deno.readFile(elf));
  const launcher = await Deno.readTextFile(`${dest}/usr/sbin/mdevctl`);
  ok(launcher.includes("\nform=compiled\n"), launcher);
  ok(launcher.includes("\nbinary='/usr/lib/mdevctl/mdevctl.bin'\nview='/usr/lib/mdevctl/sysfs'\n"));
  equal(await lstat(`${dest}/usr/lib/mdevctl/mdevctl.js`), null);
  equal(await lstat(`${dest}/usr/lib/mdevctl/mdevctl-yaml.js`), null);
  equal(await lstat(`${dest}/usr/lib/mdevctl/deno`), null);
  equal(await Deno.readLink(`${dest}/usr/sbin/lsmdev`), "mdevctl");
});

test("uninstall removes what install put down, not configurations", async () => {
  const dest = await tempDir("mdevctl-install-");
  await install(dest, { ...LAYOUT, ...SMALL_DENO });
  await Deno.mkdir(`${dest}/etc/mdevctl.d/0000:00:02.0`);
  await Deno.writeTextFile(`${dest}/etc/mdevctl.d/0000:00:02.0/u`, "{}");
  // What Deno keeps in its cache directory goes with it.
  await Deno.mkdir(`${dest}/var/cache/mdevctl/deno/npm`, { recursive: true });
  await Deno.writeTextFile(`${dest}/var/cache/mdevctl/deno/v8_code_cache_v2`, "");
  await install(dest, LAYOUT, "uninstall");
  deepEqual(await treeFiles(dest), ["/etc/mdevctl.d/0000:00:02.0/u"]);
  equal(await lstat(`${dest}/usr/lib/mdevctl`), null);
  equal(await lstat(`${dest}/var/cache/mdevctl`), null);
});

/** Runs a shell script with the install visible at its real paths (root only). */
async function inNamespace(dest: string, script: string, env: Record<string, string> = {}) {
  return await run([
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-ec",
    `mount -t overlay mdevctl-test -o lowerdir=${dest}/usr:/usr /usr\n${script}`,
  ], {
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
  });
}

const canNamespace = () => Promise.resolve(NO_NAMESPACE === undefined);

test("the installed program runs at its real paths", async () => {
  const dest = await installed();
  const root = await tempDir("mdevctl-host-");
  const typeDir = `${root}/sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4`;
  await Deno.mkdir(typeDir, { recursive: true });
  await Deno.mkdir(`${root}/sys/class/mdev_bus`, { recursive: true });
  await Deno.mkdir(`${root}/sys/bus/mdev/devices`, { recursive: true });
  await Deno.symlink(
    `${root}/sys/devices/pci0000:00/0000:00:02.0`,
    `${root}/sys/class/mdev_bus/0000:00:02.0`,
  );
  await Deno.writeTextFile(`${typeDir}/available_instances`, "2\n");
  await Deno.writeTextFile(`${typeDir}/device_api`, "vfio-pci\n");
  const r = await inNamespace(
    dest,
    [
      "/usr/sbin/mdevctl --version",
      "/usr/sbin/lsmdev --version",
      "/usr/sbin/mdevctl types",
      "/usr/sbin/lsmdev",
      "echo lsmdev-done",
    ].join("\n"),
    { MDEVCTL_ENV_ROOT: root },
  );
  equal(r.stderr, "");
  equal(r.code, 0);
  const version = (await run([`${TOP}/dist/mdevctl`, "--version"])).stdout;
  const types = (await run([`${TOP}/dist/mdevctl`, "types"], { env: { MDEVCTL_ENV_ROOT: root } }))
    .stdout;
  ok(types.includes("i915-GVTg_V5_4"), types);
  equal(r.stdout, `${version}${version.replace("mdevctl", "lsmdev")}${types}lsmdev-done\n`);
}, NO_NAMESPACE);

test("systemd-analyze verify accepts the installed units", async () => {
  const dest = await installed();
  const units = [
    "mdev@83b8f4f2-509f-382f-3c1e-e6bfe0fa1001.service",
    // verify (systemd 252) cannot load a unit whose file name has a ':'.
    "mdevctl-autostart@sys-devices-vfio_ap-matrix.service",
    "mdevctl-autostart@sys-devices-css0-0.0.0004-0.0.26ab.service",
    "mdevctl-wait-online.service",
    "mdevctl-apply.service",
  ];
  let r: Result;
  if (await canNamespace()) {
    // The units as installed; ExecStart's /usr/sbin/mdevctl exists in the namespace.
    r = await inNamespace(
      dest,
      `systemd-analyze verify ${
        units.map((u) => `'${dest}/usr/lib/systemd/system/${u}'`).join(" ")
      }`,
    );
  } else {
    // Copies naming the staged program instead.
    const dir = await tempDir("mdevctl-units-");
    for (
      const name of [
        "mdev@.service",
        "mdevctl-autostart@.service",
        "mdevctl-wait-online.service",
        "mdevctl-apply.service",
      ]
    ) {
      const text = await Deno.readTextFile(`${dest}/usr/lib/systemd/system/${name}`);
      await Deno.writeTextFile(
        `${dir}/${name}`,
        text.replaceAll("/usr/sbin/", `${dest}/usr/sbin/`),
      );
    }
    r = await run(["systemd-analyze", "verify", ...units.map((u) => `${dir}/${u}`)], {
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    });
  }
  equal(r.stderr, "");
  equal(r.code, 0, r.stdout);
}, missing({ "systemd-analyze": "systemd" }));

test("the apply unit: opt-in, waits for the VFs, applies the host file before libvirt", async () => {
  const dest = await installed();
  const text = await Deno.readTextFile(`${dest}/usr/lib/systemd/system/mdevctl-apply.service`);
  const settings = new Map<string, string[]>();
  for (const m of text.matchAll(/^([A-Za-z]+)=(.*)$/gm)) {
    settings.set(m[1]!, [...settings.get(m[1]!) ?? [], m[2]!]);
  }
  const one = (key: string) => settings.get(key)?.join(" ");
  deepEqual(
    {
      Type: one("Type"),
      RemainAfterExit: one("RemainAfterExit"),
      ExecStartPre: one("ExecStartPre"),
      ExecStart: one("ExecStart"),
      SuccessExitStatus: one("SuccessExitStatus"),
      ConditionPathExists: one("ConditionPathExists"),
      WantedBy: one("WantedBy"),
    },
    {
      Type: "oneshot",
      RemainAfterExit: "yes",
      ExecStartPre: "-/usr/sbin/mdevctl wait --vfio --timeout 300",
      ExecStart: "/usr/sbin/mdevctl apply -f /etc/mdevctl/host.yaml --start",
      SuccessExitStatus: "4",
      ConditionPathExists: "/etc/mdevctl/host.yaml",
      WantedBy: "multi-user.target",
    },
  );
  // Ordering only: after the driver's services, before libvirt's; it pulls nothing in.
  deepEqual(one("After")!.split(/\s+/).sort(), [
    "nvidia-sriov.service",
    "nvidia-vgpu-mgr.service",
    "systemd-udev-settle.service",
  ]);
  deepEqual(one("Before")!.split(/\s+/).sort(), ["libvirtd.service", "virtqemud.service"]);
  for (const key of ["Wants", "Requires", "Requisite", "BindsTo"]) {
    equal(settings.get(key), undefined, `${key}= in mdevctl-apply.service`);
  }
  // Installed disabled: nothing links it into a target (the file list test sees no link).
  equal(await lstat(`${dest}/etc/systemd/system/multi-user.target.wants`), null);
  // The ledgers of apply are writable in the unit's sandbox.
  deepEqual(settings.get("StateDirectory"), ["mdevctl"]);
});

/**
 * A directory with fake mdevctl and logger that record their arguments. The
 * fake `list` prints the file `running`; `start` fails with status 1 when
 * told to, and may make the device "run" all the same (a concurrent start).
 */
async function fakeTools(
  opts: { running?: string; startFails?: boolean; startCreates?: string } = {},
): Promise<{ dir: string; log: () => Promise<string[]> }> {
  const dir = await tempDir("mdevctl-fake-");
  const log = `${dir}/calls`;
  if (opts.running) await Deno.writeTextFile(`${dir}/running`, opts.running);
  await Deno.writeTextFile(
    `${dir}/mdevctl`,
    `#!/bin/sh\nprintf '%s|' "$@" >>'${log}'; echo >>'${log}'\necho "mdevctl ran" >&2\n` +
      `[ "$1" = list ] && cat '${dir}/running' 2>/dev/null\n` +
      (opts.startCreates
        ? `[ "$1" = start ] && echo '${opts.startCreates}' >'${dir}/running'\n`
        : "") +
      (opts.startFails ? `[ "$1" = start ] && exit 1\n` : "") + "exit 0\n",
  );
  // A file of its own: logger runs beside mdevctl in a pipeline.
  await Deno.writeTextFile(
    `${dir}/logger`,
    `#!/bin/sh\nprintf 'logger %s: ' "$*" >>'${log}.logger'\ncat >>'${log}.logger'\n`,
  );
  await Deno.chmod(`${dir}/mdevctl`, 0o755);
  await Deno.chmod(`${dir}/logger`, 0o755);
  return {
    dir,
    log: async () => {
      const calls = await Deno.readTextFile(log).catch(() => "");
      const logged = await Deno.readTextFile(`${log}.logger`).catch(() => "");
      return (calls + logged).split("\n").filter((l) => l);
    },
  };
}

/** Splits a unit command line as systemd does (quotes), after specifier and $$ expansion. */
function systemdArgv(line: string, specifiers: Record<string, string>): string[] {
  const expanded = line.replace(/%([a-zA-Z%])/g, (_, c: string) => c === "%" ? "%" : specifiers[c]!)
    .replaceAll("$$", "$");
  const words: string[] = [];
  for (const m of expanded.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    words.push(m[1] ?? m[2] ?? m[3]!);
  }
  return words;
}

async function unitLine(dest: string, unit: string, key: string): Promise<string> {
  const text = await Deno.readTextFile(`${dest}/usr/lib/systemd/system/${unit}`);
  return text.match(new RegExp(`^${key}=(.*)$`, "m"))![1]!;
}

async function escape(args: string[]): Promise<string> {
  const r = await run(["systemd-escape", ...args], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  });
  equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test("the autostart unit hands the parent name to start-parent-mdevs", async () => {
  const dest = await installed();
  const line = await unitLine(dest, "mdevctl-autostart@.service", "ExecStart");
  const cases: [string, string][] = [
    // udev: the instance is the escaped sysfs path of the parent.
    ["/sys/devices/pci0000:00/0000:00:02.0", "0000:00:02.0"],
    ["/sys/devices/css0/0.0.0004/0.0.26ab", "0.0.26ab"],
    ["/sys/devices/vfio_ap/matrix", "matrix"],
    ["/sys/devices/platform/mdpy-0", "mdpy-0"],
  ];
  for (const [sysfs, parent] of cases) {
    const instance = await escape(["--path", sysfs]);
    const unescaped = await escape(["--unescape", instance]);
    const fake = await fakeTools();
    const argv = systemdArgv(line, { I: unescaped, i: instance });
    const r = await run(argv.map((a) => a.replace("/usr/sbin/", `${fake.dir}/`)));
    equal(r.code, 0, r.stderr);
    deepEqual(await fake.log(), [`start-parent-mdevs|${parent}|`], sysfs);
  }
  // By hand: systemd-escape --template=mdevctl-autostart@.service PARENT.
  for (const parent of ["0000:00:02.0", "mdpy-0"]) {
    const unit = await escape(["--template=mdevctl-autostart@.service", parent]);
    const instance = unit.slice(unit.indexOf("@") + 1, -".service".length);
    const fake = await fakeTools();
    const argv = systemdArgv(line, { I: await escape(["--unescape", instance]), i: instance });
    await run(argv.map((a) => a.replace("/usr/sbin/", `${fake.dir}/`)));
    deepEqual(await fake.log(), [`start-parent-mdevs|${parent}|`]);
  }
}, NO_ESCAPE);

test("mdev@.service starts a device unless it already runs, and stops it", async () => {
  const dest = await installed();
  const uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
  const line = `${uuid} 0000:00:02.0 i915-GVTg_V5_4 auto (defined)`;
  const start = await unitLine(dest, "mdev@.service", "ExecStart");
  const stop = await unitLine(dest, "mdev@.service", "ExecStop");
  const list = `list|--uuid|${uuid}|`;
  const startCall = `start|--uuid|${uuid}|--wait=90|`;
  const wait = await unitLine(dest, "mdev@.service", "ExecStartPost");
  equal(wait, `/usr/sbin/mdevctl wait --uuid %i --timeout=10`);
  const cases: [Parameters<typeof fakeTools>[0], number, string[]][] = [
    [{}, 0, [list, startCall]], // not running: started
    [{ running: line }, 0, [list]], // already running (autostart): nothing to do
    [{ startFails: true }, 1, [list, startCall, list]], // start fails: the unit fails
    // start loses a race with autostart, which created it: started all the same
    [{ startFails: true, startCreates: line }, 0, [list, startCall, list]],
  ];
  for (const [opts, code, calls] of cases) {
    const fake = await fakeTools(opts);
    // systemd passes the unit's Environment= to the command.
    const r = await run(
      systemdArgv(start, { i: uuid }).map((a) => a.replaceAll("/usr/sbin/", `${fake.dir}/`)),
      { env: { MDEVCTL_START_WAIT: "90" } },
    );
    equal(r.code, code, JSON.stringify(opts));
    deepEqual(await fake.log(), calls, JSON.stringify(opts));
  }
  const fake = await fakeTools();
  await run(systemdArgv(stop, { i: uuid }).map((a) => a.replaceAll("/usr/sbin/", `${fake.dir}/`)));
  deepEqual(await fake.log(), [`stop|--uuid|${uuid}|`]);
});

interface RuleKey {
  key: string;
  attr?: string;
  op: string;
  value: string;
}

/** Parses udev rules: KEY[{attr}] OP "value" pairs, comma separated. Throws on anything else. */
function parseRules(text: string): RuleKey[][] {
  const rules: RuleKey[][] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const keys: RuleKey[] = [];
    const re = /\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    let pos = 0;
    while (pos < line.length) {
      re.lastIndex = pos;
      const m = re.exec(line);
      if (!m) throw new Error(`line ${n + 1}: cannot parse at ${JSON.stringify(line.slice(pos))}`);
      keys.push({ key: m[1]!, op: m[3]!, value: m[4]!, ...(m[2] ? { attr: m[2] } : {}) });
      pos = re.lastIndex;
      if (m[5] === "" && pos < line.length) throw new Error(`line ${n + 1}: missing comma`);
    }
    rules.push(keys);
  }
  return rules;
}

const MATCH_KEYS = new Set(["ACTION", "SUBSYSTEM", "KERNEL", "ENV", "TEST", "ATTR", "DRIVER"]);
const ASSIGN_KEYS = new Set(["RUN", "TAG", "ENV", "GOTO", "LABEL"]);

function checkRules(text: string): RuleKey[][] {
  const rules = parseRules(text);
  const labels = new Set(rules.flat().filter((k) => k.key === "LABEL").map((k) => k.value));
  for (const key of rules.flat()) {
    const matching = key.op === "==" || key.op === "!=";
    ok(matching ? MATCH_KEYS.has(key.key) : ASSIGN_KEYS.has(key.key), `${key.key}${key.op}`);
    if (key.key === "GOTO") ok(labels.has(key.value), `GOTO ${key.value} has a LABEL`);
    if (key.key === "ENV" || key.key === "ATTR") ok(key.attr, `${key.key} needs {name}`);
  }
  return rules;
}

/** Runs a RUN command the way udev would for a device with this kernel name. */
async function runAsUdev(
  command: string,
  kernel: string,
  fakeDir: string,
  configDir = "/etc/mdevctl.d",
): Promise<Result> {
  const expanded = command.replace(/\$kernel|%k/g, kernel).replaceAll("$$", "$");
  const argv: string[] = [];
  for (const m of expanded.matchAll(/'([^']*)'|(\S+)/g)) argv.push(m[1] ?? m[2]!);
  const moved = argv.map((a) =>
    a.replaceAll("/usr/sbin/", `${fakeDir}/`).replaceAll("/etc/mdevctl.d/", `${configDir}/`)
  );
  return await run(moved, {
    env: { PATH: `${fakeDir}:/usr/bin:/bin` },
  });
}

test("the autostart udev rule is well formed and points at installed things", async () => {
  const dest = await installed();
  const text = await Deno.readTextFile(`${dest}/usr/lib/udev/rules.d/60-mdevctl.rules`);
  const rules = checkRules(text);
  const keys = rules.flat();
  // Guarded by the config directory; registered change, or add of a registered parent.
  ok(keys.some((k) => k.key === "TEST" && k.op === "!=" && k.value === "/etc/mdevctl.d/$kernel"));
  ok(rules.some((r) =>
    r.some((k) => k.key === "ACTION" && k.value === "change") &&
    r.some((k) => k.key === "ENV" && k.attr === "MDEV_STATE" && k.value === "registered")
  ));
  // The add only as the coldplug replay (synthetic, SYNTH_UUID set by the kernel):
  // the kernel's own add of a hot-plugged parent precedes its change event.
  ok(rules.some((r) =>
    r.some((k) => k.key === "ACTION" && k.value === "add") &&
    r.some((k) => k.key === "ENV" && k.attr === "SYNTH_UUID" && k.value === "?*") &&
    r.some((k) => k.key === "TEST" && k.value === "mdev_supported_types")
  ));
  // systemd: a template the install put down, only when systemd runs.
  const wants = rules.find((r) => r.some((k) => k.key === "ENV" && k.attr === "SYSTEMD_WANTS"))!;
  ok(wants.some((k) => k.key === "TEST" && k.op === "==" && k.value === "/run/systemd/system"));
  ok(wants.some((k) => k.key === "TAG" && k.value === "systemd"));
  const unit = wants.find((k) => k.attr === "SYSTEMD_WANTS")!.value;
  equal(unit, "mdevctl-autostart@.service");
  ok((await lstat(`${dest}/usr/lib/systemd/system/${unit}`))?.isFile);
  ok(wants.some((k) => k.key === "GOTO"), "the systemd rule skips the RUN fallback");
  // Without systemd: one RUN, naming the installed program.
  const runs = keys.filter((k) => k.key === "RUN");
  equal(runs.length, 1);
  match(runs[0]!.value, /^\/bin\/sh -c '[^']*\/usr\/sbin\/mdevctl start-parent-mdevs/);
  ok((await lstat(`${dest}/usr/sbin/mdevctl`))?.isFile);
  const fake = await fakeTools();
  const r = await runAsUdev(runs[0]!.value, "0000:00:02.0", fake.dir);
  equal(r.code, 0, r.stderr);
  deepEqual(await fake.log(), [
    "start-parent-mdevs|0000:00:02.0|",
    "logger -t mdevctl: mdevctl ran",
  ]);
});

test("the opt-in record rule defines new mdevs and is not active as installed", async () => {
  const dest = await installed();
  const text = await Deno.readTextFile(`${dest}/usr/share/mdevctl/61-mdevctl-record.rules`);
  const rules = checkRules(text).filter((r) => r.some((k) => k.key === "RUN"));
  equal(rules.length, 2);
  for (const r of rules) {
    ok(r.some((k) => k.key === "ACTION" && k.value === "add"));
    ok(r.some((k) => k.key === "SUBSYSTEM" && k.value === "mdev"));
  }
  // Under systemd a transient unit does the define (udevd's own sandbox,
  // MemoryDenyWriteExecute=, kills a JIT); udev only checks and hands over.
  const [viaSystemd, fallback] = rules;
  ok(viaSystemd!.some((k) => k.key === "TEST" && k.value === "/run/systemd/system"));
  ok(
    viaSystemd!.find((k) => k.key === "RUN")!.value.includes(
      "exec systemd-run --no-block --quiet --collect --unit=mdevctl-record-$$1 " +
        "/usr/sbin/mdevctl define --auto --uuid $$1",
    ),
  );
  const command = fallback!.find((k) => k.key === "RUN")!.value;
  const uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
  const configs = await tempDir("mdevctl-configs-");
  await Deno.mkdir(`${configs}/0000:00:02.0`);
  // Not defined anywhere: defined now, from the running device.
  let fake = await fakeTools();
  let r = await runAsUdev(command, uuid, fake.dir, configs);
  equal(r.code, 0, r.stderr);
  deepEqual(await fake.log(), [`define|--auto|--uuid|${uuid}|`, "logger -t mdevctl: mdevctl ran"]);
  // Already defined (under a PCI parent, whose name has ':' and '.'): left alone.
  await Deno.writeTextFile(`${configs}/0000:00:02.0/${uuid}`, "{}");
  fake = await fakeTools();
  r = await runAsUdev(command, uuid, fake.dir, configs);
  equal(r.code, 0, r.stderr);
  deepEqual(await fake.log(), []);
  equal(await lstat(`${dest}/usr/lib/udev/rules.d/61-mdevctl-record.rules`), null);
});

/**
 * `udevadm verify` came with systemd 253 (Debian 12 has 252):
 * MDEVCTL_TEST_UDEVADM names a newer udevadm (tests/install/fetch_udevadm.sh
 * fetches one from bookworm-backports without installing it; .ci/run does).
 */
const UDEVADM = Deno.env.get("MDEVCTL_TEST_UDEVADM") ?? "udevadm";
const NO_VERIFY = new Deno.Command("sh", {
    args: ["-c", '"$0" verify --help', UDEVADM],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync().code === 0
  ? undefined
  : `no \`${UDEVADM} verify\` (systemd < 253; set MDEVCTL_TEST_UDEVADM, see fetch_udevadm.sh)`;

test("udevadm verify accepts the rules", async () => {
  const dest = await installed();
  const r = await run([
    UDEVADM,
    "verify",
    `${dest}/usr/lib/udev/rules.d/60-mdevctl.rules`,
    `${dest}/usr/share/mdevctl/61-mdevctl-record.rules`,
  ], { env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" } });
  equal(r.code, 0, r.stdout + r.stderr);
}, NO_VERIFY);

const NULL_DEVICE = "/sys/devices/virtual/mem/null";
const NO_UDEV_TEST = reasons(
  NO_NAMESPACE,
  missing({ udevadm: "udev" }),
  !haveFile(`${NULL_DEVICE}/uevent`) && `no ${NULL_DEVICE}/uevent`,
);

test("udevadm test: real udev runs the rule as intended", async () => {
  const device = NULL_DEVICE;
  const dest = await installed();
  const work = await tempDir("mdevctl-udev-");
  await Deno.mkdir(`${work}/rules`);
  await Deno.mkdir(`${work}/etc/mdevctl.d/null`, { recursive: true });
  await Deno.mkdir(`${work}/empty`);
  await Deno.copyFile(
    `${dest}/usr/lib/udev/rules.d/60-mdevctl.rules`,
    `${work}/rules/60-mdevctl.rules`,
  );
  // The record rule too, aimed at this device's subsystem instead of mdev.
  const record = await Deno.readTextFile(`${dest}/usr/share/mdevctl/61-mdevctl-record.rules`);
  await Deno.writeTextFile(
    `${work}/rules/61-mdevctl-record.rules`,
    record.replaceAll('SUBSYSTEM=="mdev"', 'SUBSYSTEM=="mem"'),
  );
  const uevent = await Deno.readTextFile(`${device}/uevent`);
  // Only our rule is read; the device's uevent file is replaced by one carrying
  // MDEV_STATE (udev reads it as the event's properties); /run and the config
  // directory are private. Real sysfs stays (udev refuses anything else).
  const cases: [string, { action: string; state?: string; systemd?: boolean; config?: boolean }][] =
    [
      ["registered", { action: "change", state: "registered" }],
      ["registered-systemd", { action: "change", state: "registered", systemd: true }],
      ["no-config", { action: "change", state: "registered", config: false }],
      ["unregistered", { action: "change", state: "unregistered", systemd: true }],
      ["plain-change", { action: "change", systemd: true }],
      ["add-unregistered", { action: "add", systemd: true }],
      ["add-unregistered-no-systemd", { action: "add" }],
    ];
  const script = [
    `mount -t overlay mdevctl-etc -o lowerdir=${work}/etc:/etc /etc`,
    `mount --bind ${work}/rules /usr/lib/udev/rules.d`,
    "mount -t tmpfs tmpfs /etc/udev/rules.d",
    `cp ${device}/uevent ${work}/uevent`,
    `mount --bind ${work}/uevent ${device}/uevent`,
  ];
  for (const [name, c] of cases) {
    script.push(
      "mount -t tmpfs tmpfs /run",
      c.systemd ? "mkdir -p /run/systemd/system" : ":",
      c.config === false ? `mount --bind ${work}/empty /etc/mdevctl.d` : ":",
      `printf '%s' '${uevent}${c.state ? `MDEV_STATE=${c.state}\n` : ""}' >${work}/uevent`,
      `echo '=== ${name}'`,
      `udevadm test --action=${c.action} ${device} 2>&1 | grep -E '^(run: |SYSTEMD_WANTS=|TAGS=)' || true`,
      c.config === false ? "umount /etc/mdevctl.d" : ":",
      "umount /run",
    );
  }
  const r = await inNamespace(dest, script.join("\n"));
  equal(r.code, 0, r.stderr);
  const got: Record<string, string[]> = {};
  let current = "";
  for (const line of r.stdout.split("\n").filter((l) => l)) {
    if (line.startsWith("=== ")) got[current = line.slice(4)] = [];
    else got[current]!.push(line);
  }
  deepEqual(got, {
    "registered": [
      "run: '/bin/sh -c '/usr/sbin/mdevctl start-parent-mdevs $1 2>&1 | logger -t mdevctl' " +
      "mdevctl-autostart null'",
    ],
    "registered-systemd": ["TAGS=:systemd:", "SYSTEMD_WANTS=mdevctl-autostart@.service"],
    "no-config": [],
    "unregistered": [],
    "plain-change": [],
    "add-unregistered": [
      "run: '/bin/sh -c 'for f in /etc/mdevctl.d/*/$1; do test -e $f && exit 0; done; " +
      "exec systemd-run --no-block --quiet --collect --unit=mdevctl-record-$1 " +
      "/usr/sbin/mdevctl define --auto --uuid $1' mdevctl-record null'",
    ],
    "add-unregistered-no-systemd": [
      "run: '/bin/sh -c 'for f in /etc/mdevctl.d/*/$1; do test -e $f && exit 0; done; " +
      "/usr/sbin/mdevctl define --auto --uuid $1 2>&1 | logger -t mdevctl' mdevctl-record null'",
    ],
  });
}, NO_UDEV_TEST);

test("units are hardened without blocking what mdevctl must do", async () => {
  const dest = await installed();
  for (
    const unit of [
      "mdev@.service",
      "mdevctl-autostart@.service",
      "mdevctl-wait-online.service",
      "mdevctl-apply.service",
    ]
  ) {
    const text = await Deno.readTextFile(`${dest}/usr/lib/systemd/system/${unit}`);
    const settings = new Map<string, string>();
    for (const m of text.matchAll(/^([A-Za-z]+)=(.*)$/gm)) {
      // A repeated key adds to the list (BindPaths=), as systemd reads it.
      const before = settings.get(m[1]!);
      settings.set(m[1]!, before === undefined ? m[2]! : `${before} ${m[2]!}`);
    }
    for (
      const [key, value] of Object.entries({
        NoNewPrivileges: "yes",
        ProtectSystem: "strict",
        ProtectHome: "yes",
        PrivateTmp: "yes",
        RestrictAddressFamilies: "AF_UNIX AF_NETLINK",
      })
    ) equal(settings.get(key), value, `${unit}: ${key}`);
    // Writable: sysfs (create/remove/attributes), configs, and the lock file's directory.
    const writable = settings.get("ReadWritePaths")!.split(/\s+/).map((p) => p.replace(/^-/, ""));
    // And Deno's cache of the bundle, which the launcher points Deno at.
    for (
      const path of [
        "/sys",
        "/etc/mdevctl.d",
        "/etc/.mdevctl.d.staging",
        "/run/lock",
        "/var/lib/mdevctl",
        "/var/cache/mdevctl/deno",
      ]
    ) {
      ok(writable.includes(path), `${unit}: ${path} writable`);
    }
    // The launcher's views of /sys and /dev, made by systemd (RestrictNamespaces= forbids its own).
    equal(
      settings.get("BindPaths"),
      "/sys:/usr/lib/mdevctl/sysfs:norbind /dev:/usr/lib/mdevctl/dev:norbind",
      `${unit}: BindPaths`,
    );
    // These would break mdevctl, Deno or callout scripts.
    for (
      const key of [
        "ProtectKernelTunables",
        "MemoryDenyWriteExecute",
        "PrivateDevices",
        "DeviceAllow",
        "ProtectClock",
        "ReadOnlyPaths",
        "InaccessiblePaths",
      ]
    ) ok(!settings.has(key), `${unit}: ${key}`);
  }
});

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

test("the units' and the rule's commands start devices with the installed program", async () => {
  const dest = await installed();
  const parent = "0000:00:02.0";
  const type = "i915-GVTg_V5_4";
  const [auto, manual, running] = [
    "11111111-1111-0000-0000-000000000000",
    "22222222-2222-0000-0000-000000000000",
    "33333333-3333-0000-0000-000000000000",
  ];
  // A fake host (spec §1.2 layout): one parent, one type, three definitions.
  const root = await tempDir("mdevctl-host-");
  const parentDir = `${root}/sys/devices/pci0000:00/${parent}`;
  const typeDir = `${parentDir}/mdev_supported_types/${type}`;
  await Deno.mkdir(typeDir, { recursive: true });
  await Deno.mkdir(`${root}/sys/class/mdev_bus`, { recursive: true });
  await Deno.mkdir(`${root}/sys/bus/mdev/devices`, { recursive: true });
  await Deno.mkdir(`${root}/etc/mdevctl.d/${parent}`, { recursive: true });
  await Deno.symlink(parentDir, `${root}/sys/class/mdev_bus/${parent}`);
  await Deno.writeTextFile(`${typeDir}/available_instances`, "4\n");
  await Deno.writeTextFile(`${typeDir}/device_api`, "vfio-pci\n");
  await Deno.writeTextFile(`${typeDir}/create`, "");
  for (const [uuid, start] of [[auto, "auto"], [manual, "manual"], [running, "manual"]]) {
    await Deno.writeTextFile(
      `${root}/etc/mdevctl.d/${parent}/${uuid}`,
      JSON.stringify({ mdev_type: type, start, attrs: [] }, null, 2),
    );
  }
  await Deno.mkdir(`${parentDir}/${running}`);
  await Deno.symlink(typeDir, `${parentDir}/${running}/mdev_type`);
  await Deno.symlink(`${parentDir}/${running}`, `${root}/sys/bus/mdev/devices/${running}`);
  const created = async () => {
    const text = await Deno.readTextFile(`${typeDir}/create`);
    await Deno.writeTextFile(`${typeDir}/create`, "");
    return text;
  };
  const inHost = async (argv: string[]) => {
    const fake = await fakeTools(); // only its logger is used (on PATH)
    const r = await inNamespace(dest, argv.map(shq).join(" "), {
      MDEVCTL_ENV_ROOT: root,
      MDEVCTL_AUTOSTART_WAIT: "0",
      PATH: `${fake.dir}:/usr/sbin:/usr/bin:/sbin:/bin`,
    });
    equal(r.code, 0, `${argv.join(" ")}\n${r.stdout}${r.stderr}`);
    return { ...r, logged: (await fake.log()).join("\n") };
  };

  // mdevctl-autostart@<escaped sysfs path>.service, as udev pulls it in.
  const instance = await escape(["--path", parentDir.slice(root.length)]);
  const autostart = await unitLine(dest, "mdevctl-autostart@.service", "ExecStart");
  const a = await inHost(
    systemdArgv(autostart, { i: instance, I: await escape(["-u", instance]) }),
  );
  equal(await created(), auto);
  ok(a.stderr.includes(`Started mdev ${auto}`), a.stderr);

  // mdev@<uuid>.service: starts a stopped device, leaves a running one alone.
  const mdevStart = await unitLine(dest, "mdev@.service", "ExecStart");
  await inHost(systemdArgv(mdevStart, { i: manual }));
  equal(await created(), manual);
  await inHost(systemdArgv(mdevStart, { i: running }));
  equal(await created(), "");

  // The udev fallback (no systemd): RUN as udev would run it, logging through logger.
  const rule = await Deno.readTextFile(`${dest}/usr/lib/udev/rules.d/60-mdevctl.rules`);
  const runValue = parseRules(rule).flat().find((k) => k.key === "RUN")!.value;
  const argv: string[] = [];
  for (
    const m of runValue.replace("$kernel", parent).replaceAll("$$", "$").matchAll(
      /'([^']*)'|(\S+)/g,
    )
  ) {
    argv.push(m[1] ?? m[2]!);
  }
  const u = await inHost(argv);
  equal(await created(), auto);
  ok(
    u.logged.startsWith("logger -t mdevctl: ") && u.logged.includes(`Started mdev ${auto}`),
    u.logged,
  );
}, reasons(NO_NAMESPACE, NO_ESCAPE));

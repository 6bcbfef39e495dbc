/**
 * Host files as users pass them, to the INSTALLED program (issue 22):
 * `tools/install.sh install` into a scratch DESTDIR laid over /usr in a
 * private mount namespace, a fake sysfs over /sys, a scratch directory
 * over /etc/mdevctl.d, no MDEVCTL_ENV_ROOT: the launcher's permission
 * sandbox as on a production host (docs/sandbox.md). The host files live
 * in a directory the sandbox does not grant, reached through symbolic
 * links, `-fPATH`, `--file=PATH`, pipes and redirects.
 */
import { deepEqual, equal } from "node:assert/strict";
import { type CommandResult, runClean } from "../helpers/command.ts";
import { missing, needsRoot, reasons, requiring } from "../helpers/requires.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
/** Like tests/install: the dist pass only (it does not depend on the target). */
const RUN_HERE = Deno.env.get("MDEVCTL_TEST_TARGET") !== "source";

function run(cmd: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return runClean(cmd, env, TOP);
}

const REASON = reasons(
  needsRoot("a private mount namespace"),
  missing({ unshare: "util-linux", mount: "mount", bash: "bash" }),
  !exists("/etc/mdevctl.d") && "needs /etc/mdevctl.d to bind a scratch directory over",
);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Each command of the script and what it must print (stdout and stderr together). */
function cases(h: string): [string, string][] {
  const ok = "in sync: 0 managed\nexit 0\n";
  return [
    [`mdevctl diff -f ${h}/links/host.yaml`, ok],
    [`mdevctl diff -f ${h}/links/conf/host.yaml`, ok],
    [`mdevctl diff -f${h}/links/host.yaml`, ok],
    [`mdevctl diff -f=${h}/links/conf/host.yaml`, ok],
    [`mdevctl diff --file=${h}/links/host.yaml`, ok],
    [`cat ${h}/conf/host.yaml | mdevctl diff -f -`, ok],
    [`mdevctl diff -f - < ${h}/conf/host.yaml`, ok],
    [`mdevctl diff -f /dev/stdin < ${h}/conf/host.yaml`, ok],
    [`cat ${h}/conf/host.yaml | mdevctl diff -f /dev/stdin`, ok],
    [`mdevctl diff -f <(cat ${h}/conf/host.yaml)`, ok],
    // Content errors name the file as given, positions from the real file.
    [
      `mdevctl diff -f ${h}/links/bad.yaml`,
      `Error: ${h}/links/bad.yaml:2:8: tag !!binary is not supported ` +
      "(only the core tags !!str, !!int, !!float, !!bool, !!null, !!map, !!seq)\nexit 1\n",
    ],
    [
      `mdevctl apply -f ${h}/links/conf`,
      `Error: Unable to read host file "${h}/links/conf": is a directory\nexit 1\n`,
    ],
    [
      `mdevctl apply -f ${h}/links/none.yaml`,
      `Error: Unable to read host file "${h}/links/none.yaml": ` +
      "No such file or directory (os error 2)\nexit 1\n",
    ],
  ];
}

Deno.test(
  requiring(
    "sandbox: the installed program reads host files through links, -fPATH, pipes and redirects",
    RUN_HERE ? REASON : "runs in the dist pass (MDEVCTL_TEST_TARGET=dist)",
    async () => {
      const dest = await Deno.makeTempDir({ prefix: "mdevctl-fileinput-dest-" });
      const host = await Deno.makeTempDir({ prefix: "mdevctl-fileinput-host-" });
      try {
        const r = await run(["bash", "tools/install.sh", "install"], {
          DESTDIR: dest,
          PREFIX: "/usr",
          UDEVDIR: "/usr/lib/udev",
          SYSTEMDUNITDIR: "/usr/lib/systemd/system",
          BASHCOMPDIR: "/usr/share/bash-completion/completions",
        });
        equal(r.code, 0, `install failed:\n${r.stdout}\n${r.stderr}`);
        for (
          const d of ["sys/class/mdev_bus", "sys/bus/mdev/devices", "sys/devices", "etc", "conf"]
        ) {
          await Deno.mkdir(`${host}/${d}`, { recursive: true });
        }
        await Deno.mkdir(`${host}/links`);
        await Deno.writeTextFile(`${host}/conf/host.yaml`, "version: 1\n");
        await Deno.writeTextFile(`${host}/conf/bad.yaml`, "version: 1\nowner: !!binary aGk=\n");
        await Deno.symlink(`${host}/conf/host.yaml`, `${host}/links/host.yaml`);
        await Deno.symlink("../conf/bad.yaml", `${host}/links/bad.yaml`);
        await Deno.symlink(`${host}/conf`, `${host}/links/conf`);
        const all = cases(host);
        const script = all.map(([cmd]) =>
          `${
            cmd.replace(/^(cat [^|]*\| )?mdevctl/, "$1/usr/sbin/mdevctl")
          } 2>&1; echo "exit $?"; echo ---`
        );
        const out = await run([
          "unshare",
          "--mount",
          "--propagation",
          "private",
          "bash",
          "-c",
          [
            "set -e",
            `mount -t overlay mdevctl-fileinput -o lowerdir=${dest}/usr:/usr /usr`,
            `mount --bind ${host}/sys /sys`,
            `mount --bind ${host}/etc /etc/mdevctl.d`,
            "mount -t tmpfs tmpfs /run/lock",
            "set +e",
            "cd /",
            ...script,
          ].join("\n"),
        ]);
        equal(out.stderr, "");
        const got = out.stdout.split("---\n").slice(0, -1);
        equal(got.length, all.length, out.stdout);
        const wrong = all.flatMap(([cmd, want], i) =>
          got[i] === want ? [] : [`${cmd}: ${JSON.stringify(got[i])}`]
        );
        deepEqual(wrong, []);
      } finally {
        await Deno.remove(dest, { recursive: true });
        await Deno.remove(host, { recursive: true });
      }
    },
  ),
);

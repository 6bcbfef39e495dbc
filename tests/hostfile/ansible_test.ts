/**
 * The Ansible role (hostfile.md §13.1, contrib/ansible) run by Debian's
 * ansible-core against localhost on a fake host: check mode writes nothing
 * and reports changed, the real run converges, the next reports changed=0.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { TARGET, withHost } from "../helpers/fake_host.ts";
import { missing, requiring } from "../helpers/requires.ts";
import { addT4, definitions, T4_UUIDS, T4A, T4B } from "./host_setup.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const PLAYBOOK = (root: string, command: string) =>
  `---
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: mdevctl_hostfile
      vars:
        mdevctl_command: ${JSON.stringify(command)}
        mdevctl_hostfile_path: ${JSON.stringify(`${root}/etc/mdevctl/host.yaml`)}
        # A fake host's create files make no devices, so --start would drift forever.
        mdevctl_start: false
        mdevctl_environment:
          MDEVCTL_ENV_ROOT: ${JSON.stringify(root)}
        mdevctl_hostfile:
          version: 1
          owner: gpu-pool
          pools:
            - name: t4-q
              type: {name: "GRID T4-1Q"}
              parents: {driver: nvidia, pciDevice: ["0x1eb8"]}
              perParent: 2
`;

/** `changed=N` of the PLAY RECAP line. */
function changed(stdout: string): number {
  const m = /localhost\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0/.exec(stdout);
  if (m === null) throw new Error(`no clean PLAY RECAP in:\n${stdout}`);
  return Number(m[1]);
}

Deno.test(requiring(
  "Ansible role: check mode writes nothing and reports changed; apply converges; then changed=0",
  missing({ "ansible-playbook": "ansible-core" }),
  () =>
    withHost(async (host) => {
      await addT4(host, T4A);
      await addT4(host, T4B);
      // The program under test, as a command the role can run.
      const wrapper = host.path("mdevctl");
      const deno = new TextDecoder().decode(
        new Deno.Command(`${TOP}/tools/deno_path.sh`).outputSync().stdout,
      ).trim();
      await Deno.writeTextFile(
        wrapper,
        TARGET === "dist"
          ? `#!/bin/sh\nexec ${TOP}/dist/mdevctl "$@"\n`
          : `#!/bin/sh\nexec ${deno} run -A --no-prompt --no-config --no-lock --quiet ${TOP}/cli.ts "$@"\n`,
      );
      await Deno.chmod(wrapper, 0o755);
      const playbook = host.path("site.yml");
      await Deno.writeTextFile(playbook, PLAYBOOK(host.root, wrapper));
      const run = async (...extra: string[]) => {
        const out = await new Deno.Command("ansible-playbook", {
          args: ["-i", "localhost,", playbook, ...extra],
          env: {
            ANSIBLE_ROLES_PATH: `${TOP}/contrib/ansible/roles`,
            ANSIBLE_NOCOLOR: "1",
            ANSIBLE_LOCALHOST_WARNING: "False",
            ANSIBLE_PYTHON_INTERPRETER: "auto_silent",
            ANSIBLE_LOCAL_TEMP: host.path("ansible-tmp"),
            ANSIBLE_REMOTE_TEMP: host.path("ansible-tmp"),
            ANSIBLE_HOME: host.path("ansible-home"),
            ANSIBLE_RETRY_FILES_ENABLED: "False",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        assertEquals(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
        return stdout;
      };

      const check = await run("--check", "--diff");
      assertEquals(changed(check) > 0, true, check);
      // The drift is shown: the four defines diff would make.
      assertEquals(check.includes(`+ ${T4A}/${T4_UUIDS.a0} nvidia-222 define`), true, check);
      assertEquals(await definitions(host), {});
      assertEquals(await host.exists("etc/mdevctl/host.yaml"), false);

      const real = await run();
      assertEquals(changed(real) > 0, true, real);
      assertEquals(
        Object.keys(await definitions(host)).sort(),
        [
          `${T4A}/${T4_UUIDS.a0}`,
          `${T4A}/${T4_UUIDS.a1}`,
          `${T4B}/${T4_UUIDS.b0}`,
          `${T4B}/${T4_UUIDS.b1}`,
        ].sort(),
      );
      const diff = await host.run([
        "diff",
        "-f",
        host.path("etc/mdevctl/host.yaml"),
        "--prune",
      ]);
      assertEquals(diff.code, 0, diff.stdout);

      const again = await run();
      assertEquals(changed(again), 0, again);
      const checkAgain = await run("--check");
      assertEquals(changed(checkAgain), 0, checkAgain);
    }),
));

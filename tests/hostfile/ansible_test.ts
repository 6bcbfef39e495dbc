/**
 * The Ansible role (hostfile.md §13.1, contrib/ansible) run by Debian's
 * ansible-core against localhost on a fake host: check mode writes nothing
 * and reports changed, the real run converges, the next reports changed=0;
 * booleans given with `-e` on the command line (strings) mean what they say,
 * and pruning happens only when asked for; unsatisfiable parts of a file are
 * shown, never failed.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, TARGET, withHost } from "../helpers/fake_host.ts";
import { missing, requiring } from "../helpers/requires.ts";
import { addT4, definitions, T4_UUIDS, T4A, T4B } from "./host_setup.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const NEEDS = missing({ "ansible-playbook": "ansible-core" });

/** The t4-q pool of hostfile.md §11, with `perParent` instances per T4. */
const t4Pool = (perParent: number) => `
            - name: t4-q
              type: {name: "GRID T4-1Q"}
              parents: {driver: nvidia, pciDevice: ["0x1eb8"]}
              perParent: ${perParent}`;

/**
 * A play running the role on localhost against the fake host. `vars` are
 * extra role variables (YAML lines); `pools` the host file's pools.
 */
const PLAYBOOK = (root: string, command: string, vars: string, pools: string) =>
  `---
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: mdevctl_hostfile
      vars:
        mdevctl_command: ${JSON.stringify(command)}
        mdevctl_hostfile_path: ${JSON.stringify(`${root}/etc/mdevctl/host.yaml`)}
${vars}        mdevctl_environment:
          MDEVCTL_ENV_ROOT: ${JSON.stringify(root)}
        mdevctl_hostfile:
          version: 1
          owner: gpu-pool
          pools:${pools}
`;

/** `changed=N` of the PLAY RECAP line (which must show no failure). */
function changed(stdout: string): number {
  const m = /localhost\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0/.exec(stdout);
  if (m === null) throw new Error(`no clean PLAY RECAP in:\n${stdout}`);
  return Number(m[1]);
}

interface Play {
  /** Rewrites the playbook (role variables as YAML lines, pools). */
  write(vars: string, pools: string): Promise<void>;
  /** Runs ansible-playbook; fails the test unless it exits 0. Returns stdout. */
  run(...extra: string[]): Promise<string>;
  /** Runs ansible-playbook and returns its exit status and all output. */
  runRaw(...extra: string[]): Promise<{ code: number; output: string }>;
}

/** The program under test as a command the role can run, and a playbook for it. */
async function play(host: FakeHost): Promise<Play> {
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
  const runRaw = async (...extra: string[]) => {
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
    const text = new TextDecoder();
    return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
  };
  return {
    write: (vars, pools) => Deno.writeTextFile(playbook, PLAYBOOK(host.root, wrapper, vars, pools)),
    run: async (...extra) => {
      const out = await runRaw(...extra);
      assertEquals(out.code, 0, out.output);
      return out.output;
    },
    runRaw,
  };
}

/** Everything apply may touch: definitions, ledgers, and the sysfs tree (create/remove writes). */
async function state(host: FakeHost) {
  return {
    configs: await host.snapshot("etc/mdevctl.d"),
    ledgers: await host.snapshot("var/lib/mdevctl"),
    sys: await host.snapshot("sys"),
  };
}

Deno.test(requiring(
  "Ansible role: check mode writes nothing and reports changed; apply converges; then changed=0",
  NEEDS,
  () =>
    withHost(async (host) => {
      await addT4(host, T4A);
      await addT4(host, T4B);
      const p = await play(host);
      // A fake host's create files make no devices, so --start would drift forever.
      await p.write("        mdevctl_start: false\n", t4Pool(2));

      const check = await p.run("--check", "--diff");
      assertEquals(changed(check) > 0, true, check);
      // The drift is shown: the four defines diff would make.
      assertEquals(check.includes(`+ ${T4A}/${T4_UUIDS.a0} nvidia-222 define`), true, check);
      assertEquals(await definitions(host), {});
      assertEquals(await host.exists("etc/mdevctl/host.yaml"), false);

      const real = await p.run();
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

      const again = await p.run();
      assertEquals(changed(again), 0, again);
      const checkAgain = await p.run("--check");
      assertEquals(changed(checkAgain), 0, checkAgain);
    }),
));

Deno.test(requiring(
  "Ansible role: -e mdevctl_prune=false / mdevctl_start=no keep every device; -e mdevctl_prune=true prunes",
  NEEDS,
  () =>
    withHost(async (host) => {
      await addT4(host, T4A);
      await addT4(host, T4B);
      // All four instances run, so the default --start has nothing to start
      // and a stop is the only thing that would write to sysfs.
      for (const [u, parent] of Object.entries({ a0: T4A, a1: T4A, b0: T4B, b1: T4B })) {
        await host.addActive(T4_UUIDS[u as keyof typeof T4_UUIDS], parent, "nvidia-222");
      }
      const p = await play(host);
      // No boolean in the play: the role's defaults, or -e.
      await p.write("", t4Pool(2));
      const first = await p.run();
      assertEquals(changed(first) > 0, true, first);
      assertEquals(Object.keys(await definitions(host)).length, 4);

      // The file now wants slot 0 only: slot 1 on each parent is unwanted.
      await p.write("", t4Pool(1));
      const before = await state(host);
      const runs = [
        [], // the default: no pruning
        ["-e", "mdevctl_prune=false"],
        ["-e", "mdevctl_prune=False", "-e", "mdevctl_start=no"],
      ];
      for (const [i, extra] of runs.entries()) {
        const out = await p.run(...extra);
        // Only the first run has something to change: the host file itself.
        assertEquals(changed(out), i === 0 ? 1 : 0, `${extra.join(" ")}\n${out}`);
        assertEquals(/TASK \[mdevctl_hostfile : Apply\] \**\nskipping/.test(out), true, out);
        assertEquals(await state(host), before, `${extra.join(" ")} changed the host`);
      }

      // An unknown word is refused, not read as false; nothing runs.
      const bad = await p.runRaw("-e", "mdevctl_prune=ture");
      assertEquals(bad.code, 2, bad.output);
      assertEquals(
        bad.output.includes(
          "mdevctl_prune=ture is not a boolean (use true/false, yes/no, on/off or 1/0)",
        ),
        true,
        bad.output,
      );
      assertEquals(await state(host), before);

      // Pruning asked for: slot 1 is undefined and leaves the ledger; with
      // start=no nothing is stopped (the sysfs tree is untouched).
      const pruned = await p.run("-e", "mdevctl_prune=true", "-e", "mdevctl_start=no");
      assertEquals(changed(pruned) > 0, true, pruned);
      assertEquals(
        Object.keys(await definitions(host)).sort(),
        [`${T4A}/${T4_UUIDS.a0}`, `${T4B}/${T4_UUIDS.b0}`].sort(),
      );
      const ledger = JSON.parse(await host.read("var/lib/mdevctl/owners/gpu-pool.json"));
      assertEquals(Object.keys(ledger.devices).sort(), [T4_UUIDS.a0, T4_UUIDS.b0].sort());
      assertEquals((await state(host)).sys, before.sys);
    }),
));

Deno.test(requiring(
  "Ansible role: what the host cannot satisfy is shown, and the run does not fail",
  NEEDS,
  () =>
    withHost(async (host) => {
      await addT4(host, T4A);
      const p = await play(host);
      // nvidia-999 exists on no parent: the pool can place nothing.
      await p.write(
        "        mdevctl_start: false\n",
        `${t4Pool(1)}\n            - {name: none, type: nvidia-999, count: 1}`,
      );
      const unsatisfied = /"\? pool:none [^"]*"/;

      // Drift and an unsatisfiable pool: apply runs, and its report shows the pool.
      const first = await p.run();
      assertEquals(changed(first) > 0, true, first);
      assertEquals(unsatisfied.test(first), true, first);
      assertEquals(Object.keys(await definitions(host)), [`${T4A}/${T4_UUIDS.a0}`]);

      // Nothing left to change (diff exits 4): not changed, not failed, shown.
      const again = await p.run();
      assertEquals(changed(again), 0, again);
      assertEquals(unsatisfied.test(again), true, again);
      const check = await p.run("--check");
      assertEquals(changed(check), 0, check);
      assertEquals(unsatisfied.test(check), true, check);
    }),
));

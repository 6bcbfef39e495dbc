/**
 * The permission boundary of the black-box suite (issue #9): against the
 * source entry every run is confined by Deno's permissions to its own
 * temporary root, so a path that escapes the fake host fails the run instead
 * of touching the machine. Shown two ways: the flags of a running child, and
 * a root pointing outside the allowed one, which every command refuses
 * cleanly (an `Error:` line or a warning, never a stack trace) while the
 * outside tree stays untouched.
 *
 * Only meaningful for MDEVCTL_TEST_TARGET=source: the built dist/mdevctl runs
 * with -A, as installed.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FakeHost, P1, TARGET, U1, U2, U3, withHost } from "../helpers/fake_host.ts";
import { changes } from "../helpers/tree.ts";
import { snapshotTree } from "./harness.ts";

/** Registered in the source pass of `make test` only: dist/mdevctl runs with -A. */
function test(definition: Deno.TestDefinition): void {
  if (TARGET === "source") Deno.test(definition);
}
const TYPE = "vfio_t1";

async function populate(host: FakeHost): Promise<void> {
  await host.addParent(P1, { [TYPE]: { available: 4 } });
  await host.define(P1, U1, { mdev_type: TYPE, start: "auto", attrs: [] });
  await host.addActive(U2, P1, TYPE);
}

test({
  name: "permissions: the source entry runs with read/write scoped to the fake host root",
  fn: () =>
    withHost(async (host) => {
      await host.define(P1, U1, { mdev_type: "not-there-yet", start: "auto", attrs: [] });
      // Autostart waits for the missing type: long enough to look at the child.
      const child = await host.spawn(["start-parent-mdevs", P1], {
        env: { MDEVCTL_AUTOSTART_WAIT: "20" },
      });
      try {
        let argv: string[] = [];
        for (let i = 0; i < 50 && !argv.includes("start-parent-mdevs"); i++) {
          await new Promise((r) => setTimeout(r, 20));
          const raw = await Deno.readFile(`/proc/${child.pid}/cmdline`).catch(() => null);
          if (raw) argv = new TextDecoder().decode(raw).split("\0");
        }
        assert(argv.includes(`--allow-read=${host.root}`), argv.join(" "));
        assert(argv.includes(`--allow-write=${host.root}`), argv.join(" "));
        assert(argv.includes("--no-prompt"), argv.join(" "));
        for (const broad of ["-A", "--allow-all", "--allow-read", "--allow-write", "--allow-run"]) {
          assert(!argv.includes(broad), `unscoped ${broad}: ${argv.join(" ")}`);
        }
      } finally {
        child.kill("SIGKILL");
        await child.output();
      }
    }),
});

/** Commands aimed at a root outside the allowed one, and what each must say. */
const ESCAPES: { args: string[]; code: number | "either"; says: string }[] = [
  { args: ["define", "-u", U3, "-p", P1, "-t", TYPE], code: 1, says: "Unable to open lock file" },
  { args: ["modify", "-u", U1, "--manual"], code: 1, says: "Unable to open lock file" },
  { args: ["undefine", "-u", U1], code: 1, says: "Unable to open lock file" },
  { args: ["start", "-u", U1], code: 1, says: "Unable to open lock file" },
  { args: ["stop", "-u", U2], code: 1, says: "Unable to open lock file" },
  // Listings warn about an unreadable scan directory (exit 0) or, for the
  // config base itself, fail; either way nothing is listed.
  { args: ["list"], code: "either", says: "Requires read access" },
  { args: ["list", "-d"], code: "either", says: "Requires read access" },
  { args: ["types"], code: "either", says: "Requires read access" },
];

for (const { args, code, says } of ESCAPES) {
  test({
    name: `permissions: ${
      args.slice(0, 2).join(" ")
    } with MDEVCTL_ENV_ROOT outside the allowed root is refused`,
    fn: () =>
      withHost(async (host) => {
        const outside = await FakeHost.create();
        try {
          await populate(outside);
          const before = await snapshotTree(outside.root);
          const r = await host.run(args, { env: { MDEVCTL_ENV_ROOT: outside.root } });
          const what = `${args.join(" ")}\n${r.stderr}`;
          if (code === "either") assert(r.code === 0 || r.code === 1, what);
          else assertEquals(r.code, code, what);
          assert(!/^\s+at |Uncaught|Stack backtrace/m.test(r.stderr), `crash: ${what}`);
          assert(r.stderr.includes(says), what);
          assert(r.stderr.includes(outside.root), `names the refused path: ${what}`);
          if (r.code === 1) assert(r.stderr.startsWith("Error: "), what);
          assertEquals(r.stdout, "", "nothing listed from outside");
          assertEquals(changes(before, await snapshotTree(outside.root)), [], "outside touched");
        } finally {
          await outside.cleanup();
        }
      }),
  });
}

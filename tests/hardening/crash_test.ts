/**
 * Crash safety (decision §0.5), measured: define, modify and undefine are
 * killed with SIGKILL at random moments, many rounds. After every round each
 * config file is whole and holds the old or the new contents, never anything
 * in between; a killed writer's temporary file is never listed.
 *
 * Seeded: the seed is printed; MDEVCTL_TEST_SEED replays a run.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FakeHost, P1, withHost } from "../helpers/fake_host.ts";
import { seededRandom, testSeed } from "../helpers/random.ts";

const ROUNDS = 64;
const POOL = 4;
const TYPE = "vfio_t1";
const uuidOf = (i: number) => `c${i}c${i}c${i}c${i}-0000-4000-8000-00000000000${i}`;

interface Config {
  mdev_type: string;
  start: string;
  attrs: Record<string, string>[];
}
/** What a uuid's config is: absent (null) or a parsed config. */
type State = Config | null;

const configDir = `etc/mdevctl.d/${P1}`;

/** Every config file of the parent, parsed; fails on any partial file. */
async function readConfigs(host: FakeHost, context: string): Promise<Map<string, Config>> {
  const found = new Map<string, Config>();
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(host.path(configDir)));
  } catch {
    return found; // no definition was ever written
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".") && entry.name.endsWith(".tmp")) continue;
    const text = await host.read(`${configDir}/${entry.name}`);
    let parsed: Config;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${context}: ${entry.name} is not whole (${text.length} bytes)`);
    }
    assert(text.endsWith("}"), `${context}: ${entry.name} has a stray tail`);
    found.set(entry.name, parsed);
  }
  return found;
}

Deno.test("crash safety: SIGKILL at random moments during define/modify/undefine", async () => {
  const seed = testSeed("crash safety (hardening)");
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  await withHost(async (host) => {
    await host.addParent(P1, { [TYPE]: {} });
    await Deno.mkdir(host.path("in"));
    const model = new Map<string, State>();
    for (let i = 0; i < POOL; i++) model.set(uuidOf(i), null);
    // Values big enough that writing a config takes measurable time.
    const big = (n: number) => "v".repeat(20_000 + Math.floor(random() * 100_000)) + n;
    // Kill around the time a run takes (kept up to date as rounds finish),
    // so that many kills land mid-way.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (
        const args of [["define", "-u", uuidOf(9), "-p", "calib", "-t", TYPE], [
          "undefine",
          "-u",
          uuidOf(9),
        ]]
      ) {
        const t0 = performance.now();
        assertEquals((await host.run(args)).code, 0);
        times.push(performance.now() - t0);
      }
    }
    let runMs = times.sort((a, b) => a - b)[3]!;
    let killed = 0;
    let killedNew = 0;
    let completed = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const uuid = uuidOf(Math.floor(random() * POOL));
      const old = model.get(uuid)!;
      let args: string[];
      let next: State;
      if (old === null) {
        args = ["define", "-u", uuid, "-p", P1, "-t", TYPE];
        next = { mdev_type: TYPE, start: "manual", attrs: [] };
      } else {
        const op = pick(["addattr", "addattr", "jsonfile", "auto", "undefine"]);
        if (op === "addattr") {
          const value = big(round);
          args = ["modify", "-u", uuid, "--addattr", `r${round}`, "--value", value];
          next = { ...old, attrs: [...old.attrs, { [`r${round}`]: value }] };
        } else if (op === "jsonfile") {
          next = {
            mdev_type: TYPE,
            start: pick(["auto", "manual"]),
            attrs: [{ j: big(round) }, { k: `${round}` }],
          };
          const file = host.path(`in/${round}.json`);
          await Deno.writeTextFile(file, JSON.stringify(next));
          args = ["modify", "-u", uuid, "-p", P1, "--jsonfile", file];
        } else if (op === "auto") {
          const start = old.start === "auto" ? "manual" : "auto";
          args = ["modify", "-u", uuid, `--${start}`];
          next = { ...old, start };
        } else {
          args = ["undefine", "-u", uuid];
          next = null;
        }
      }
      const t0 = performance.now();
      const child = await host.spawn(args);
      const delay = Math.floor(runMs * (0.3 + random()));
      await new Promise((r) => setTimeout(r, delay));
      try {
        child.kill("SIGKILL");
      } catch {
        // it had already finished
      }
      const status = await child.output();
      const context = `round ${round} (seed ${seed}, ${args[0]} ${args[3] ?? ""}, ` +
        `killed after ${delay} ms)`;
      if (status.signal === "SIGKILL") killed++;
      else {
        completed++;
        runMs = 0.7 * runMs + 0.3 * (performance.now() - t0);
        assertEquals(status.code, 0, `${context}: ${new TextDecoder().decode(status.stderr)}`);
      }

      const configs = await readConfigs(host, context);
      for (const [u, expected] of model) {
        const now = configs.get(u) ?? null;
        if (u !== uuid) {
          assertEquals(now, expected, `${context}: untouched ${u} changed`);
          continue;
        }
        if (status.code === 0) assertEquals(now, next, `${context}: a finished run's result`);
        else {
          assert(
            JSON.stringify(now) === JSON.stringify(old) ||
              JSON.stringify(now) === JSON.stringify(next),
            `${context}: ${u} is neither old nor new`,
          );
        }
        if (status.signal === "SIGKILL" && JSON.stringify(now) !== JSON.stringify(old)) {
          killedNew++;
        }
        model.set(u, now);
      }
      assertEquals([...configs.keys()].filter((n) => !model.has(n)), [], context);
    }
    const temps = Object.keys(await host.snapshot(configDir).catch(() => ({})))
      .filter((n) => n.endsWith(".tmp")).length;
    console.log(
      `crash safety: ${ROUNDS} rounds (run ≈ ${Math.round(runMs)} ms): ${completed} completed, ` +
        `${killed} killed (${killedNew} after the new file was in place), ${temps} temp files left`,
    );

    // Both outcomes happened, or the rounds proved nothing about one of them.
    assert(killed > 0 && completed > 0, `${completed} completed, ${killed} killed (seed ${seed})`);

    // Temporary files a killed writer left are never taken for configs.
    const listed = await host.run(["list", "-d", "--dumpjson"]);
    assertEquals([listed.code, listed.stderr], [0, ""]);
    const defined = [...model].filter(([, s]) => s !== null).map(([u]) => u).sort();
    const shown = defined.length === 0
      ? []
      : (JSON.parse(listed.stdout) as Record<string, Record<string, unknown>[]>[])
        .flatMap((p) => Object.values(p).flat())
        .flatMap((d) => Object.keys(d)).sort();
    assertEquals(shown, defined, `seed ${seed}`);
    const text = await host.run(["list", "-d"]);
    assertEquals(text.stdout.split("\n").filter(Boolean).length, defined.length);
  });
});

/**
 * Deno's V8 code cache of the bundle (cli.ts, tools/warm_code_cache.sh,
 * bench/analysis.md): an ordinary run ends with Deno.exit() and stores
 * nothing; the warm-up run returns, so Deno stores the compiled bundle, and it
 * reports the command's own status and output. Each test uses a copy of the
 * built bundle at a path of its own, a launcher for it and a Deno cache
 * directory of its own (DENO_DIR), whose `codecache` table it then reads.
 *
 * The bundled form only: a compiled binary has no bundle for Deno to cache.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type CommandResult, runClean } from "../helpers/command.ts";

const TOP = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const RUN_HERE = Deno.env.get("MDEVCTL_TEST_TARGET") !== "source";
const BUNDLE = `${TOP}/dist/mdevctl.js`;

function bundleMissing(): string | false {
  try {
    Deno.statSync(BUNDLE);
    return false;
  } catch {
    return "no dist/mdevctl.js (make; a compiled build has no bundle)";
  }
}

function run(cmd: string[], env: Record<string, string>): Promise<CommandResult> {
  return runClean(cmd, env);
}

/**
 * A copy of the bundle with its launcher, an empty fake host and a Deno cache
 * directory (DENO_DIR in `env`). With `launcherDenoDir`, the launcher is
 * written with `--deno-dir` naming that path below the test's directory, as
 * tools/install.sh writes it.
 */
async function setup(launcherDenoDir?: string): Promise<{
  dir: string;
  launcher: string;
  specifier: string;
  env: Record<string, string>;
  cleanup: () => Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "mdevctl-code-cache-" });
  const bundle = `${dir}/mdevctl.js`;
  await Deno.copyFile(BUNDLE, bundle);
  await Deno.mkdir(`${dir}/sysfs`);
  await Deno.mkdir(`${dir}/dev`);
  const deno = (await run([`${TOP}/tools/deno_path.sh`], {})).stdout.trim();
  const option = launcherDenoDir === undefined ? [] : ["--deno-dir", `${dir}/${launcherDenoDir}`];
  const written = await run(
    [
      deno,
      "run",
      "--quiet",
      "--no-lock",
      "--allow-read",
      "--allow-env=PATH",
      `${TOP}/tools/gen_sandbox.ts`,
      "launcher",
      "--view-per-run",
      ...option,
      "bundle",
      deno,
      bundle,
      dir,
    ],
    {},
  );
  equal(written.code, 0, written.stderr);
  const launcher = `${dir}/mdevctl`;
  await Deno.writeTextFile(launcher, written.stdout, { mode: 0o755 });
  const root = `${dir}/root`;
  for (const d of ["sys/class/mdev_bus", "sys/bus/mdev/devices", "etc/mdevctl.d"]) {
    await Deno.mkdir(`${root}/${d}`, { recursive: true });
  }
  return {
    dir,
    launcher,
    specifier: `file://${bundle}`,
    env: { DENO_DIR: `${dir}/deno`, MDEVCTL_ENV_ROOT: root, HOME: dir },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Bytes of code cache Deno holds for `specifier` in the cache directory `denoDir` (0: none). */
function cachedBytes(denoDir: string, specifier: string): number {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(`${denoDir}/v8_code_cache_v2`, { readOnly: true });
  } catch {
    return 0; // no cache database at all
  }
  try {
    const row = db.prepare("SELECT length(data) AS n FROM codecache WHERE specifier = ?")
      .get(specifier) as { n: number } | undefined;
    return row?.n ?? 0;
  } finally {
    db.close();
  }
}

function codeCacheTest(name: string, fn: () => Promise<void>): void {
  if (!RUN_HERE) return;
  const reason = bundleMissing();
  Deno.test({ name: reason ? `${name} (ignored: ${reason})` : name, ignore: !!reason, fn });
}

codeCacheTest(
  "code cache: an ordinary run stores none; tools/warm_code_cache.sh does",
  async () => {
    const { launcher, specifier, env, cleanup } = await setup();
    try {
      const plain = await run([launcher, "list"], env);
      deepEqual([plain.code, plain.stdout, plain.stderr], [0, "", ""]);
      equal(
        cachedBytes(env.DENO_DIR!, specifier),
        0,
        "a run ending in Deno.exit() cached the bundle",
      );

      const warm = await run([`${TOP}/tools/warm_code_cache.sh`, launcher], {
        DENO_DIR: env.DENO_DIR!,
      });
      deepEqual([warm.code, warm.stdout, warm.stderr], [0, "", ""]);
      // The whole bundle's top level at least: tens of kilobytes.
      const bytes = cachedBytes(env.DENO_DIR!, specifier);
      ok(bytes > 10_000, `code cache of ${specifier}: ${bytes} bytes`);

      // Later runs read it and still print the same.
      const again = await run([launcher, "list", "--dumpjson"], env);
      deepEqual([again.code, again.stdout, again.stderr], [0, "[]\n", ""]);
    } finally {
      await cleanup();
    }
  },
);

codeCacheTest("code cache: the warm-up run keeps the command's status and output", async () => {
  const { launcher, env, cleanup } = await setup();
  try {
    for (const args of [["types", "--dumpjson"], ["list", "--bogus"], ["start-mdev"]]) {
      const plain = await run([launcher, ...args], env);
      const warm = await run([launcher, ...args], { ...env, MDEVCTL_WARM_CODE_CACHE: "1" });
      deepEqual(warm, plain, `mdevctl ${args.join(" ")}`);
    }
  } finally {
    await cleanup();
  }
});

codeCacheTest(
  "code cache: an installed launcher keeps it in its own directory when it may write there",
  async () => {
    const { dir, launcher, specifier, env, cleanup } = await setup("cache/deno");
    const own = `${dir}/cache/deno`;
    // Deno's default for this caller: HOME's cache (the units' ProtectHome= hides root's).
    const home = `${dir}/.cache/deno`;
    const callerSet = env.DENO_DIR!;
    const noDenoDir = { ...env };
    delete noDenoDir.DENO_DIR;
    try {
      // Missing (so not writable): Deno's default, as a launcher without --deno-dir.
      const warmMissing = await run([`${TOP}/tools/warm_code_cache.sh`, launcher], noDenoDir);
      deepEqual([warmMissing.code, warmMissing.stderr], [0, ""]);
      ok(cachedBytes(home, specifier) > 10_000, "no launcher directory: HOME's cache");
      await Deno.remove(`${dir}/.cache`, { recursive: true });

      await Deno.mkdir(own, { recursive: true });
      const warm = await run([`${TOP}/tools/warm_code_cache.sh`, launcher], noDenoDir);
      deepEqual([warm.code, warm.stderr], [0, ""]);
      ok(cachedBytes(own, specifier) > 10_000, `code cache in ${own}`);
      equal(cachedBytes(home, specifier), 0, "HOME's cache was used");
      // Shared by every root caller at once (udev starts one unit per parent at boot).
      const together = await Promise.all(
        Array.from({ length: 12 }, () => run([launcher, "list", "--dumpjson"], noDenoDir)),
      );
      for (const listed of together) {
        deepEqual([listed.code, listed.stdout, listed.stderr], [0, "[]\n", ""]);
      }

      // DENO_DIR set by the caller wins.
      const theirs = await run([`${TOP}/tools/warm_code_cache.sh`, launcher], env);
      deepEqual([theirs.code, theirs.stderr], [0, ""]);
      ok(cachedBytes(callerSet, specifier) > 10_000, "the caller's DENO_DIR was not used");
    } finally {
      await cleanup();
    }
  },
);

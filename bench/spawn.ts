/**
 * How the benchmarks run a program: no stdin, output discarded, exactly the
 * environment given (nothing of the harness's own leaks in), timed from
 * spawn to exit. One place, so every figure in bench/ is measured the same way.
 */

/** The environment every measured program gets. */
export type BenchEnv = Record<string, string>;

/** How one quiet run ended: its exit code (null: could not spawn) and wall time. */
export interface QuietRun {
  code: number | null;
  ms: number;
}

/**
 * Runs `argv` quietly and times it.
 *
 * @example
 * ```ts
 * import { runQuiet } from "./spawn.ts";
 * const r = runQuiet(["/bin/true"], {});
 * console.assert(r.code === 0 && r.ms >= 0);
 * ```
 */
export function runQuiet(argv: readonly string[], env: BenchEnv): QuietRun {
  const cmd = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env,
    clearEnv: true,
  });
  const t0 = performance.now();
  let code: number | null = null;
  try {
    code = cmd.outputSync().code;
  } catch {
    // could not spawn (the program vanished): code stays null
  }
  return { code, ms: performance.now() - t0 };
}

/**
 * Runs `argv` quietly under a wrapper that writes its report to a file
 * (`perf stat -o FILE`, `/usr/bin/time -o FILE`) and returns that report,
 * or null when the wrapper failed. `wrap(file)` gives the wrapper's words
 * before `argv`.
 *
 * @example
 * ```ts
 * import { runReported } from "./spawn.ts";
 * const report = runReported((f) => ["/bin/sh", "-c", `echo 42 > ${f}`, "--"], ["x"], {});
 * console.assert(report?.trim() === "42");
 * ```
 */
export function runReported(
  wrap: (file: string) => string[],
  argv: readonly string[],
  env: BenchEnv,
): string | null {
  const file = Deno.makeTempFileSync({ prefix: "bench-report-" });
  try {
    const r = runQuiet([...wrap(file), ...argv], env);
    return r.code === 0 ? Deno.readTextFileSync(file) : null;
  } finally {
    Deno.removeSync(file);
  }
}

/** Running a program to completion, as the black-box tests do. */

/** What a finished program left: its exit status and its decoded output. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run it: `env` is added to this process's environment unless `clearEnv`. */
export interface CommandOptions {
  env?: Record<string, string> | undefined;
  clearEnv?: boolean | undefined;
  cwd?: string | undefined;
}

/**
 * Runs `cmd` (program and arguments) with stdin closed and returns its
 * status, stdout and stderr.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { runCommand } from "./command.ts";
 *
 * deepEqual(await runCommand(["sh", "-c", "echo hi; exit 3"]), { code: 3, stdout: "hi\n", stderr: "" });
 * ```
 */
export async function runCommand(
  cmd: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env: options.env ?? {},
    clearEnv: options.clearEnv ?? false,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The PATH of a clean environment: root's system directories only. */
export const SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Runs `cmd` in a clean environment (only SYSTEM_PATH and `env`), as a unit
 * or a root shell would: nothing of the test runner's environment leaks in.
 *
 * @example
 * ```ts
 * import { runClean } from "./command.ts";
 *
 * console.assert((await runClean(["sh", "-c", "echo $X"], { X: "1" })).stdout === "1\n");
 * ```
 */
export function runClean(
  cmd: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CommandResult> {
  return runCommand(cmd, { env: { PATH: SYSTEM_PATH, ...env }, clearEnv: true, cwd });
}

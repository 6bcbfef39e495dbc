/**
 * The program: parse the command line, run one command, map every failure to
 * its exit status (0 ok, 1 runtime error, 2 usage error; never a crash).
 * The top of the import graph: lib/cli/ parses, lib/commands/ runs.
 */
import { LegacyUsageError, parseCommandLine } from "./cli/parse_args.ts";
import { commandHelp, programHelp } from "./cli/help.ts";
import type { CommandName } from "./cli/command_table.ts";
import { commandContext } from "./cli/context.ts";
import { COMMAND_MODULES, type CommandModule } from "./commands/registry.ts";
import { Environment } from "./environment.ts";
import { describeError, formatError, MdevError, UsageError } from "./errors.ts";

/** `lsmdev` when argv[0] ends with it (mdevctl.md §4.1), else `mdevctl`. */
function programName(argv0: string): string {
  return argv0.endsWith("lsmdev") ? "lsmdev" : "mdevctl";
}

/**
 * Runs mdevctl (or lsmdev, by `argv0`) with `argv` in `env` and returns the
 * exit status. Every failure is reported on the environment's stderr.
 *
 * @example `mdevctl types` on an empty host
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, main } from "../mod.ts";
 *
 * let out = "";
 * const env = new Environment(Deno.makeTempDirSync(), { stdout: (text) => out += text });
 * deepEqual(await main(["types", "--dumpjson"], "mdevctl", env), 0);
 * deepEqual(out, "[]\n");
 * ```
 */
export async function main(
  argv: readonly string[],
  argv0: string,
  context?: Environment,
): Promise<number> {
  const program = programName(argv0);
  let env: Environment;
  try {
    env = context ?? Environment.fromProcess();
  } catch (error) {
    return reportError(new Environment(), error);
  }
  try {
    const outcome = parseCommandLine(argv, program);
    switch (outcome.kind) {
      case "help": {
        const text = outcome.command ? commandHelp(outcome.command, program) : programHelp();
        if (outcome.toStderr) {
          env.stderr(text);
          return 2;
        }
        env.stdout(text);
        return 0;
      }
      case "version":
        env.stdout(`${outcome.text}\n`);
        return 0;
      case "run": {
        const load = COMMAND_MODULES[outcome.command.name as CommandName] as () => Promise<
          CommandModule
        >;
        const status = await (await load()).run(commandContext(env, outcome.command, outcome.args));
        return status ?? 0;
      }
    }
  } catch (error) {
    return reportError(env, error);
  }
}

function reportError(env: Environment, error: unknown): number {
  if (error instanceof UsageError) {
    env.stderr(
      `error: ${error.message}\n\nUsage: ${error.usage}\n\nFor more information, try '--help'.\n`,
    );
    return 2;
  }
  if (error instanceof LegacyUsageError) {
    env.stderr(`${error.message}\n`);
    return 1;
  }
  if (error instanceof MdevError) {
    env.stderr(formatError(error));
    return 1;
  }
  // Anything else is a defect; still a clean one-line error (mdevctl.md §0.7).
  env.stderr(`Error: ${describeError(error)}\n`);
  if (env.logger.enabled("debug") && error instanceof Error) env.stderr(`${error.stack}\n`);
  return 1;
}

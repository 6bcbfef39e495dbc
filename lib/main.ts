/**
 * The program: parse the command line, run one command, map every failure to
 * its exit status (0 ok, 1 runtime error, 2 usage error; never a crash).
 */
import { LegacyUsageError, parseCommandLine } from "./cli/parse_args.ts";
import { commandHelp, programHelp } from "./cli/help.ts";
import { Environment } from "./environment.ts";
import { describeError, formatError, MdevError, UsageError } from "./errors.ts";
import { writeStderr, writeStdout } from "./output.ts";

/** `lsmdev` when argv[0] ends with it (spec §4.1), else `mdevctl`. */
function programName(argv0: string): string {
  return argv0.endsWith("lsmdev") ? "lsmdev" : "mdevctl";
}

export async function main(argv: readonly string[], argv0: string): Promise<number> {
  const program = programName(argv0);
  try {
    const outcome = parseCommandLine(argv, program);
    switch (outcome.kind) {
      case "help": {
        const text = outcome.command ? commandHelp(outcome.command, program) : programHelp();
        if (outcome.toStderr) {
          writeStderr(text);
          return 2;
        }
        writeStdout(text);
        return 0;
      }
      case "version":
        writeStdout(`${outcome.text}\n`);
        return 0;
      case "run": {
        const module = await outcome.command.load();
        const status = await module.run({
          env: Environment.fromProcess(),
          command: outcome.command.name,
          args: outcome.args,
          stdout: writeStdout,
        });
        return status ?? 0;
      }
    }
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    writeStderr(
      `error: ${error.message}\n\nUsage: ${error.usage}\n\nFor more information, try '--help'.\n`,
    );
    return 2;
  }
  if (error instanceof LegacyUsageError) {
    writeStderr(`${error.message}\n`);
    return 1;
  }
  if (error instanceof MdevError) {
    writeStderr(formatError(error));
    return 1;
  }
  // Anything else is a defect; still a clean one-line error (decision §0.7).
  writeStderr(`Error: ${describeError(error)}\n`);
  if (Deno.env.get("MDEVCTL_LOG")?.includes("debug") && error instanceof Error) {
    writeStderr(`${error.stack}\n`);
  }
  return 1;
}

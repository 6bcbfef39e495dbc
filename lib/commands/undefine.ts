/** Not implemented yet. */
import type { CommandContext } from "../cli/context.ts";
import { MdevError } from "../errors.ts";

export function run(ctx: CommandContext): Promise<void> {
  return Promise.reject(new MdevError(`Command '${ctx.command}' is not implemented yet`));
}

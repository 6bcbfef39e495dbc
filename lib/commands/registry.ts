/**
 * Which module runs each command of the table (lib/cli/command_table.ts).
 * Modules are loaded when their command runs, so `list` pays only for list.
 * A module exports `run(ctx: CommandContext<"name">)`; the type below checks
 * that every command of the table has one, with the options it declares.
 */
import type { CommandName } from "../cli/command_table.ts";
import type { CommandContext } from "../cli/context.ts";

/** A command's implementation. */
export interface CommandModule<N extends CommandName = CommandName> {
  run(ctx: CommandContext<N>): number | void | Promise<number | void>;
}

/** The module of every command, by name. */
export const COMMAND_MODULES: { readonly [N in CommandName]: () => Promise<CommandModule<N>> } = {
  "define": () => import("./define.ts"),
  "undefine": () => import("./undefine.ts"),
  "modify": () => import("./modify.ts"),
  "start": () => import("./start.ts"),
  "stop": () => import("./stop.ts"),
  "list": () => import("./list.ts"),
  "types": () => import("./types.ts"),
  "apply": () => import("./apply.ts"),
  "diff": () => import("./diff.ts"),
  "export": () => import("./export.ts"),
  "monitor": () => import("./monitor.ts"),
  "wait": () => import("./wait.ts"),
  "start-parent-mdevs": () => import("./start_parent_mdevs.ts"),
  "list-all": () => import("./list_all.ts"),
  "list-available": () => import("./list_available.ts"),
  "create-mdev": () => import("./create_mdev.ts"),
  "list-mdevs": () => import("./list_mdevs.ts"),
  "stop-mdev": () => import("./stop_mdev.ts"),
  "start-mdev": () => import("./start_mdev.ts"),
  "list-saved": () => import("./list_saved.ts"),
  "remove-mdev": () => import("./remove_mdev.ts"),
};

/**
 * The read model of the host shared by host files (lib/hostfile/snapshot.ts)
 * and the monitor (lib/monitor/snapshot.ts): stored definitions here,
 * running devices as lib/sysfs/active.ts gives them (`ActiveInfo`), parents
 * and their types from lib/sysfs/. Each shape is declared once.
 */
import type { MdevConfig } from "./config.ts";
import { scanDefined } from "./config_store.ts";
import type { Environment } from "./environment.ts";

export type { ActiveInfo } from "./sysfs/active.ts";

/** One stored definition. */
export interface Definition {
  parent: string;
  uuid: string;
  config: MdevConfig;
  /** The file it was read from (a non-canonical spelling of the uuid keeps its own); unset when made up. */
  configPath?: string | undefined;
}

/**
 * The definitions under `parent` (every parent when unset), parents in byte
 * order, without looking at sysfs. Bad files are skipped with a warning
 * (mdevctl.md §0.6); a directory that cannot be read throws naming it.
 */
export function readDefinitions(env: Environment, parent?: string): Definition[] {
  const out: Definition[] = [];
  for (const [found, devices] of scanDefined(env, { parent }, { skipActive: true })) {
    for (const d of devices) {
      out.push({
        parent: found,
        uuid: d.uuid,
        config: { type: d.type!, autostart: d.autostart, attrs: d.attrs },
        configPath: d.configPath,
      });
    }
  }
  return out;
}

/**
 * mdevctl as a library: the environment, the device model, config and sysfs
 * access, and the formatters behind the command line.
 *
 * @module
 */
export { Environment } from "./lib/environment.ts";
export { causeChain, formatError, MdevError, UsageError } from "./lib/errors.ts";
export { newUuid, parseUuid } from "./lib/uuid.ts";
export type { Attr, MdevConfig, MdevDevice } from "./lib/config.ts";
export {
  compactConfig,
  configFromJson,
  parseConfig,
  parseStoredConfig,
  serializeConfig,
} from "./lib/config.ts";
export { scanDefined, writeConfig } from "./lib/config_store.ts";
export { withLock } from "./lib/lock.ts";
export { writeFileAtomic } from "./lib/atomic_write.ts";
export { loadActive, scanActive, scanTypes } from "./lib/sysfs.ts";
export type { ActiveInfo, MdevType } from "./lib/sysfs.ts";
export { formatListJson, formatListText, formatTypesJson, formatTypesText } from "./lib/format.ts";
export { COMMANDS } from "./lib/cli/command_table.ts";
export { main } from "./lib/main.ts";
export { VERSION } from "./lib/version.ts";

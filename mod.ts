/**
 * mdevctl as a library: the run context, the device model, definitions and
 * sysfs access, the formatters and the program itself. What this module
 * exports is the public API; everything else under lib/ is internal and may
 * change (docs/architecture.md).
 *
 * @example List the definitions of a host tree
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Environment, main } from "./mod.ts";
 *
 * let out = "";
 * const env = new Environment(Deno.makeTempDirSync(), { stdout: (text) => out += text });
 * deepEqual(await main(["list", "--defined"], "mdevctl", env), 0);
 * deepEqual(out, "");
 * ```
 *
 * @module
 */
export { Environment } from "./lib/environment.ts";
export type { EnvironmentOptions } from "./lib/environment.ts";
export { LOG_LEVELS } from "./lib/logger.ts";
export type { Level, Logger } from "./lib/logger.ts";
export { causeChain, formatError, MdevError, UsageError } from "./lib/errors.ts";
export { newUuid, parseUuid } from "./lib/uuid.ts";
export type { Attr, MdevConfig, MdevDevice, MdevType } from "./lib/config.ts";
export {
  compactConfig,
  configFromJson,
  newDevice,
  parseConfig,
  parseStoredConfig,
  serializeConfig,
} from "./lib/config.ts";
export { scanDefined, writeConfig } from "./lib/config_store.ts";
export type { ScanOptions } from "./lib/config_store.ts";
export { withLock } from "./lib/lock.ts";
export { writeFileAtomic, writeNewDirAtomic } from "./lib/atomic_write.ts";
export { loadActive, scanActive } from "./lib/sysfs/active.ts";
export { scanTypes } from "./lib/sysfs/types.ts";
export type { ActiveInfo, DeviceFilter, Expectation } from "./lib/sysfs/active.ts";
export { formatListJson, formatListText, formatTypesJson, formatTypesText } from "./lib/format.ts";
export type { ListedDevice } from "./lib/format.ts";
export { COMMANDS } from "./lib/cli/command_table.ts";
export type {
  CommandSpec,
  OptionSpec,
  PositionalSpec,
  ValueKind,
} from "./lib/cli/command_table.ts";
export type { NameKind } from "./lib/names.ts";
export { main } from "./lib/main.ts";
export { VERSION } from "./lib/version.ts";

/**
 * The ownership ledger, `ROOT/var/lib/mdevctl/owners/<owner>.json`
 * (hostfile.md §5): which definitions a host file's owner made, from which
 * rule, and the hash of the config bytes apply last wrote.
 */
import { sha256Hex } from "./sha.ts";
import { writeFileAtomic } from "../atomic_write.ts";
import { type Environment, LEDGER_DIR } from "../environment.ts";
import { describeError, isNotFound, MdevError } from "../errors.ts";
import { compareBytes } from "../order.ts";
import { quotePath } from "../paths.ts";
import { parseUuid } from "../uuid.ts";
import { NAME_PATTERN } from "./schema.ts";

/** The rule a managed device comes from. */
export type Origin = { pool: string; slot: number } | { device: string };

export interface LedgerEntry {
  parent: string;
  type: string;
  origin: Origin;
  /** Hex SHA-256 of the config bytes apply wrote (or adopted). */
  sha256: string;
}

export interface Ledger {
  owner: string;
  devices: Map<string, LedgerEntry>;
}

/** The directory of every owner's ledger, below the environment's root. */
export function ownersDir(env: Environment): string {
  return env.path(LEDGER_DIR);
}

export function ledgerPath(env: Environment, owner: string): string {
  return `${ownersDir(env)}/${owner}.json`;
}

/** Hex SHA-256 of a config's bytes. */
export function sha256(text: string): string {
  return sha256Hex(text);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseOrigin(v: unknown): Origin | null {
  if (!isObject(v)) return null;
  if (typeof v.pool === "string" && Number.isSafeInteger(v.slot) && (v.slot as number) >= 0) {
    return { pool: v.pool, slot: v.slot as number };
  }
  if (typeof v.device === "string") return { device: v.device };
  return null;
}

/** Parses a ledger file's text; throws a one-line reason when it is not one. */
export function parseLedger(text: string, owner: string): Ledger {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MdevError(describeError(e));
  }
  if (!isObject(value) || value.version !== 1 || !isObject(value.devices)) {
    throw new MdevError('not a version 1 ledger ({"version":1,"owner":…,"devices":{…}})');
  }
  if (value.owner !== owner) {
    throw new MdevError(`owner ${JSON.stringify(value.owner)} does not match the file name`);
  }
  const devices = new Map<string, LedgerEntry>();
  for (const [key, entry] of Object.entries(value.devices)) {
    const uuid = parseUuid(key);
    const origin = isObject(entry) ? parseOrigin(entry.origin) : null;
    if (
      uuid === null || !isObject(entry) || typeof entry.parent !== "string" ||
      typeof entry.type !== "string" || typeof entry.sha256 !== "string" || origin === null
    ) {
      throw new MdevError(`invalid entry ${JSON.stringify(key)}`);
    }
    devices.set(uuid, { parent: entry.parent, type: entry.type, origin, sha256: entry.sha256 });
  }
  return { owner, devices };
}

/** The file bytes of a ledger: devices by uuid, two-space JSON, final newline. */
export function serializeLedger(ledger: Ledger): string {
  const devices: Record<string, unknown> = {};
  for (const uuid of [...ledger.devices.keys()].sort(compareBytes)) {
    const e = ledger.devices.get(uuid)!;
    const origin = "pool" in e.origin
      ? { pool: e.origin.pool, slot: e.origin.slot }
      : { device: e.origin.device };
    devices[uuid] = { parent: e.parent, type: e.type, origin, sha256: e.sha256 };
  }
  return JSON.stringify({ version: 1, owner: ledger.owner, devices }, null, 2) + "\n";
}

/**
 * Every owner's ledger. The given owner's must be readable (an apply on a
 * garbled ledger would forget what it owns); others that are not are
 * skipped with a warning.
 */
export function readLedgers(env: Environment, owner: string | null): Map<string, Ledger> {
  const dir = ownersDir(env);
  const result = new Map<string, Ledger>();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (isNotFound(e)) return result;
    throw MdevError.wrap(`Unable to read directory ${quotePath(dir)}`, e);
  }
  for (const entry of entries.sort((a, b) => compareBytes(a.name, b.name))) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const name = entry.name.slice(0, -".json".length);
    if (!NAME_PATTERN.test(name)) continue;
    const path = `${dir}/${entry.name}`;
    try {
      result.set(name, parseLedger(Deno.readTextFileSync(path), name));
    } catch (e) {
      if (name === owner) {
        throw new MdevError(`Invalid ledger ${quotePath(path)}: ${describeError(e)}`, [
          "move it away to let apply treat every device as unmanaged",
        ]);
      }
      env.stderr(`W: ignoring invalid ledger ${quotePath(path)}: ${describeError(e)}\n`);
    }
  }
  return result;
}

/** Writes a ledger when its bytes differ from the file's (idempotence, §7). */
export function writeLedgerIfChanged(env: Environment, ledger: Ledger): boolean {
  const path = ledgerPath(env, ledger.owner);
  const text = serializeLedger(ledger);
  let current: string | null = null;
  try {
    current = Deno.readTextFileSync(path);
  } catch {
    current = null;
  }
  if (current === text) return false;
  if (current === null && ledger.devices.size === 0) return false;
  try {
    Deno.mkdirSync(ownersDir(env), { recursive: true });
    writeFileAtomic(path, text);
  } catch (e) {
    throw MdevError.wrap(`Failed to write ledger ${quotePath(path)}`, e);
  }
  return true;
}

/**
 * The owner whose ledger holds `uuid`, if any: the 1.x commands warn before
 * changing a managed device (§5 "1.x commands"). Never throws.
 */
export function managingOwner(env: Environment, uuid: string): string | null {
  try {
    for (const [owner, ledger] of readLedgers(env, null)) {
      if (ledger.devices.has(uuid)) return owner;
    }
  } catch {
    // no ledgers readable: nothing to warn about
  }
  return null;
}

/**
 * The warning 1.x `undefine`/`modify` print for a managed device (§5): one
 * stderr line; stdout and exit status stay as in 1.x.
 */
export function warnIfManaged(env: Environment, uuid: string): void {
  const owner = managingOwner(env, uuid);
  if (owner !== null) {
    env.stderr(`W: ${uuid} is managed by host file owner ${owner}; the next apply restores it\n`);
  }
}

/**
 * The ownership ledger, `ROOT/var/lib/mdevctl/owners/<owner>.json`
 * (hostfile.md §5): which definitions a host file's owner made, from which
 * rule, and the hash of the config bytes apply last wrote.
 */
import { sha256Hex } from "./sha.ts";
import { writeFileAtomic } from "../atomic_write.ts";
import type { Environment } from "../environment.ts";
import { causeChain, describeError, MdevError } from "../errors.ts";
import { readDirOrNull, readTextOrNull } from "../fs_probe.ts";
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

/** A VF whose vGPU a host file's owner assigned (docs/vfio-vgpu.md "Ledger"). */
export interface VfEntry {
  /** Its GPU's PCI address. */
  pf: string;
  typeId: number;
  /** The full type name when apply knew it: names ids sysfs no longer lists. */
  typeName: string | undefined;
  origin: { pool: string; slot: number };
}

export interface Ledger {
  owner: string;
  devices: Map<string, LedgerEntry>;
  /** VF address -> its vGPU; absent in ledgers written before VFIO pools. */
  vfs?: Map<string, VfEntry>;
}

/** A ledger's VFs (none when it has no `vfs` key). */
export function ledgerVfs(l: Ledger): ReadonlyMap<string, VfEntry> {
  return l.vfs ?? new Map();
}

/** Type names the ledgers remember for a GPU's ids: id -> full name. */
export function rememberedNames(
  ledgers: ReadonlyMap<string, Ledger>,
  pf: string,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of ledgers.values()) {
    for (const e of ledgerVfs(l).values()) {
      if (e.pf === pf && e.typeName !== undefined && !out.has(e.typeId)) {
        out.set(e.typeId, e.typeName);
      }
    }
  }
  return out;
}

/** The ledger file of one owner. */
export function ledgerPath(env: Environment, owner: string): string {
  return `${env.ownersDir}/${owner}.json`;
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
  if (value.vfs === undefined) return { owner, devices };
  return { owner, devices, vfs: parseVfs(value.vfs) };
}

const PCI_ADDRESS = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

function parseVfs(value: unknown): Map<string, VfEntry> {
  if (!isObject(value)) throw new MdevError('"vfs" is not an object');
  const vfs = new Map<string, VfEntry>();
  for (const [key, e] of Object.entries(value)) {
    const origin = isObject(e) ? parseOrigin(e.origin) : null;
    if (
      !PCI_ADDRESS.test(key) || !isObject(e) || typeof e.pf !== "string" ||
      !Number.isSafeInteger(e.typeId) || (e.typeId as number) <= 0 ||
      (e.typeName !== undefined && typeof e.typeName !== "string") ||
      origin === null || !("pool" in origin)
    ) {
      throw new MdevError(`invalid vfs entry ${JSON.stringify(key)}`);
    }
    vfs.set(key, {
      pf: e.pf,
      typeId: e.typeId as number,
      typeName: e.typeName as string | undefined,
      origin,
    });
  }
  return vfs;
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
  const doc: Record<string, unknown> = { version: 1, owner: ledger.owner, devices };
  // Written only when there are VFs: ledgers of mdev-only owners keep their bytes.
  const vfs = ledgerVfs(ledger);
  if (vfs.size > 0) {
    const out: Record<string, unknown> = {};
    for (const vf of [...vfs.keys()].sort(compareBytes)) {
      const e = vfs.get(vf)!;
      out[vf] = {
        pf: e.pf,
        typeId: e.typeId,
        ...(e.typeName === undefined ? {} : { typeName: e.typeName }),
        origin: { pool: e.origin.pool, slot: e.origin.slot },
      };
    }
    doc.vfs = out;
  }
  return JSON.stringify(doc, null, 2) + "\n";
}

/**
 * Every owner's ledger. The given owner's must be readable (an apply on a
 * garbled ledger would forget what it owns); others that are not are
 * skipped with a warning.
 */
export function readLedgers(env: Environment, owner: string | null): Map<string, Ledger> {
  const dir = env.ownersDir;
  const result = new Map<string, Ledger>();
  const entries = readDirOrNull(dir);
  if (entries === null) return result;
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
  const current = readTextOrNull(path);
  if (current === text) return false;
  if (current === null && ledger.devices.size === 0 && ledgerVfs(ledger).size === 0) return false;
  try {
    Deno.mkdirSync(env.ownersDir, { recursive: true });
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
  } catch (e) {
    // A warning helper of the 1.x commands: it says why it cannot tell, and
    // the command goes on as it would without host files.
    env.stderr(`W: cannot tell whether ${uuid} is managed: ${causeChain(e).join(": ")}\n`);
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

/**
 * Host files, version 1 (hostfile.md §2): the parsed form and its strict
 * validation. Every error is one line `<file>:<line>:<col>: <message>`.
 *
 * Pure: the caller passes the bytes and the `yaml` module (loaded lazily by
 * load.ts), so this file costs nothing to commands that never read YAML.
 * Reading the YAML is yaml_source.ts, typed access to its nodes
 * yaml_reader.ts, pools pools.ts; devices, profiles and the whole file are
 * here.
 */
import type { Attr } from "../config.ts";
import { MdevError } from "../errors.ts";
import { parseUuid } from "../uuid.ts";
import { type PoolSpec, readPool } from "./pools.ts";
import { DEFAULT_NAMESPACE, deviceIdName, uuid5 } from "./uuid5.ts";
import {
  checkDeviceName,
  checkIdent,
  type Entries,
  type Node,
  readAttrs,
  Reader,
  readStart,
  type Where,
} from "./yaml_reader.ts";
import { readYaml, type YamlModule } from "./yaml_source.ts";

export { MAX_COUNT, MAX_PER_PARENT, selectorText } from "./pools.ts";
export type { ParentSelector, PoolSpec, TypeSelector } from "./pools.ts";
export { NAME_PATTERN, type Where } from "./yaml_reader.ts";
export { MAX_DEPTH, MAX_FILE_BYTES } from "./yaml_source.ts";

export interface DeviceSpec {
  uuid: string;
  /** The id the uuid was derived from, when given by id. */
  id: string | undefined;
  parent: string;
  type: string;
  autostart: boolean;
  attrs: Attr[];
  where: Where;
}

export interface HostFile {
  /** The file name as messages show it. */
  file: string;
  owner: string;
  namespace: string;
  devices: DeviceSpec[];
  pools: PoolSpec[];
  /** YAML 1.1 lint lines (without the `W: ` prefix). */
  warnings: string[];
}

interface Defaults {
  autostart: boolean;
}

function readDefaults(r: Reader, node: Node | null, depth: number, base: Defaults): Defaults {
  const m = r.map(node, "defaults", depth);
  r.allowKeys(m, ["start"], "defaults");
  const start = m.get("start");
  return {
    autostart: start ? readStart(r, start.value, "defaults.start", depth + 1) : base.autostart,
  };
}

function readDevice(
  r: Reader,
  node: Node,
  index: number,
  owner: string,
  namespace: string,
  defaults: Defaults,
  depth: number,
): DeviceSpec {
  const label = `devices[${index}]`;
  const m = r.map(node, label, depth);
  r.allowKeys(m, ["uuid", "id", "parent", "type", "start", "attrs"], label);
  const self = r.resolve(node, depth);
  const uuidEntry = m.get("uuid");
  const idEntry = m.get("id");
  if ((uuidEntry === undefined) === (idEntry === undefined)) {
    r.fail(uuidEntry?.key ?? idEntry?.key ?? self, `${label} needs exactly one of "uuid" or "id"`);
  }
  let uuid: string;
  let id: string | undefined;
  if (uuidEntry) {
    const text = r.str(uuidEntry.value, `${label}.uuid`, depth + 1, uuidEntry.key);
    const parsed = parseUuid(text);
    if (parsed === null) {
      r.fail(uuidEntry.value, `${label}.uuid ${JSON.stringify(text)} is not a UUID`);
    }
    uuid = parsed;
  } else {
    id = checkIdent(
      r,
      idEntry!.value,
      `${label}.id`,
      r.str(idEntry!.value, `${label}.id`, depth + 1, idEntry!.key),
    );
    uuid = uuid5(namespace, deviceIdName(owner, id));
  }
  const required = (key: string) => {
    const e = m.get(key);
    if (e === undefined) r.fail(self, `${label} is missing the required key "${key}"`);
    return e;
  };
  const p = required("parent");
  const parent = checkDeviceName(
    r,
    p.value,
    `${label}.parent`,
    r.str(p.value, `${label}.parent`, depth + 1, p.key),
  );
  const t = required("type");
  const type = checkDeviceName(
    r,
    t.value,
    `${label}.type`,
    r.str(t.value, `${label}.type`, depth + 1, t.key),
  );
  const start = m.get("start");
  const attrs = m.get("attrs");
  return {
    uuid,
    id,
    parent,
    type,
    autostart: start ? readStart(r, start.value, `${label}.start`, depth + 1) : defaults.autostart,
    attrs: attrs ? readAttrs(r, attrs.value, `${label}.attrs`, depth + 1) : [],
    where: r.where(self),
  };
}

/** What varies between profiles: devices, pools and defaults. */
function readBody(
  r: Reader,
  m: Entries,
  owner: string,
  namespace: string,
  defaults: Defaults,
  depth: number,
): { devices: DeviceSpec[]; pools: PoolSpec[] } {
  const d = m.get("defaults");
  const defs = d ? readDefaults(r, d.value, depth, defaults) : defaults;
  const devicesEntry = m.get("devices");
  const poolsEntry = m.get("pools");
  const devices = devicesEntry === undefined || devicesEntry.value === null
    ? []
    : r.seq(devicesEntry.value, "devices", depth, devicesEntry.key)
      .map((n, i) => readDevice(r, n, i, owner, namespace, defs, depth + 1));
  const pools = poolsEntry === undefined || poolsEntry.value === null
    ? []
    : r.seq(poolsEntry.value, "pools", depth, poolsEntry.key)
      .map((n, i) => readPool(r, n, i, defs, depth + 1));
  const seen = new Map<string, PoolSpec>();
  for (const pool of pools) {
    const earlier = seen.get(pool.name);
    if (earlier) {
      throw new MdevError(
        `${pool.where}: pool name ${JSON.stringify(pool.name)} is already used at ${earlier.where}`,
      );
    }
    seen.set(pool.name, pool);
  }
  const uuids = new Map<string, DeviceSpec>();
  for (const dev of devices) {
    const earlier = uuids.get(dev.uuid);
    if (earlier) {
      throw new MdevError(
        `${dev.where}: uuid ${dev.uuid} (${origin(dev)}) is also used by ${
          origin(earlier)
        } at ${earlier.where}`,
      );
    }
    uuids.set(dev.uuid, dev);
  }
  return { devices, pools };
}

function origin(dev: DeviceSpec): string {
  return dev.id === undefined ? "explicit uuid" : `id ${dev.id}`;
}

export interface ParseOptions {
  /** `--profile`; a lone profile is chosen without it. */
  profile?: string | undefined;
}

/** The profile's devices, pools and defaults (`--profile`, or the lone one). */
function chooseProfile(
  r: Reader,
  top: Entries,
  profilesEntry: { key: Node; value: Node | null },
  profile: string | undefined,
): { label: string; body: Entries } {
  for (const k of ["devices", "pools"]) {
    const e = top.get(k);
    if (e) r.fail(e.key, `"${k}" belongs inside a profile when the file has "profiles"`);
  }
  const profiles = r.map(profilesEntry.value, "profiles", 1, profilesEntry.key);
  if (profiles.size === 0) {
    r.fail(r.resolve(profilesEntry.value, 1), "profiles must not be empty");
  }
  const names = [...profiles.keys()];
  let chosen = profile;
  if (chosen === undefined) {
    if (names.length > 1) {
      r.fail(
        profilesEntry.key,
        `the file has ${names.length} profiles (${names.join(", ")}): choose one with --profile`,
      );
    }
    chosen = names[0]!;
  }
  const entry = profiles.get(chosen);
  if (entry === undefined) {
    r.fail(
      profilesEntry.key,
      `no profile ${JSON.stringify(chosen)} (profiles: ${names.join(", ")})`,
    );
  }
  const label = `profile ${chosen}`;
  const body: Entries = entry.value === null ? new Map() : r.map(entry.value, label, 2, entry.key);
  r.allowKeys(body, ["devices", "pools", "defaults"], label);
  return { label, body };
}

/** `version: 1`, exactly as written. */
function checkVersion(r: Reader, top: Entries, contents: Node): void {
  const version = top.get("version");
  if (version === undefined) r.fail(contents, 'missing the required key "version" (version: 1)');
  const v = r.resolve(version.value, 1);
  if (v === null || !r.Y.isScalar(v) || v.value !== 1 || r.source(v) !== "1") {
    r.fail(v ?? version.key, `unsupported version ${v ? r.source(v) : "null"} (expected 1)`);
  }
}

/** `uuidNamespace`, or the default one. */
function readNamespace(r: Reader, top: Entries): string {
  const nsEntry = top.get("uuidNamespace");
  if (nsEntry === undefined) return DEFAULT_NAMESPACE;
  const text = r.str(nsEntry.value, "uuidNamespace", 1, nsEntry.key);
  const parsed = parseUuid(text);
  if (parsed === null) r.fail(nsEntry.value, `uuidNamespace ${JSON.stringify(text)} is not a UUID`);
  return parsed;
}

/** Decodes, parses and validates a host file (hostfile.md §2). */
export function parseHostFile(
  Y: YamlModule,
  file: string,
  bytes: Uint8Array,
  options: ParseOptions = {},
): HostFile {
  const src = readYaml(Y, file, bytes);
  const r: Reader = new Reader(Y, src);
  const contents = src.doc.contents as Node | null;
  if (contents === null) r.fail(null, "empty file: expected a mapping with version: 1");
  const top = r.map(contents, "the file", 0);
  r.allowKeys(
    top,
    ["version", "owner", "uuidNamespace", "defaults", "devices", "pools", "profiles"],
    "the file",
  );
  checkVersion(r, top, contents);
  const ownerEntry = top.get("owner");
  const owner = ownerEntry
    ? checkIdent(r, ownerEntry.value, "owner", r.str(ownerEntry.value, "owner", 1, ownerEntry.key))
    : "default";
  const namespace = readNamespace(r, top);
  const defaultsEntry = top.get("defaults");
  const defaults = defaultsEntry
    ? readDefaults(r, defaultsEntry.value, 1, { autostart: true })
    : { autostart: true };
  const profilesEntry = top.get("profiles");
  let body: { devices: DeviceSpec[]; pools: PoolSpec[] };
  if (profilesEntry !== undefined) {
    const chosen = chooseProfile(r, top, profilesEntry, options.profile);
    body = readBody(r, chosen.body, owner, namespace, defaults, 2);
  } else {
    if (options.profile !== undefined) {
      r.fail(contents, `--profile ${options.profile} given, but the file has no profiles`);
    }
    body = readBody(r, top, owner, namespace, defaults, 1);
  }
  return { file, owner, namespace, ...body, warnings: r.warnings };
}

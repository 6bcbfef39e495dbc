/**
 * Name-based UUIDs, version 5 (RFC 9562 §5.5), and the names host files
 * derive device UUIDs from (hostfile.md §4).
 */
import { sha1 } from "./sha.ts";
import { parseUuid } from "../uuid.ts";

/** RFC 9562's namespace for URLs. */
export const NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

/** The default host-file namespace: uuid5(NAMESPACE_URL, "urn:mdevctl:hostfile:v1"). */
export const DEFAULT_NAMESPACE = "5470eb2e-41fc-5439-b571-43fc911882ce";

function uuidBytes(uuid: string): Uint8Array {
  const canonical = parseUuid(uuid);
  if (canonical === null) throw new Error(`not a UUID: ${uuid}`);
  const hex = canonical.replaceAll("-", "");
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** SHA-1 of the namespace bytes and the UTF-8 name, stamped version 5, variant RFC. */
export function uuid5(namespace: string, name: string): string {
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  input.set(uuidBytes(namespace));
  input.set(nameBytes, 16);
  const b = sha1(input).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += HEX[b[i]!]!;
  }
  return out;
}

/** The name of a pool instance: `v1/<owner>/pool/<pool>/<parent>/<type>/<slot>`. */
export function poolInstanceName(
  owner: string,
  pool: string,
  parent: string,
  type: string,
  slot: number,
): string {
  return `v1/${owner}/pool/${pool}/${parent}/${type}/${slot}`;
}

/** The name of an explicit device given by id: `v1/<owner>/device/<id>`. */
export function deviceIdName(owner: string, id: string): string {
  return `v1/${owner}/device/${id}`;
}

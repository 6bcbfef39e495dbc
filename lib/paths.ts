/** Small path helpers (node:path costs start-up time; these are all we need). */

export function basename(path: string): string {
  const trimmed = path.endsWith("/") ? path.replace(/\/+$/, "") : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export function dirname(path: string): string {
  const trimmed = path.endsWith("/") ? path.replace(/\/+$/, "") : path;
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

/** Joins `target` onto `base` and folds `.` and `..` (no filesystem access). */
export function resolvePath(base: string, target: string): string {
  const absolute = target.startsWith("/") || base.startsWith("/");
  const parts: string[] = [];
  for (const part of (target.startsWith("/") ? target : `${base}/${target}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

/**
 * A path rendered as Rust's Debug formatting renders it (mdevctl.md conventions):
 * quoted, with `"`, `\`, tab, newline, CR and other controls escaped.
 */
export function quotePath(path: string): string {
  let out = '"';
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\0") out += "\\0";
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/** The process's stdout and stderr, written in full (a pipe may take a write in parts). */

const encoder = new TextEncoder();

function writeAllSync(target: { writeSync(p: Uint8Array): number }, data: string | Uint8Array) {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

/** Writes text to the process's stdout. */
export function writeStdout(text: string): void {
  if (text !== "") writeAllSync(Deno.stdout, text);
}

/** Writes text or bytes to the process's stderr. */
export function writeStderr(data: string | Uint8Array): void {
  if (data.length > 0) writeAllSync(Deno.stderr, data);
}

/**
 * Writes text to the process's stdout without blocking the event loop (a
 * reader that stops reading holds only this write; `monitor` keeps reading
 * its sources meanwhile).
 */
export async function writeStdoutAsync(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

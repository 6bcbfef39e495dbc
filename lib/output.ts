/** Writing whole buffers to stdout/stderr (a pipe may take a write in parts). */

const encoder = new TextEncoder();

function writeAllSync(target: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

export function writeStdout(text: string): void {
  if (text !== "") writeAllSync(Deno.stdout, text);
}

export function writeStderr(text: string): void {
  if (text !== "") writeAllSync(Deno.stderr, text);
}

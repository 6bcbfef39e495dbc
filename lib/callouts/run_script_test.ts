import { deepEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { feed, runScript, stdinError } from "./run_script.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bash = (body: string, input = "", timeoutMs = 10_000) =>
  runScript("/bin/bash", ["-c", body], enc(input), timeoutMs);

Deno.test("stdin bytes arrive exactly; stdout and stderr are captured apart", async () => {
  const r = await bash("cat; printf err >&2; exit 3", '{"a":"b"}');
  assertEquals([r.code, r.signal, r.timedOut], [3, null, false]);
  assertEquals([dec(r.stdout), dec(r.stderr)], ['{"a":"b"}', "err"]);
});

Deno.test("a script printing >64 KiB on both pipes before reading stdin does not deadlock", async () => {
  const input = "x".repeat(300_000);
  const r = await bash(
    "head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2; wc -c | tr -d ' \\n' >&2",
    input,
  );
  assertEquals(r.code, 0);
  assertEquals(r.stdout.length, 200_000);
  assertEquals(dec(r.stderr.subarray(200_000)), "300000");
});

Deno.test("a script that exits without reading stdin: the broken pipe is ignored", async () => {
  for (let i = 0; i < 20; i++) {
    const r = await bash("exit 1", "y".repeat(1 << 20));
    assertEquals([r.code, r.signal, r.timedOut], [1, null, false]);
  }
});

Deno.test("a signal-killed script has a signal and no code", async () => {
  const r = await bash("printf out; kill -KILL $$", "");
  assertEquals([r.code, r.signal, r.timedOut, dec(r.stdout)], [null, "SIGKILL", false, "out"]);
});

Deno.test("a slow script is killed at the timeout and keeps what it printed", async () => {
  const started = Date.now();
  const r = await bash("printf early; exec sleep 10", "", 1000);
  assertEquals([r.code, r.timedOut, dec(r.stdout)], [null, true, "early"]);
  assertEquals(r.signal, "SIGKILL");
  assertEquals(Date.now() - started < 5000, true);
});

Deno.test({
  name: "a descendant holding the pipes counts as part of the run (timeout)",
  // The orphaned sleep keeps a read pending until it exits; that is the point.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const started = Date.now();
    const r = await bash("sleep 6 & exit 0", "", 1000);
    assertEquals(r.timedOut, true);
    assertEquals(Date.now() - started < 5000, true);
  },
});

Deno.test("timeout 0 waits for the script", async () => {
  const r = await bash("sleep 0.2; exit 4", "", 0);
  assertEquals([r.code, r.timedOut], [4, false]);
});

Deno.test("spawn failures throw", async () => {
  await assertRejects(runScript("/nonexistent/script", [], enc(""), 1000));
  await assertRejects(runScript("/tmp", [], enc(""), 1000));
});

function failingSink(error: Error): WritableStream<Uint8Array> {
  return new WritableStream({
    write() {
      throw error;
    },
  });
}

Deno.test("stdin: a broken pipe is ignored, any other write error is reported", async () => {
  assertEquals(
    await feed(failingSink(new Deno.errors.BrokenPipe("Broken pipe (os error 32)")), enc("x")).done,
    null,
  );
  const other = new Error("Input/output error (os error 5)");
  const error = await feed(failingSink(other), enc("x")).done;
  assertEquals(error, other);
  const wrapped = stdinError(error);
  assertEquals([wrapped.message, wrapped.causes], [
    "Failed to write to stdin of command",
    ["Input/output error (os error 5)"],
  ]);
});

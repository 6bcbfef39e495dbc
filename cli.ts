#!/usr/bin/env -S deno run -A --no-prompt
/** Command-line entry of mdevctl and lsmdev. */
import { main } from "./lib/main.ts";

/**
 * argv[0] as the user typed it. The launcher passes it in MDEVCTL_ARGV0; a
 * compiled binary reads it from /proc (Deno does not expose it).
 */
function argv0(): string {
  const passed = Deno.env.get("MDEVCTL_ARGV0");
  if (passed !== undefined) {
    Deno.env.delete("MDEVCTL_ARGV0");
    return passed;
  }
  try {
    const cmdline = Deno.readFileSync("/proc/self/cmdline");
    const end = cmdline.indexOf(0);
    return new TextDecoder().decode(end < 0 ? cmdline : cmdline.subarray(0, end));
  } catch {
    return "mdevctl";
  }
}

if (import.meta.main) {
  const status = await main(Deno.args, argv0());
  // Deno stores the V8 code cache of the bundle only when the main module
  // returns, and returning costs several milliseconds more than Deno.exit()
  // (bench/analysis.md). So one run returns, asked by tools/warm_code_cache.sh
  // after a build or an install; every other run reads the cache and exits.
  if (Deno.env.get("MDEVCTL_WARM_CODE_CACHE") === "1") Deno.exitCode = status;
  else Deno.exit(status);
}

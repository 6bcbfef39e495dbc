/**
 * What a test needs from the machine, checked once when the test file loads,
 * so a test that cannot run here is registered as `ignore`d with the reason
 * in its name (it never prints "SKIPPED" and passes). CI (`.ci/run`) installs
 * everything these checks look for, so nothing is ignored there.
 */

/** True when `program` is on PATH. */
export function have(program: string): boolean {
  const out = new Deno.Command("sh", {
    args: ["-c", 'command -v "$1" >/dev/null', "sh", program],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return out.code === 0;
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** A reason naming the missing programs (with the Debian package), or undefined. */
export function missing(programs: Record<string, string>): string | undefined {
  const absent = Object.entries(programs).filter(([program]) => !have(program));
  if (absent.length === 0) return undefined;
  return absent.map(([program, pkg]) => `${program} missing (apt-get install ${pkg})`).join(
    ", ",
  );
}

/** "needs root" unless this process is root. */
export function needsRoot(why: string): string | undefined {
  return isRoot() ? undefined : `needs root (${why})`;
}

/** The first reason given, joined with the others; undefined when there is none. */
export function reasons(...all: (string | undefined | false)[]): string | undefined {
  const given = all.filter((r): r is string => typeof r === "string" && r !== "");
  return given.length === 0 ? undefined : given.join("; ");
}

/**
 * `Deno.test` options for a test that needs something: ignored, with the
 * reason appended to its name, when `reason` is set.
 */
export function requiring(
  name: string,
  reason: string | undefined,
  fn: () => Promise<void> | void,
): Deno.TestDefinition {
  return reason === undefined
    ? { name, fn }
    : { name: `${name} (ignored: ${reason})`, ignore: true, fn };
}

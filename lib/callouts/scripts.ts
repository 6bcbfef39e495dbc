/**
 * Finding and running callout and notifier scripts (mdevctl.md §8.2, §8.5,
 * §8.6, §8.8): the directory listings and the versioned script, cached per
 * run; the legacy search; one invocation with its stderr relayed; notifiers.
 * The bracket (bracket.ts), get-attributes (attributes.ts) and live modify
 * (live.ts) are built on these.
 *
 * Every script run is bounded by a timeout: 30 seconds by default, or
 * `MDEVCTL_CALLOUT_TIMEOUT` seconds (decimals allowed, `0` = wait forever as
 * upstream does). A script that times out is killed with SIGKILL; a timed-out
 * or signal-killed callout is a failure (mdevctl.md §0.8).
 */
import type { Attr, MdevDevice } from "../config.ts";
import type { Environment } from "../environment.ts";
import { describeError, MdevError } from "../errors.ts";
import { isAbsent, unreadable } from "../fs_probe.ts";
import { compareBytes } from "../order.ts";
import { basename, quotePath } from "../paths.ts";
import {
  type Action,
  type Capabilities,
  failedStatus,
  type Invocation,
  LEGACY_CAPABILITIES,
  parseAttributesOutput,
  parseCapabilities,
  PROVIDES,
  scriptArgs,
  type State,
  supportError,
  type Target,
  terminatedBySignal,
  timedOut,
} from "./protocol.ts";
import { runScript, type ScriptResult } from "./run_script.ts";

/** The log module of the callout layer (`MDEVCTL_LOG=mdevctl::callouts=debug`). */
export const MODULE = "mdevctl::callouts";

/** A script chosen for a device, with what it handles. */
export interface Selected {
  path: string;
  caps: Capabilities;
}

/**
 * What the callout layer learns in one run, kept in the run's Environment:
 * the directories are read once (list runs very often), each parent/type's
 * versioned script is asked for once.
 */
export interface CalloutCache {
  /** Callout scripts in search order: primary dir, then deprecated; each sorted. */
  callouts: string[];
  /** Notifier scripts in directory order; read when first needed (never for list). */
  notifiers: string[] | null;
  /** Versioned script (or none) per parent and type. */
  versioned: Map<string, Selected | null>;
  /** The warning about an invalid MDEVCTL_CALLOUT_TIMEOUT was given. */
  timeoutWarned: boolean;
}

/**
 * The scripts of a directory: none when it is not there or not a directory;
 * an unreadable one is an error (running none would skip its vetoes).
 */
function listDir(dir: string): string[] {
  try {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(dir)) names.push(`${dir}/${entry.name}`);
    return names;
  } catch (e) {
    if (isAbsent(e) || e instanceof Deno.errors.NotADirectory) return [];
    throw unreadable(dir, e);
  }
}

/** The run's cache, made on first use (only this module reads or writes the slot). */
function cache(env: Environment): CalloutCache {
  if (env.calloutCache === undefined) {
    const callouts: string[] = [];
    for (const dir of env.calloutDirs) callouts.push(...listDir(dir).sort(compareBytes));
    const made: CalloutCache = {
      callouts,
      notifiers: null,
      versioned: new Map(),
      timeoutWarned: false,
    };
    env.calloutCache = made;
  }
  return env.calloutCache as CalloutCache;
}

function notifierScripts(env: Environment): string[] {
  const state = cache(env);
  state.notifiers ??= env.notifierDirs.flatMap(listDir);
  return state.notifiers;
}

/**
 * The limit on one script run (see top); an invalid MDEVCTL_CALLOUT_TIMEOUT
 * is warned about once, when the first script runs.
 */
function timeoutMs(env: Environment): number {
  const state = cache(env);
  if (env.calloutTimeoutWarning !== undefined && !state.timeoutWarned) {
    state.timeoutWarned = true;
    env.logger.warn(env.calloutTimeoutWarning, MODULE);
  }
  return env.calloutTimeoutMs;
}

export function targetOf(device: MdevDevice): Target {
  return { uuid: device.uuid, parent: device.parent, type: device.type };
}

const encoder = new TextEncoder();

/** Runs one script; throws when it cannot be run at all ("spawn failure"). */
async function invoke(
  env: Environment,
  path: string,
  target: Target,
  inv: Invocation,
): Promise<ScriptResult> {
  const args = scriptArgs(target, inv);
  if (args === null) {
    throw new MdevError(
      target.type === undefined
        ? `Device ${target.uuid} is missing a mdev_type`
        : `Device ${target.uuid} is missing a parent`,
    );
  }
  env.logger.debug(`Running ${quotePath(path)} ${args.join(" ")}`, MODULE);
  const result = await runScript(path, args, encoder.encode(inv.stdin), timeoutMs(env));
  env.logger.debug(
    `${quotePath(path)} ${inv.event}/${inv.action}: ${
      result.timedOut
        ? "timed out"
        : result.signal !== null
        ? `killed by ${result.signal}`
        : `exit status ${result.code}`
    }`,
    MODULE,
  );
  return result;
}

/** Copies a used script's stderr to ours as `<file name>: <bytes>` (mdevctl.md §8.2). */
function relayStderr(env: Environment, path: string, result: ScriptResult): void {
  if (result.stderr.length === 0) return;
  const prefix = encoder.encode(`${basename(path)}: `);
  const bytes = new Uint8Array(prefix.length + result.stderr.length);
  bytes.set(prefix);
  bytes.set(result.stderr, prefix.length);
  try {
    env.stderr(bytes);
  } catch {
    // our stderr is gone (closed pipe): nothing left to tell
  }
}

/** The failure of a finished run, or null when it exited 0. */
function runFailure(env: Environment, path: string, result: ScriptResult): MdevError | null {
  if (result.timedOut) {
    return new MdevError(timedOut(path, timeoutMs(env)), [
      "The script was killed. MDEVCTL_CALLOUT_TIMEOUT sets the limit in seconds (0: none).",
    ]);
  }
  if (result.signal !== null) {
    return new MdevError(failedStatus(path, "unknown"), [`terminated by signal ${result.signal}`]);
  }
  return result.code === 0 ? null : new MdevError(failedStatus(path, result.code ?? "unknown"));
}

/**
 * The versioned script for the device's parent and type (mdevctl.md §8.5), asked
 * once per process: the first script, in search order, whose answer to the
 * capabilities query parses (whatever its exit code other than 2).
 */
export async function findVersioned(env: Environment, target: Target): Promise<Selected | null> {
  const state = cache(env);
  const key = `${target.parent}\0${target.type}`;
  if (state.versioned.has(key)) return state.versioned.get(key) ?? null;
  let found: Selected | null = null;
  for (const path of state.callouts) {
    let result: ScriptResult;
    try {
      result = await invoke(env, path, target, {
        event: "get",
        action: "capabilities",
        state: "none",
        stdin: PROVIDES,
      });
    } catch (e) {
      env.logger.debug(`Skipping ${quotePath(path)}: ${describeError(e)}`, MODULE);
      continue;
    }
    if (result.timedOut) {
      env.logger.warn(timedOut(path, timeoutMs(env)), MODULE);
      continue;
    }
    if (result.signal !== null) {
      env.logger.warn(terminatedBySignal(path), MODULE);
      continue;
    }
    if (result.code === 2) continue;
    const parsed = parseCapabilities(path, result.stdout);
    if (parsed === null) continue;
    for (const line of parsed.warnings) env.logger.warn(line, MODULE);
    relayStderr(env, path, result);
    found = { path, caps: parsed.caps };
    break;
  }
  state.versioned.set(key, found);
  return found;
}

/** What a legacy search ended with (mdevctl.md §8.5). */
interface LegacyMatch {
  /** The claiming script; null when none claimed the device. */
  path: string | null;
  stdout: Uint8Array;
  error: MdevError | null;
}

/**
 * Runs the legacy scripts in order until one claims the device (any exit but
 * 2). A killed or timed-out script claims it and fails (mdevctl.md §0.8).
 */
async function legacySearch(
  env: Environment,
  target: Target,
  inv: Invocation,
): Promise<LegacyMatch> {
  for (const path of cache(env).callouts) {
    let result: ScriptResult;
    try {
      result = await invoke(env, path, target, inv);
    } catch (e) {
      env.logger.debug(`Skipping ${quotePath(path)}: ${describeError(e)}`, MODULE);
      continue;
    }
    if (result.code === 2) continue;
    relayStderr(env, path, result);
    return { path, stdout: result.stdout, error: runFailure(env, path, result) };
  }
  return { path: null, stdout: new Uint8Array(), error: null };
}

/** Runs the selected script after its support check; returns its stdout. */
export async function runSelected(
  env: Environment,
  script: Selected,
  target: Target,
  inv: Invocation,
  exitError: (code: number) => MdevError | null = () => null,
): Promise<Uint8Array> {
  const unsupported = supportError(script.path, script.caps, inv);
  if (unsupported) throw unsupported;
  let result: ScriptResult;
  try {
    result = await invoke(env, script.path, target, inv);
  } catch (e) {
    throw e instanceof MdevError ? e : new MdevError(describeError(e));
  }
  relayStderr(env, script.path, result);
  const special = result.code !== null && result.code !== 0 ? exitError(result.code) : null;
  const failure = special ?? runFailure(env, script.path, result);
  if (failure) throw failure;
  return result.stdout;
}

/**
 * One callout step: the versioned script when there is one, else a legacy
 * search. Returns the script to remember for the rest of the bracket.
 */
export async function callout(
  env: Environment,
  versioned: Selected | null,
  target: Target,
  inv: Invocation,
): Promise<{ script: Selected | null; stdout: Uint8Array }> {
  if (versioned) {
    return { script: versioned, stdout: await runSelected(env, versioned, target, inv) };
  }
  const match = await legacySearch(env, target, inv);
  if (match.error) throw match.error;
  const script = match.path === null ? null : { path: match.path, caps: LEGACY_CAPABILITIES };
  return { script, stdout: match.stdout };
}

/** Get-attributes (mdevctl.md §8.6) and the script it selected. */
export async function queryAttributes(
  env: Environment,
  target: Target,
): Promise<{ attrs: Attr[]; script: Selected | null }> {
  const versioned = await findVersioned(env, target);
  const { script, stdout } = await callout(env, versioned, target, {
    event: "get",
    action: "attributes",
    state: "none",
    stdin: "",
  });
  if (script === null) return { attrs: [], script };
  return { attrs: parseAttributesOutput(stdout), script };
}

/** True when either callout dir holds anything to run. */
export function haveCallouts(env: Environment): boolean {
  return cache(env).callouts.length > 0;
}

/** Runs every notifier (mdevctl.md §8.8); their outcome is only logged. */
export async function notify(env: Environment, target: Target, action: Action, state: State) {
  for (const path of notifierScripts(env)) {
    try {
      const result = await invoke(env, path, target, { event: "notify", action, state, stdin: "" });
      const failure = runFailure(env, path, result);
      if (failure) env.logger.debug(`Ignoring notifier failure: ${failure.message}`, MODULE);
    } catch (e) {
      env.logger.debug(`Notifier ${quotePath(path)} not run: ${describeError(e)}`, MODULE);
    }
  }
}

export function asMdevError(e: unknown): MdevError {
  return e instanceof MdevError ? e : new MdevError(describeError(e));
}

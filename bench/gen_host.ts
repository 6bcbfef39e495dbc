/**
 * The fake hosts of the benchmarks (bench/README.md), built by the builder of
 * the tests (tests/helpers/fake_host.ts) with relative links, as the kernel's:
 * the host is shown at /sys, /etc/mdevctl.d and /usr/lib/mdevctl by
 * tests/helpers/host_ns.sh, and the sandboxed launcher reaches sysfs through a
 * bind of it elsewhere (docs/sandbox.md), where an absolute `/sys/...` target
 * would leave that view.
 *
 *   deno run -A bench/gen_host.ts --out DIR --shape PxAxD [--types T]
 *        [--auto-running R] [--auto-inactive I] [--callouts] [--seed S] [--force]
 *
 * Per parent (`sys/devices/pci0000:00/<parent>`, PCI-like names): T types with
 * `available_instances`, `device_api`, `name`, `description` and `create`; A
 * active devices, the first floor(A/2) (at most D) of them also defined with
 * the same type, so `list` prints "(defined)" and `list -d` "(active)" for
 * some lines; the rest of the D definitions not running. Start modes: the
 * first R active-and-defined devices are `auto` (start-parent-mdevs finds
 * them running), the first I defined-only ones too (start-parent-mdevs writes
 * their uuid to the fake `create` file, a plain file, so the tree does not
 * change); all others `manual`. Uuids come from a seeded generator: the same
 * parameters give the same tree. Also empty `sys/fs/cgroup` and
 * `sys/devices/system/cpu` (host_ns.sh binds the real ones there) and 1.2.0's
 * script directories under etc/mdevctl.d.
 *
 * The tree is built in DIR.tmp and renamed to DIR; DIR/.bench-host.json
 * records the parameters, and a DIR with the same parameters is reused unless
 * --force.
 */
import {
  type ActiveSpec,
  buildHost,
  type DefinedSpec,
  type HostSpec,
  type ParentSpec,
} from "../tests/helpers/fake_host.ts";
import { seededRandom } from "../tests/helpers/random.ts";

/** What a fake host is made of. */
export interface HostParams {
  parents: number;
  active: number;
  defined: number;
  types: number;
  autoRunning: number;
  autoInactive: number;
  callouts: boolean;
  seed: number;
  /** Tree layout version: 4 is the first built by tests/helpers/fake_host.ts. */
  layout: number;
}

/** The stamp a generated host carries at `.bench-host.json`. */
export interface HostStamp {
  params: HostParams;
  active: number;
  defined: number;
  firstParent: string;
}

/** The default parameters (the small host). */
export const DEFAULT_PARAMS: HostParams = {
  parents: 2,
  active: 4,
  defined: 4,
  types: 4,
  autoRunning: 8,
  autoInactive: 0,
  callouts: false,
  seed: 1,
  layout: 4,
};

/** `PARENTSxACTIVExDEFINED` as numbers, or null when `text` is not one. */
export function parseShape(
  text: string,
): Pick<HostParams, "parents" | "active" | "defined"> | null {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(text);
  return m ? { parents: Number(m[1]), active: Number(m[2]), defined: Number(m[3]) } : null;
}

/** The i-th parent's name: 0000:01:00.0, 0000:02:00.0, … 0000:ff:00.0, 0001:00:00.0, … */
export function parentName(i: number): string {
  const n = i + 1;
  const hex = (v: number, width: number) => v.toString(16).padStart(width, "0");
  return `${hex(Math.floor(n / 256), 4)}:${hex(n % 256, 2)}:00.0`;
}

function typeName(t: number): string {
  return `nvidia-${256 + t}`;
}

/** Distinct version-4 uuids from a seeded generator. */
function uuidFactory(seed: number): () => string {
  const random = seededRandom(seed);
  const word = () => Math.floor(random() * 2 ** 32);
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
  const seen = new Set<string>();
  return () => {
    for (;;) {
      const h = hex(word()) + hex((word() & 0xffff0fff) | 0x4000) +
        hex((word() & 0x3fffffff) | 0x80000000) + hex(word());
      const u = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
        h.slice(20)
      }`;
      if (!seen.has(u)) {
        seen.add(u);
        return u;
      }
    }
  };
}

const CALLOUT = `#!/bin/sh
# bench callout: answers get/attributes with no attributes, ignores everything else.
while [ $# -gt 0 ]; do
  case "$1" in
    -e) ev="$2"; shift 2 ;;
    -a) act="$2"; shift 2 ;;
    *) shift ;;
  esac
done
if [ "$ev" = get ] && [ "$act" = attributes ]; then printf '[]'; fi
exit 0
`;

/** The host of `p` as the test builder's declarative spec. */
export function hostSpec(p: HostParams): HostSpec {
  const newUuid = uuidFactory(p.seed);
  const overlap = Math.min(Math.floor(p.active / 2), p.defined);
  const parents: ParentSpec[] = [];
  const active: ActiveSpec[] = [];
  const defined: DefinedSpec[] = [];
  const config = (type: string, auto: boolean) => ({
    mdev_type: type,
    start: auto ? "auto" : "manual",
    attrs: [],
  });
  for (let pi = 0; pi < p.parents; pi++) {
    const parent = parentName(pi);
    const types: ParentSpec["types"] = {};
    for (let t = 0; t < p.types; t++) {
      types[typeName(t)] = {
        available: Math.max(0, 16 - t * 4),
        deviceApi: "vfio-pci",
        name: `GRID M10-${1 << t}B\n`,
        description: `num_heads=4, frl_config=45, framebuffer=${1024 << t}M, ` +
          `max_resolution=5120x2880, max_instance=${16 >> t}\n`,
      };
    }
    parents.push({ name: parent, types, files: { vendor: "0x10de\n", device: "0x13bd\n" } });
    for (let i = 0; i < p.active; i++) {
      const uuid = newUuid();
      const type = typeName(i % p.types);
      active.push({ uuid, parent, type });
      if (i < overlap) defined.push({ parent, uuid, config: config(type, i < p.autoRunning) });
    }
    for (let i = 0; i < p.defined - overlap; i++) {
      const type = typeName(i % p.types);
      defined.push({ parent, uuid: newUuid(), config: config(type, i < p.autoInactive) });
    }
  }
  const scripts = p.callouts
    ? (["callouts", "deprecated-callouts"] as const).map((where) => ({
      name: "bench-callout",
      where,
      body: CALLOUT,
    }))
    : [];
  return { parents, active, defined, scripts, deprecatedScriptDirs: true };
}

function sameParams(a: unknown, b: HostParams): boolean {
  if (typeof a !== "object" || a === null) return false;
  const o = a as Record<string, unknown>;
  return (Object.keys(b) as (keyof HostParams)[]).every((k) => o[k] === b[k]);
}

/**
 * Makes sure `out` holds the host of `params` (built anew unless a host with
 * the same parameters is there and `force` is not set); its stamp.
 */
export async function ensureHost(
  out: string,
  params: HostParams,
  force = false,
): Promise<HostStamp> {
  const stampFile = `${out}/.bench-host.json`;
  if (!force) {
    try {
      const old = JSON.parse(Deno.readTextFileSync(stampFile)) as HostStamp;
      if (sameParams(old.params, params)) {
        console.error(`gen_host: reusing ${out} (${old.active} active, ${old.defined} defined)`);
        return old;
      }
    } catch {
      // no usable stamp: (re)generate
    }
  }
  const tmp = `${out}.tmp`;
  for (const d of [tmp, out]) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const t0 = performance.now();
  const spec = hostSpec(params);
  await buildHost(tmp, spec, { relativeLinks: true });
  for (const d of ["sys/fs/cgroup", "sys/devices/system/cpu"]) {
    Deno.mkdirSync(`${tmp}/${d}`, { recursive: true });
  }
  const stamp: HostStamp = {
    params,
    active: spec.active!.length,
    defined: spec.defined!.length,
    firstParent: parentName(0),
  };
  Deno.writeTextFileSync(`${tmp}/.bench-host.json`, JSON.stringify(stamp, null, 2) + "\n");
  Deno.renameSync(tmp, out);
  console.error(
    `gen_host: ${out}: ${params.parents} parents, ${stamp.active} active, ${stamp.defined} ` +
      `defined (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return stamp;
}

function usage(message?: string): never {
  if (message) console.error(`gen_host: ${message}`);
  console.error(
    "usage: gen_host.ts --out DIR --shape PxAxD [--types T] [--auto-running R]\n" +
      "                   [--auto-inactive I] [--callouts] [--seed S] [--force]",
  );
  Deno.exit(2);
}

/** The command line's output directory, parameters and --force. */
export function parseArgs(argv: readonly string[]): {
  out: string;
  force: boolean;
  params: HostParams;
} {
  const params = { ...DEFAULT_PARAMS };
  let out = "";
  let force = false;
  const count = (name: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer`);
    return Number(v);
  };
  const counts = {
    "--types": "types",
    "--auto-running": "autoRunning",
    "--auto-inactive": "autoInactive",
    "--seed": "seed",
  } as const;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--out") out = argv[++i] ?? usage("--out needs a value");
    else if (a === "--shape") {
      Object.assign(
        params,
        parseShape(argv[++i] ?? "") ?? usage("--shape wants PxAxD, e.g. 64x256x512"),
      );
    } else if (a in counts) params[counts[a as keyof typeof counts]] = count(a, argv[++i]);
    else if (a === "--callouts") params.callouts = true;
    else if (a === "--force") force = true;
    else usage(`unknown argument '${a}'`);
  }
  if (!out) usage("--out is required");
  if (params.types < 1) usage("--types must be at least 1");
  if (params.parents > 65535) usage("at most 65535 parents");
  return { out, force, params };
}

if (import.meta.main) {
  const { out, force, params } = parseArgs(Deno.args);
  await ensureHost(out, params, force);
}

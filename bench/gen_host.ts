// Generator of fake mdev hosts for the benchmarks (bench/README.md).
//
//   deno run -A bench/gen_host.ts --out DIR --parents P --active A --defined D
//        [--types T] [--auto-running R] [--auto-inactive I] [--callouts]
//        [--seed S] [--force]
//
// Layout (relative to DIR; the tree is bind-mounted over /sys, /etc/mdevctl.d and
// /usr/lib/mdevctl in a private mount namespace). Every symlink is relative, as the
// kernel's are: the sandboxed launcher reaches sysfs through a bind mount of it elsewhere
// (docs/sandbox.md), and an absolute "/sys/..." target would leave that view.
//
//   sys/devices/pci0000:00/<parent>/                       parent device (real dir)
//   sys/devices/pci0000:00/<parent>/mdev_supported_types/<type>/
//       {available_instances,device_api,name,description,create}
//   sys/devices/pci0000:00/<parent>/mdev_supported_types/<type>/devices/<uuid>
//                                 -> the device (the kernel links each device there too)
//   sys/devices/pci0000:00/<parent>/<uuid>/{mdev_type -> type dir, remove}
//   sys/class/mdev_bus/<parent>   -> ../../devices/pci0000:00/<parent>
//   sys/bus/mdev/devices/<uuid>   -> ../../../devices/pci0000:00/<parent>/<uuid>
//   sys/fs/cgroup, sys/devices/system/cpu                  empty mount points (bench/ns.sh)
//   etc/mdevctl.d/<parent>/<uuid>                           definitions (JSON, no final \n)
//   etc/mdevctl.d/scripts.d/{callouts,notifiers}
//   usr/lib/mdevctl/scripts.d/{callouts,notifiers}
//   .ns/                                                    scratch mount point (tmpfs)
//
// Per parent: A active devices and D definitions; half of the active devices (floor(A/2),
// at most D) are also defined with the same type, so both "(defined)" and "(active)" are
// printed. Start modes: the first R of those active+defined devices are "auto" (already
// running: start-parent-mdevs finds them running and has nothing to create), the first
// I defined-only devices are "auto" too (start-parent-mdevs writes their uuid to the fake
// `create` file, which is a plain file, so the tree does not change), the rest "manual".
// UUIDs come from a seeded PRNG: the same parameters always give the same tree.
//
// The tree is built in DIR.tmp and renamed to DIR; DIR/.bench-host.json records the
// parameters, and an existing DIR with the same parameters is reused unless --force.

interface Params {
  parents: number;
  active: number;
  defined: number;
  types: number;
  autoRunning: number;
  autoInactive: number;
  callouts: boolean;
  seed: number;
  /** Tree layout version: 2 adds the kernel's <type>/devices/<uuid> links, 3 makes links relative. */
  layout: number;
}

function usage(msg?: string): never {
  if (msg) console.error(`gen_host: ${msg}`);
  console.error(
    "usage: gen_host.ts --out DIR --parents P --active A --defined D [--types T]\n" +
      "                   [--auto-running R] [--auto-inactive I] [--callouts] [--seed S] [--force]\n" +
      "       gen_host.ts --out DIR --shape PxAxD [...]",
  );
  Deno.exit(2);
}

function parseArgs(argv: string[]): { out: string; force: boolean; params: Params } {
  let out = "";
  let force = false;
  const p: Params = {
    parents: 2,
    active: 4,
    defined: 4,
    types: 4,
    autoRunning: 8,
    autoInactive: 0,
    callouts: false,
    seed: 1,
    layout: 3,
  };
  const num = (name: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case "--out":
        out = argv[++i] ?? usage("--out needs a value");
        break;
      case "--shape": {
        const m = /^(\d+)x(\d+)x(\d+)$/.exec(argv[++i] ?? "");
        if (!m) usage("--shape wants PARENTSxACTIVExDEFINED, e.g. 64x256x512");
        p.parents = Number(m[1]);
        p.active = Number(m[2]);
        p.defined = Number(m[3]);
        break;
      }
      case "--parents":
        p.parents = num(a, argv[++i]);
        break;
      case "--active":
        p.active = num(a, argv[++i]);
        break;
      case "--defined":
        p.defined = num(a, argv[++i]);
        break;
      case "--types":
        p.types = num(a, argv[++i]);
        break;
      case "--auto-running":
        p.autoRunning = num(a, argv[++i]);
        break;
      case "--auto-inactive":
        p.autoInactive = num(a, argv[++i]);
        break;
      case "--seed":
        p.seed = num(a, argv[++i]);
        break;
      case "--callouts":
        p.callouts = true;
        break;
      case "--force":
        force = true;
        break;
      case "-h":
      case "--help":
        usage();
        break;
      default:
        usage(`unknown argument '${a}'`);
    }
  }
  if (!out) usage("--out is required");
  if (p.types < 1) usage("--types must be at least 1");
  if (p.parents > 65536) usage("at most 65536 parents");
  return { out, force, params: p };
}

// xorshift128+ style PRNG on 32-bit lanes (xoshiro128**), seeded by splitmix32.
function makeRng(seed: number): () => number {
  let x = seed >>> 0;
  const split = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
}
function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}

function makeUuidFactory(seed: number): () => string {
  const rng = makeRng(seed);
  const seen = new Set<string>();
  const hex = (v: number) => v.toString(16).padStart(8, "0");
  return () => {
    for (;;) {
      const w0 = rng(), w1 = rng(), w2 = rng(), w3 = rng();
      const w1v = ((w1 & 0xffff0fff) | 0x00004000) >>> 0; // version 4
      const w2v = ((w2 & 0x3fffffff) | 0x80000000) >>> 0; // RFC 4122 variant
      const h = hex(w0) + hex(w1v) + hex(w2v) + hex(w3);
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

function parentName(i: number): string {
  // 0000:01:00.0, 0000:02:00.0, ... 0000:ff:00.0, then 0001:00:00.0 ...
  const n = i + 1;
  const domain = Math.floor(n / 256);
  const bus = n % 256;
  return `${domain.toString(16).padStart(4, "0")}:${bus.toString(16).padStart(2, "0")}:00.0`;
}

function typeName(t: number): string {
  return `nvidia-${256 + t}`;
}

function configJson(type: string, start: "auto" | "manual"): string {
  return `{\n  "mdev_type": "${type}",\n  "start": "${start}",\n  "attrs": []\n}`;
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

/**
 * Links DIR/LINK to DIR/TARGET (both relative to DIR) with a relative target,
 * as sysfs does.
 */
function link(dir: string, target: string, linkPath: string): void {
  const from = linkPath.split("/").slice(0, -1);
  const to = target.split("/");
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  const up = from.slice(common).map(() => "..");
  Deno.symlinkSync([...up, ...to.slice(common)].join("/"), `${dir}/${linkPath}`);
}

function generate(dir: string, p: Params): { active: number; defined: number } {
  const enc = new TextEncoder();
  const write = (path: string, text: string) => Deno.writeFileSync(path, enc.encode(text));
  const mk = (path: string) => Deno.mkdirSync(path, { recursive: true });

  const pciRel = "sys/devices/pci0000:00";
  mk(`${dir}/${pciRel}`);
  mk(`${dir}/sys/class/mdev_bus`);
  mk(`${dir}/sys/bus/mdev/devices`);
  mk(`${dir}/sys/fs/cgroup`);
  mk(`${dir}/sys/devices/system/cpu`);
  mk(`${dir}/etc/mdevctl.d/scripts.d/callouts`);
  mk(`${dir}/etc/mdevctl.d/scripts.d/notifiers`);
  mk(`${dir}/usr/lib/mdevctl/scripts.d/callouts`);
  mk(`${dir}/usr/lib/mdevctl/scripts.d/notifiers`);
  mk(`${dir}/.ns`);
  if (p.callouts) {
    for (const d of ["usr/lib/mdevctl", "etc/mdevctl.d"]) {
      const f = `${dir}/${d}/scripts.d/callouts/bench-callout`;
      write(f, CALLOUT);
      Deno.chmodSync(f, 0o755);
    }
  }

  const newUuid = makeUuidFactory(p.seed);
  const overlap = Math.min(Math.floor(p.active / 2), p.defined);
  let nActive = 0, nDefined = 0;

  for (let pi = 0; pi < p.parents; pi++) {
    const parent = parentName(pi);
    const pdirRel = `${pciRel}/${parent}`;
    const pdir = `${dir}/${pdirRel}`;
    mk(`${pdir}/mdev_supported_types`);
    write(`${pdir}/vendor`, "0x10de\n");
    write(`${pdir}/device`, "0x13bd\n");
    link(dir, pdirRel, `sys/class/mdev_bus/${parent}`);
    for (let t = 0; t < p.types; t++) {
      const td = `${pdir}/mdev_supported_types/${typeName(t)}`;
      mk(td);
      write(`${td}/available_instances`, `${Math.max(0, 16 - t * 4)}\n`);
      write(`${td}/device_api`, "vfio-pci\n");
      write(`${td}/name`, `GRID M10-${1 << t}B\n`);
      write(
        `${td}/description`,
        `num_heads=4, frl_config=45, framebuffer=${
          1024 << t
        }M, max_resolution=5120x2880, max_instance=${16 >> t}\n`,
      );
      write(`${td}/create`, "");
      mk(`${td}/devices`);
    }
    const cfgDir = `${dir}/etc/mdevctl.d/${parent}`;
    if (p.defined > 0) mk(cfgDir);

    // Active devices; the first `overlap` of them are also defined.
    for (let i = 0; i < p.active; i++) {
      const uuid = newUuid();
      const type = typeName(i % p.types);
      const ddRel = `${pdirRel}/${uuid}`;
      mk(`${dir}/${ddRel}`);
      link(dir, `${pdirRel}/mdev_supported_types/${type}`, `${ddRel}/mdev_type`);
      write(`${dir}/${ddRel}/remove`, "");
      link(dir, ddRel, `sys/bus/mdev/devices/${uuid}`);
      link(dir, ddRel, `${pdirRel}/mdev_supported_types/${type}/devices/${uuid}`);
      nActive++;
      if (i < overlap) {
        write(`${cfgDir}/${uuid}`, configJson(type, i < p.autoRunning ? "auto" : "manual"));
        nDefined++;
      }
    }
    // Definitions of devices that are not running.
    for (let i = 0; i < p.defined - overlap; i++) {
      const uuid = newUuid();
      const type = typeName(i % p.types);
      write(`${cfgDir}/${uuid}`, configJson(type, i < p.autoInactive ? "auto" : "manual"));
      nDefined++;
    }
  }
  return { active: nActive, defined: nDefined };
}

function sameParams(a: unknown, b: Params): boolean {
  if (typeof a !== "object" || a === null) return false;
  const o = a as Record<string, unknown>;
  return (Object.keys(b) as (keyof Params)[]).every((k) => o[k] === b[k]);
}

function main() {
  const { out, force, params } = parseArgs(Deno.args);
  const stamp = `${out}/.bench-host.json`;
  if (!force) {
    try {
      const old = JSON.parse(Deno.readTextFileSync(stamp));
      if (sameParams(old.params, params)) {
        console.error(`gen_host: reusing ${out} (${old.active} active, ${old.defined} defined)`);
        return;
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
  const counts = generate(tmp, params);
  Deno.writeTextFileSync(
    `${tmp}/.bench-host.json`,
    JSON.stringify({ params, ...counts, firstParent: parentName(0) }, null, 2) + "\n",
  );
  Deno.renameSync(tmp, out);
  console.error(
    `gen_host: ${out}: ${params.parents} parents, ${counts.active} active, ${counts.defined} defined ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

main();

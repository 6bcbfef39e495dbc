// Fake host description and builder for the compatibility suite.
//
// A host is built under a directory H with the layout it will have once the
// namespace runner (ns.sh) bind-mounts it:  H/sys -> /sys,
// H/etc/mdevctl.d -> /etc/mdevctl.d, H/usr/lib/mdevctl -> /usr/lib/mdevctl.
// Symlinks under sys/ are relative, as the kernel makes them
// (../../devices/...); our sandboxed launcher reaches sysfs through a bind
// of /sys elsewhere (docs/sandbox.md), where an absolute link would lead
// back to /sys, which Deno refuses.  H/in holds input files (jsonfiles),
// H/out the captured results, H/calls.log the callout/notifier log.

/** The text of a relative link at `link` to `target` (both absolute). */
function relative(target: string, link: string): string {
  const from = link.split("/").slice(1, -1);
  const to = target.split("/").slice(1);
  let common = 0;
  while (common < from.length && from[common] === to[common]) common++;
  return "../".repeat(from.length - common) + to.slice(common).join("/");
}

export interface TypeSpec {
  name: string;
  /** content of available_instances (a trailing "\n" is added) */
  available?: string;
  api?: string;
  /** null: no `name` file */
  label?: string | null;
  /** null: no `description` file; "\n" inside is kept */
  description?: string | null;
  /** `create` is a directory, so writing it fails (EISDIR) */
  createIsDir?: boolean;
}

export interface ParentSpec {
  name: string;
  /** real device dir under /sys/devices (default `pci0000:00/<name>`) */
  dev?: string;
  /** undefined or []: mdev_supported_types exists with those types */
  types?: TypeSpec[];
}

export interface ActiveSpec {
  uuid: string;
  parent: string;
  type: string;
  /** extra (attribute) files in the device dir, created empty */
  attrFiles?: string[];
  /** no mdev_type link (a half-created device) */
  noTypeLink?: boolean;
  /** attribute names created as directories (writing them fails) */
  attrDirs?: string[];
  /** `remove` is a directory, so writing it fails (EISDIR) */
  removeIsDir?: boolean;
}

export interface DefinedSpec {
  parent: string;
  /** the file name, normally the uuid */
  uuid: string;
  /** an object is written as pretty JSON (no trailing newline); a string raw */
  json: unknown;
}

/** A callout script.  It logs pre/post events (with stdin) to the call log,
 * answers the capabilities query with 2 (legacy script), and exits:
 *   2 for types not in `types` (when given), else `pre`/`post` (default 0).
 * For get/attributes it prints `attrs` (exit 0) or exits 2 when unset. */
export interface CalloutSpec {
  name: string;
  dir?: "etc" | "usrlib";
  pre?: number;
  post?: number;
  types?: string[];
  attrs?: string;
}

export interface NotifierSpec {
  name: string;
  dir?: "etc" | "usrlib";
}

export interface HostSpec {
  parents?: ParentSpec[];
  active?: ActiveSpec[];
  defined?: DefinedSpec[];
  callouts?: CalloutSpec[];
  notifiers?: NotifierSpec[];
  /** input files under H/in, referenced in commands as @IN/<name> */
  inputs?: Record<string, string>;
  /** no /etc/mdevctl.d/scripts.d (1.2.0's start-up self-check fails) */
  noScriptsDir?: boolean;
}

export const DEFAULT_TYPE: Required<Omit<TypeSpec, "name">> = {
  available: "1",
  api: "vfio-pci",
  label: null,
  description: null,
  createIsDir: false,
};

function devPath(p: ParentSpec): string {
  return `/sys/devices/${p.dev ?? `pci0000:00/${p.name}`}`;
}

async function writeFile(path: string, content: string, mode = 0o644): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, content, { mode });
  await Deno.chmod(path, mode);
}

export function calloutScript(c: CalloutSpec, kind: "callout" | "notifier"): string {
  const types = (c.types ?? []).join(" ");
  const lines = [
    "#!/bin/sh",
    "# test script of the mdevctl compatibility suite",
    'while [ $# -gt 1 ]; do case "$1" in',
    "  -t) t=$2;; -e) e=$2;; -a) a=$2;; -s) s=$2;; -u) u=$2;; -p) p=$2;;",
    "esac; shift 2; done",
  ];
  if (kind === "notifier") {
    lines.push(
      "cat >/dev/null",
      `echo "${c.name}: $e $a $s $t $p $u" >> "$MDEVCTL_COMPAT_LOG"`,
      "exit 0",
    );
    return lines.join("\n") + "\n";
  }
  if (types) {
    lines.push(`case " ${types} " in *" $t "*) ;; *) cat >/dev/null; exit 2;; esac`);
  }
  lines.push(
    'case "$e" in',
    "  pre|post)",
    "    in=$(cat)",
    `    echo "${c.name}: $e $a $s $t $p $u $in" >> "$MDEVCTL_COMPAT_LOG"`,
    `    if [ "$e" = pre ]; then exit ${c.pre ?? 0}; else exit ${c.post ?? 0}; fi;;`,
    "  get)",
    "    cat >/dev/null",
    c.attrs !== undefined
      ? `    if [ "$a" = attributes ]; then printf '%s' '${
        c.attrs.replaceAll("'", "'\\''")
      }'; exit 0; fi; exit 2;;`
      : "    exit 2;;",
    "  *) cat >/dev/null; exit 0;;",
    "esac",
  );
  return lines.join("\n") + "\n";
}

/** Builds the host under `h`.  `debianSide` applies the callout-dirs mapping
 * (scripts meant for /usr/lib/mdevctl go to /etc/mdevctl.d/scripts.d). */
export async function buildHost(h: string, spec: HostSpec, debianSide: boolean): Promise<void> {
  const mk = (p: string) => Deno.mkdir(`${h}/${p}`, { recursive: true, mode: 0o755 });
  for (
    const d of [
      "sys/class/mdev_bus",
      "sys/bus/mdev/devices",
      "sys/devices",
      "etc/mdevctl.d",
      ...(spec.noScriptsDir
        ? []
        : ["etc/mdevctl.d/scripts.d/callouts", "etc/mdevctl.d/scripts.d/notifiers"]),
      "usr/lib/mdevctl/scripts.d/callouts",
      "usr/lib/mdevctl/scripts.d/notifiers",
      "run/lock",
      "in",
      "out",
      "cwd",
    ]
  ) await mk(d);

  const parents = new Map<string, ParentSpec>();
  for (const p of spec.parents ?? []) {
    parents.set(p.name, p);
    const real = devPath(p);
    await mk(real.slice(1));
    await Deno.symlink(
      relative(real, `/sys/class/mdev_bus/${p.name}`),
      `${h}/sys/class/mdev_bus/${p.name}`,
    );
    if (p.types === undefined) continue;
    await mk(`${real.slice(1)}/mdev_supported_types`);
    for (const t0 of p.types) {
      const t = { ...DEFAULT_TYPE, ...t0 };
      const td = `${h}${real}/mdev_supported_types/${t.name}`;
      await writeFile(`${td}/available_instances`, `${t.available}\n`, 0o444);
      await writeFile(`${td}/device_api`, `${t.api}\n`, 0o444);
      if (t.label !== null) await writeFile(`${td}/name`, `${t.label}\n`, 0o444);
      if (t.description !== null) await writeFile(`${td}/description`, `${t.description}\n`, 0o444);
      if (t.createIsDir) await mk(`${td.slice(h.length + 1)}/create`);
      else await writeFile(`${td}/create`, "", 0o200);
      await mk(`${td.slice(h.length + 1)}/devices`);
    }
  }

  for (const a of spec.active ?? []) {
    const p = parents.get(a.parent);
    const real = p ? devPath(p) : `/sys/devices/pci0000:00/${a.parent}`;
    const dd = `${real}/${a.uuid}`;
    await mk(dd.slice(1));
    if (!a.noTypeLink) {
      await Deno.symlink(
        relative(`${real}/mdev_supported_types/${a.type}`, `${dd}/mdev_type`),
        `${h}${dd}/mdev_type`,
      );
    }
    if (a.removeIsDir) await mk(`${dd.slice(1)}/remove`);
    else await writeFile(`${h}${dd}/remove`, "", 0o200);
    for (const f of a.attrFiles ?? []) await writeFile(`${h}${dd}/${f}`, "", 0o644);
    for (const f of a.attrDirs ?? []) await mk(`${dd.slice(1)}/${f}`);
    await Deno.symlink(
      relative(dd, `/sys/bus/mdev/devices/${a.uuid}`),
      `${h}/sys/bus/mdev/devices/${a.uuid}`,
    );
    if (!a.noTypeLink) {
      // the real kernel lists the device under the type's devices/ dir too
      const link = `${real}/mdev_supported_types/${a.type}/devices/${a.uuid}`;
      await Deno.symlink(relative(dd, link), `${h}${link}`)
        .catch(() => {});
    }
  }

  for (const d of spec.defined ?? []) {
    const content = typeof d.json === "string" ? d.json : JSON.stringify(d.json, null, 2);
    await writeFile(`${h}/etc/mdevctl.d/${d.parent}/${d.uuid}`, content, 0o644);
  }

  const scriptDir = (dir: "etc" | "usrlib" | undefined, kind: "callouts" | "notifiers") =>
    (dir ?? "etc") === "usrlib" && !debianSide
      ? `${h}/usr/lib/mdevctl/scripts.d/${kind}`
      : `${h}/etc/mdevctl.d/scripts.d/${kind}`;
  for (const c of spec.callouts ?? []) {
    await writeFile(
      `${scriptDir(c.dir, "callouts")}/${c.name}`,
      calloutScript(c, "callout"),
      0o755,
    );
  }
  for (const n of spec.notifiers ?? []) {
    await writeFile(
      `${scriptDir(n.dir, "notifiers")}/${n.name}`,
      calloutScript(n, "notifier"),
      0o755,
    );
  }
  for (const [name, content] of Object.entries(spec.inputs ?? {})) {
    await writeFile(`${h}/in/${name}`, content, 0o644);
  }
  await writeFile(`${h}/calls.log`, "", 0o666);
}

/** Final state of the parts of the host the tools may write: every entry
 * under sys/ and etc/mdevctl.d/ (scripts.d excluded: it only holds inputs),
 * as sorted "relative-path\tkind mode content" lines.  Symlinks are not
 * followed (their absolute targets only resolve inside the namespace). */
export async function captureState(h: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const abs = `${h}/${rel}`;
    const st = await Deno.lstat(abs);
    const mode = ((st.mode ?? 0) & 0o7777).toString(8);
    if (st.isSymlink) {
      out.push(`${rel}\tl -> ${await Deno.readLink(abs)}`);
    } else if (st.isDirectory) {
      out.push(`${rel}\td ${mode}`);
      const names: string[] = [];
      for await (const e of Deno.readDir(abs)) names.push(e.name);
      for (const n of names.sort()) {
        const r = `${rel}/${n}`;
        if (r === "etc/mdevctl.d/scripts.d") continue;
        await walk(r);
      }
    } else {
      const bytes = await Deno.readFile(abs);
      out.push(`${rel}\tf ${mode} ${JSON.stringify(new TextDecoder().decode(bytes))}`);
    }
  }
  await walk("sys");
  await walk("etc/mdevctl.d");
  return out.sort();
}

import {
  deepEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { checkTree, layerOf, parseTable, problems } from "./check_layers.ts";

const TABLE = `# Fake

| Level | Layer    | Paths                         | Inside   |
| ----- | -------- | ----------------------------- | -------- |
| 4     | entries  | \`cli.ts\`                    | separate |
| 2     | commands | \`lib/commands/*.ts\`         | separate |
| 3     | registry | \`lib/commands/registry.ts\`  | shared   |
| 1     | sysfs    | \`lib/sysfs.ts\` \`lib/sysfs/\` | shared   |
| 1     | store    | \`lib/store.ts\`              | shared   |
| 0     | base     | \`lib/base.ts\`               | shared   |
`;

/** A fake tree: the table above and `files` (path → text). */
function tree(files: Record<string, string>, doc = TABLE): string {
  const root = Deno.makeTempDirSync({ prefix: "check_layers_test_" });
  for (const [path, text] of Object.entries({ "docs/architecture.md": doc, ...files })) {
    Deno.mkdirSync(`${root}/${path.slice(0, path.lastIndexOf("/") + 1) || "."}`, {
      recursive: true,
    });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  }
  return root;
}

const CLEAN = {
  "cli.ts": 'import "./lib/commands/registry.ts";\n',
  "lib/commands/registry.ts": 'export const load = () => import("./list.ts");\n',
  "lib/commands/list.ts": 'import { read } from "../sysfs/read.ts";\nexport const x = read;\n',
  "lib/sysfs/read.ts":
    'import type { B } from "../base.ts";\nimport { w } from "./write.ts";\nexport const read = (b: B) => w(b);\n',
  "lib/sysfs/write.ts": "export const w = (b: unknown) => b;\n",
  "lib/store.ts": 'import { B } from "./base.ts";\nexport const s: B = 1;\n',
  "lib/base.ts": "export type B = number;\n",
  "lib/base_test.ts": 'import "../cli.ts";\n',
};

Deno.test("a clean tree passes, folder rows cover nested files, tests are not checked", async () => {
  const root = tree(CLEAN);
  try {
    assertEquals(await checkTree(root), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("upward (type-only), sideways, command-to-command and dynamic imports fail", async () => {
  const root = tree({
    ...CLEAN,
    "lib/base.ts": 'import type { s } from "./store.ts";\nexport type B = typeof s;\n',
    "lib/store.ts": 'import { read } from "./sysfs/read.ts";\nexport const s = read;\n',
    "lib/commands/list.ts": 'export const x = () => import("./other.ts");\n',
    "lib/commands/other.ts": "export const y = 1;\n",
  });
  try {
    assertEquals(await checkTree(root), [
      "lib/base.ts -> lib/store.ts: layer base may not import layer store (upward)",
      "lib/commands/list.ts -> lib/commands/other.ts: layer commands may not import layer commands (its files stand alone)",
      "lib/store.ts -> lib/sysfs/read.ts: layer store may not import layer sysfs (sideways)",
    ]);
    // The command line: the same lines on stderr, exit status 1.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", "tools/check_layers.ts", root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1);
    assert(stderr.includes("lib/base.ts -> lib/store.ts: layer base may not import layer store"));
    assertEquals(out.stdout.length, 0);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a file in no layer, a needed exception and a stale one", async () => {
  const doc = TABLE + "\n| From | To | Why |\n| - | - | - |\n" +
    "| `lib/store.ts` | `lib/sysfs.ts` | for now |\n| `lib/base.ts` | `lib/store.ts` | gone |\n";
  const root = tree({
    ...CLEAN,
    "lib/stray.ts": "export {};\n",
    "lib/sysfs.ts": "export const old = 1;\n",
    "lib/store.ts": 'import { old } from "./sysfs.ts";\nexport const s = old;\n',
  }, doc);
  try {
    assertEquals(await checkTree(root), [
      "lib/base.ts -> lib/store.ts: listed as an exception in docs/architecture.md but not needed",
      "lib/stray.ts: in no layer of docs/architecture.md",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a file named in a row beats a glob, a glob beats a folder", () => {
  const { layers } = parseTable(TABLE);
  assertEquals(layerOf("lib/commands/registry.ts", layers)?.name, "registry");
  assertEquals(layerOf("lib/commands/list.ts", layers)?.name, "commands");
  assertEquals(layerOf("lib/commands/sub/x.ts", layers), undefined);
  assertEquals(layerOf("lib/sysfs/deep/x.ts", layers)?.name, "sysfs");
  assertEquals(layerOf("lib/sysfs.ts", layers)?.name, "sysfs");
});

Deno.test("a malformed table is refused with a reason", () => {
  assertThrows(() => parseTable("no table here"), /no layer table/);
  assertThrows(
    () => parseTable(TABLE.replace("| shared   |\n| 1     | store", "| maybe |\n| 1     | store")),
    /inside must be "shared" or "separate"/,
  );
  assertThrows(() => parseTable(TABLE.replace("`lib/base.ts`", "lib/base.ts")), /no `path`/);
  assertThrows(() => parseTable(TABLE.replace("| store ", "| base  ")), /named twice/);
});

Deno.test("problems: an allowed downward import is no problem", () => {
  const table = parseTable(TABLE);
  assertEquals(
    problems(table, ["lib/store.ts"], [{ from: "lib/store.ts", to: "lib/base.ts" }]),
    [],
  );
});

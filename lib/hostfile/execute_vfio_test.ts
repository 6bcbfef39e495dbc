/**
 * The VFIO changes carried out in-process on a plain fake tree: writes,
 * read-back, the ledger, capacity re-checked before each write, idempotence.
 * (In-use skips need a device that answers EBUSY: the FUSE black-box tests,
 * or the in-process driver model of tests/hostfile/model_vfio_host.ts.)
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import * as Y from "npm:yaml@2.9.1";
import { Environment } from "../environment.ts";
import { executeRounds } from "./apply_rounds.ts";
import { execute } from "./execute.ts";
import { executable } from "./changes.ts";
import { readLedgers, serializeLedger } from "./ledger.ts";
import { makePlan } from "./plan.ts";
import { renderText } from "./render.ts";
import { parseHostFile } from "./schema.ts";
import { readSnapshot } from "./snapshot.ts";
import { buildVfioTree, creatableText, vfFile } from "../../tests/helpers/vfio_unit_tree.ts";
import { MODELS, VfioHost } from "../../tests/hostfile/model_vfio_host.ts";

const TYPES = creatableText([[1155, "NVIDIA L40S-12Q"], [1156, "NVIDIA L40S-24Q"]]);
const PF = "0000:41:00.0";

const FILE = `version: 1
owner: vdi
pools:
  - name: p
    type: {nameToken: "L40S-12Q"}
    parents: {driver: [nvidia]}
    perParent: 3
`;

async function apply(env: Environment, text: string, prune = false) {
  const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
  const plan = makePlan(file, readSnapshot(env), readLedgers(env, "vdi"), { prune, start: false });
  const done = await execute(env, plan, { force: false, keepGoing: false });
  return { plan, done, text: renderText(plan, false, done.outcomes, "applied") };
}

function withTree(body: (root: string, env: Environment) => Promise<void>) {
  return async () => {
    const root = Deno.makeTempDirSync({ prefix: "vfio-exec-" });
    try {
      buildVfioTree(root, [{
        address: PF,
        vfs: Array.from({ length: 4 }, () => ({ creatable: TYPES })),
      }]);
      await body(root, new Environment(root, { stderr: () => {} }));
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  };
}

const current = (root: string) =>
  [0, 1, 2, 3].map((i) => Deno.readTextFileSync(vfFile(root, PF, i, "current_vgpu_type")).trim());

Deno.test(
  "apply assigns, records the VFs, and a second apply changes nothing",
  withTree(async (root, env) => {
    const first = await apply(env, FILE);
    assertEquals(first.done.result, "success");
    assertEquals(current(root), ["1155", "1155", "1155", "0"]);
    const ledger = readLedgers(env, "vdi").get("vdi")!;
    assertEquals([...ledger.vfs!.keys()], ["0000:41:00.4", "0000:41:00.5", "0000:41:00.6"]);
    assertEquals(ledger.vfs!.get("0000:41:00.4")!.typeName, "NVIDIA L40S-12Q");
    const second = await apply(env, FILE);
    assertEquals(second.text, "in sync: 3 managed\n");
    // Released with --prune once the pool is gone; the ledger forgets them.
    const gone = await apply(env, "version: 1\nowner: vdi\n", true);
    assertEquals(gone.done.result, "success");
    assertEquals(current(root), ["0", "0", "0", "0"]);
    assertEquals(readLedgers(env, "vdi").get("vdi")!.vfs, undefined);
  }),
);

Deno.test(
  "capacity gone at write time: skipped (capacity), not recorded, others go on",
  withTree(async (root, env) => {
    const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(FILE));
    const plan = makePlan(file, readSnapshot(env), new Map(), { prune: false, start: false });
    // After the plan, the second VF stops listing the type (a sibling took the room).
    Deno.writeTextFileSync(
      vfFile(root, PF, 1, "creatable_vgpu_types"),
      creatableText([[1156, "NVIDIA L40S-24Q"]]),
    );
    const done = await execute(env, plan, { force: false, keepGoing: false });
    assertEquals([...done.outcomes.values()].map((o) => `${o.status} ${o.reason ?? ""}`.trim()), [
      "done",
      "skipped capacity",
      "done",
    ]);
    assertEquals(done.errors.length, 0);
    assertEquals(current(root), ["1155", "0", "1155", "0"]);
    assertEquals([...readLedgers(env, "vdi").get("vdi")!.vfs!.keys()], [
      "0000:41:00.4",
      "0000:41:00.6",
    ]);
  }),
);

Deno.test(
  "a VF taken between plan and write fails the change; nothing later runs or is recorded",
  withTree(async (root, env) => {
    const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(FILE));
    const plan = makePlan(file, readSnapshot(env), new Map(), { prune: false, start: false });
    Deno.writeTextFileSync(vfFile(root, PF, 0, "current_vgpu_type"), "1156\n");
    const done = await execute(env, plan, { force: false, keepGoing: false });
    assertEquals(done.result, "failed");
    assertEquals(
      renderText(plan, false, done.outcomes).split("\n").slice(0, 3),
      [
        "+ 0000:41:00.4 L40S-12Q (id 1155) assign rule=p slot=0 status=failed",
        "  cause: VF 0000:41:00.4 is no longer free: it holds type 1156",
        "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=1 status=skipped",
      ],
    );
    assertEquals(current(root), ["1156", "0", "0", "0"]);
    assertEquals(readLedgers(env, "vdi").get("vdi")?.vfs?.size ?? 0, 0);
    // The next plan sees VF 0 as someone else's and goes around it.
    const again = await apply(env, FILE);
    assertEquals(current(root), ["1156", "1155", "1155", "1155"]);
    assertEquals(again.done.result, "success");
  }),
);

Deno.test(
  "capacity gone at write time: apply plans again and places the vGPU where there is room",
  async () => {
    const root = Deno.makeTempDirSync({ prefix: "vfio-exec-" });
    const PF2 = "0000:42:00.0";
    try {
      buildVfioTree(
        root,
        [PF, PF2].map((address) => ({
          address,
          vfs: [{ creatable: TYPES }, { creatable: TYPES }],
        })),
      );
      const env = new Environment(root, { stderr: () => {} });
      const text = "version: 1\nowner: vdi\npools:\n" +
        "  - {name: p, type: {nameToken: L40S-12Q}, count: 2, placement: pack}\n";
      const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
      const replan = () =>
        makePlan(file, readSnapshot(env), readLedgers(env, "vdi"), { prune: false, start: false });
      const first = replan();
      // The plan packs both on the first GPU; by write time its second VF no longer offers the type.
      Deno.writeTextFileSync(vfFile(root, PF, 1, "creatable_vgpu_types"), "");
      const r = await executeRounds(env, first, replan, { force: false, keepGoing: false });
      assertEquals(renderText(r.plan, false, r.done.outcomes, "applied").split("\n"), [
        "+ 0000:41:00.4 L40S-12Q (id 1155) assign rule=p slot=0 status=done",
        "+ 0000:41:00.5 L40S-12Q (id 1155) assign rule=p slot=1 status=skipped (capacity)",
        "+ 0000:42:00.4 L40S-12Q (id 1155) assign rule=p slot=0 status=done",
        "applied: 3 changes (assign 3)",
        "",
      ]);
      assertEquals([r.done.result, r.short], ["success", false]);
      const at = (pf: string, i: number) =>
        Deno.readTextFileSync(vfFile(root, pf, i, "current_vgpu_type")).trim();
      assertEquals([at(PF, 0), at(PF, 1), at(PF2, 0), at(PF2, 1)], ["1155", "0", "1155", "0"]);
      assertEquals([...readLedgers(env, "vdi").get("vdi")!.vfs!.keys()], [
        "0000:41:00.4",
        "0000:42:00.4",
      ]);
      assertEquals(renderText(replan(), false), "in sync: 2 managed\n");
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
);

Deno.test(
  "a reassign whose type the emptied VF does not offer puts the hand-set type back: skipped, no longer owned",
  withTree(async (root, env) => {
    const one = FILE.replace("perParent: 3", "count: 1");
    assertEquals((await apply(env, one)).done.result, "success");
    assertEquals(current(root), ["1155", "0", "0", "0"]);
    // By hand: VF 0 to the 24Q; once empty it offers only that (sizes may not mix, say).
    Deno.writeTextFileSync(vfFile(root, PF, 0, "current_vgpu_type"), "1156\n");
    Deno.writeTextFileSync(
      vfFile(root, PF, 0, "creatable_vgpu_types"),
      creatableText([[1156, "NVIDIA L40S-24Q"]]),
    );
    const second = await apply(env, one);
    assertEquals(
      second.text.split("\n")[0],
      [
        "~ 0000:41:00.4 L40S-12Q (id 1155) reassign from=L40S-24Q (id 1156) rule=p slot=0",
        "status=skipped (capacity)",
      ].join(" "),
    );
    assertEquals(second.done.result, "success");
    assertEquals(current(root), ["1156", "0", "0", "0"]);
    assertEquals(readLedgers(env, "vdi").get("vdi")?.vfs?.size ?? 0, 0);
    // The VF is the hand-set vGPU's now: the pool goes around it.
    const third = await apply(env, one);
    assertEquals(current(root), ["1156", "1155", "0", "0"]);
    assertEquals(third.done.result, "success");
  }),
);

Deno.test(
  "a VF in use does not stop the rounds: the room a capacity skip left goes to the next pool",
  async () => {
    const root = Deno.makeTempDirSync({ prefix: "vfio-exec-" });
    // The driver model of the VFIO model test: capacity 48, sizes mixed here, VFIO nodes answer EBUSY.
    const host = new VfioHost(root);
    const uninstall = host.install();
    try {
      const g = host.add(PF, MODELS[0]!, 5, { mixed: true });
      host.enable(g, 5);
      // VF 0 is the owner's 24Q, changed by hand to an 8Q, and a VM runs on it.
      assertEquals(host.store(g, g.vfs[0]!, "1008"), "ok");
      g.vfs[0]!.inUse = true;
      host.syncFiles(g);
      const env = new Environment(root, { stderr: () => {} });
      Deno.mkdirSync(env.ownersDir, { recursive: true });
      Deno.writeTextFileSync(
        `${env.ownersDir}/vdi.json`,
        serializeLedger({
          owner: "vdi",
          devices: new Map(),
          vfs: new Map([[g.vfs[0]!.address, {
            pf: PF,
            typeId: 1024,
            typeName: "NVIDIA L40S-24Q",
            origin: { pool: "p0", slot: 0 },
          }]]),
        }),
      );
      const text = "version: 1\nowner: vdi\npools:\n" +
        '  - {name: p0, type: {id: "1024"}, perParent: max}\n' +
        "  - {name: p2, type: {nameToken: L40S-8Q}, perParent: max}\n";
      const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
      const replan = () =>
        makePlan(file, readSnapshot(env), readLedgers(env, "vdi"), { prune: false, start: false });
      const r = await executeRounds(env, replan(), replan, { force: false, keepGoing: false });
      // Round 1: the reassign of VF 0 skipped (in use), one more 24Q, the rest no longer fit;
      // round 2: p2's 8Qs in the 16 left; VF 0 is not tried again.
      assertEquals(g.vfs.map((v) => v.current), [1008, 1024, 1008, 1008, 0]);
      assertEquals(r.done.errors.map((e) => e.message), [
        "reassign of VF 0000:41:00.4 skipped: its VFIO device is in use",
      ]);
      assertEquals(r.done.result, "partial");
      assertEquals(executable(replan()).map((c) => `${c.action} ${c.uuid}`), [
        "reassign 0000:41:00.4",
      ]);
    } finally {
      uninstall();
      Deno.removeSync(root, { recursive: true });
    }
  },
);

Deno.test(
  "room a release frees goes to a pool in the same apply (the plan, made before it, could not see it)",
  async () => {
    const root = Deno.makeTempDirSync({ prefix: "vfio-exec-" });
    const host = new VfioHost(root);
    const uninstall = host.install();
    try {
      const g = host.add(PF, MODELS[0]!, 2);
      host.enable(g, 2);
      const env = new Environment(root, { stderr: () => {} });
      const apply = async (text: string) => {
        const file = parseHostFile(Y, "h.yaml", new TextEncoder().encode(text));
        const replan = () =>
          makePlan(file, readSnapshot(env), readLedgers(env, "vdi"), { prune: true, start: false });
        return await executeRounds(env, replan(), replan, { force: false, keepGoing: false });
      };
      const head = "version: 1\nowner: vdi\npools:\n";
      await apply(`${head}  - {name: half, type: {nameToken: L40S-24Q}, perParent: 2}\n`);
      assertEquals(g.vfs.map((v) => v.current), [1024, 1024]);
      // The GPU is full: no VF offers 48Q until the two 24Qs are released.
      const r = await apply(`${head}  - {name: whole, type: {nameToken: L40S-48Q}, count: 1}\n`);
      assertEquals(g.vfs.map((v) => v.current), [1048, 0]);
      assertEquals(
        renderText(r.plan, false, r.done.outcomes, "applied").split("\n").filter((l) =>
          l.startsWith("+") || l.startsWith("-")
        ),
        [
          "- 0000:41:00.4 L40S-24Q (id 1024) release rule=half slot=0 status=done",
          "- 0000:41:00.5 L40S-24Q (id 1024) release rule=half slot=1 status=done",
          "+ 0000:41:00.4 L40S-48Q (id 1048) assign rule=whole slot=0 status=done",
        ],
      );
      assertEquals([r.done.result, r.short], ["success", false]);
      const again = await apply(
        `${head}  - {name: whole, type: {nameToken: L40S-48Q}, count: 1}\n`,
      );
      assertEquals(executable(again.plan), []);
    } finally {
      uninstall();
      Deno.removeSync(root, { recursive: true });
    }
  },
);

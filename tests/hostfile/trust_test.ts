/**
 * Host files on a GPU host in a transient state (hostfile.md §3, §5, §8):
 * a parent whose driver restarts or whose types are not populated keeps its
 * devices under --prune; a pool or device that matches nothing is reported
 * and unsatisfied (exit 4), never "in sync"; apply shows each action as it
 * completes and stops cleanly on SIGINT/SIGTERM.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type FakeHost, withHost } from "../helpers/fake_host.ts";
import {
  addT4,
  definitions,
  ledgerUuids,
  T4_FILE,
  T4_UUIDS,
  T4A,
  T4B,
  writeHostFile,
} from "./host_setup.ts";

const ALL = Object.values(T4_UUIDS);

async function definedUuids(host: FakeHost): Promise<string[]> {
  return Object.keys(await definitions(host)).map((k) => k.split("/")[1]!).sort();
}

/** Two T4 parents with pool t4-q applied: four managed devices. */
async function appliedT4(host: FakeHost): Promise<string> {
  await addT4(host, T4A);
  await addT4(host, T4B);
  const file = await writeHostFile(host, T4_FILE);
  const r = await host.run(["apply", "-f", file]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(await definedUuids(host), [...ALL].sort());
  return file;
}

/** diff --prune and apply --prune keep every device; diff names the parent. */
async function keptUnderPrune(host: FakeHost, file: string, line: string): Promise<void> {
  const diff = await host.run(["diff", "-f", file, "--prune"]);
  assertEquals([diff.code, diff.stdout], [4, `${line}\nin sync: 4 managed; unsatisfied: 1\n`]);
  const json = JSON.parse((await host.run(["diff", "-f", file, "--prune", "--dumpjson"])).stdout);
  const [, parent, reason, kept] = /^\? (\S+) not-ready reason=(\S+) kept=(\d+)$/.exec(line)!;
  assertEquals([json.satisfied, json.notReady], [false, [{ parent, reason, kept: Number(kept) }]]);
  const apply = await host.run(["apply", "-f", file, "--prune"]);
  assertEquals(apply.code, 4, apply.stderr);
  assertEquals(await definedUuids(host), [...ALL].sort());
  assertEquals(await ledgerUuids(host, "gpu-pool"), [...ALL].sort());
}

Deno.test("a parent with no types (driver restarting) keeps its devices under --prune", () =>
  withHost(async (host) => {
    const file = await appliedT4(host);
    for (const t of ["nvidia-222", "nvidia-223"]) {
      await Deno.remove(host.typeDir(T4B, t), { recursive: true });
    }
    await keptUnderPrune(host, file, `? ${T4B} not-ready reason=no-types kept=2`);
  }));

Deno.test("a PCI parent with no driver bound keeps its devices under --prune", () =>
  withHost(async (host) => {
    const file = await appliedT4(host);
    await Deno.remove(`${host.parentDir(T4A)}/driver`);
    await keptUnderPrune(host, file, `? ${T4A} not-ready reason=no-driver kept=2`);
  }));

Deno.test("a parent that lost the type of its managed devices keeps them under --prune", () =>
  withHost(async (host) => {
    const file = await appliedT4(host);
    const aside = host.path("nvidia-222.aside");
    await Deno.rename(host.typeDir(T4B, "nvidia-222"), aside);
    await keptUnderPrune(host, file, `? ${T4B} not-ready reason=type-missing kept=2`);
    // Once the type is back, everything is in sync again.
    await Deno.rename(aside, host.typeDir(T4B, "nvidia-222"));
    const diff = await host.run(["diff", "-f", file, "--prune"]);
    assertEquals([diff.code, diff.stdout], [0, "in sync: 4 managed\n"]);
  }));

Deno.test("a type gone for good: prune keeps its devices until they are undefined by hand", () =>
  withHost(async (host) => {
    const file = await appliedT4(host);
    // A driver upgrade drops nvidia-222 on T4B; the administrator moves the pool to T4-2Q.
    await Deno.remove(host.typeDir(T4B, "nvidia-222"), { recursive: true });
    await Deno.writeTextFile(file, T4_FILE.replace("GRID T4-1Q", "GRID T4-2Q"));
    const first = await host.run(["apply", "-f", file, "--prune"]);
    assertEquals(first.code, 4, first.stderr);
    assertEquals(
      first.stdout.split("\n").filter((l) => l.startsWith("?")),
      [`? ${T4B} not-ready reason=type-missing kept=2`],
    );
    const kept = (await definedUuids(host)).filter((u) => u === T4_UUIDS.b0 || u === T4_UUIDS.b1);
    assertEquals(kept, [T4_UUIDS.b0, T4_UUIDS.b1].sort());
    // Undefined by hand (the warning says the host file manages them): T4B holds nothing now.
    for (const uuid of kept) {
      const r = await host.run(["undefine", "-u", uuid]);
      assertEquals([r.code, r.stderr.includes("managed by host file owner gpu-pool")], [0, true]);
    }
    const second = await host.run(["apply", "-f", file, "--prune"]);
    assertEquals(second.code, 0, second.stdout + second.stderr);
    const defs = Object.entries(await definitions(host)).map(([k, v]) =>
      `${k.split("/")[0]} ${(v as { mdev_type: string }).mdev_type}`
    ).sort();
    assertEquals(defs, [
      `${T4A} nvidia-223`,
      `${T4A} nvidia-223`,
      `${T4B} nvidia-223`,
      `${T4B} nvidia-223`,
    ]);
    assertEquals((await ledgerUuids(host, "gpu-pool")).length, 4);
    const diff = await host.run(["diff", "-f", file, "--prune"]);
    assertEquals([diff.code, diff.stdout], [0, "in sync: 4 managed\n"]);
  }));

Deno.test("a type name typo is unmatched (exit 4), with the near name; prune keeps the pool", () =>
  withHost(async (host) => {
    const good = await appliedT4(host);
    const typo = await writeHostFile(
      host,
      T4_FILE.replace("GRID T4-1Q", "GRID T4-1q"),
      "typo.yaml",
    );
    const line =
      `? pool:t4-q unmatched reason="type {name: \\"GRID T4-1q\\"} is not offered by ${T4A}, ${T4B}; did you mean \\"GRID T4-1Q\\"?"`;
    const diff = await host.run(["diff", "-f", typo, "--prune"]);
    assertEquals([diff.code, diff.stdout], [4, `${line}\nin sync: 4 managed; unsatisfied: 1\n`]);
    const json = JSON.parse((await host.run(["diff", "-f", typo, "--dumpjson"])).stdout);
    assertEquals([json.satisfied, json.unmatched], [false, [{
      pool: "t4-q",
      reason: `type {name: "GRID T4-1q"} is not offered by ${T4A}, ${T4B}`,
      suggestion: "GRID T4-1Q",
    }]]);
    const apply = await host.run(["apply", "-f", typo, "--prune", "--start"]);
    assertEquals([apply.code, apply.stdout.split("\n").at(-2)], [
      4,
      "in sync: 4 managed; unsatisfied: 1",
    ]);
    assertEquals(await definedUuids(host), [...ALL].sort());
    assertEquals(await ledgerUuids(host, "gpu-pool"), [...ALL].sort());
    assertEquals((await host.run(["diff", "-f", good, "--prune"])).code, 0);
  }));

Deno.test("a fresh pool whose type matches nothing places nothing and exits 4", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    const file = await writeHostFile(host, T4_FILE.replace("GRID T4-1Q", "nvidia-222"));
    const diff = await host.run(["diff", "-f", file]);
    assertEquals([diff.code, diff.stdout], [
      4,
      `? pool:t4-q unmatched reason="type {name: \\"nvidia-222\\"} is not offered by ${T4A}; did you mean \\"GRID T4-1Q\\"?"\nin sync: 0 managed; unsatisfied: 1\n`,
    ]);
    const apply = await host.run(["apply", "-f", file]);
    assertEquals(apply.code, 4);
    assertEquals(await definitions(host), {});
    const none = await writeHostFile(
      host,
      T4_FILE.replace('pciDevice: ["0x1eb8"]', 'pciDevice: ["0x20b5"]'),
      "none.yaml",
    );
    const unmatched = await host.run(["diff", "-f", none]);
    assertEquals([unmatched.code, unmatched.stdout.split("\n")[0]], [
      4,
      '? pool:t4-q unmatched reason="no parent matches"',
    ]);
  }));

Deno.test("an explicit device on a parent that lacks its type is unmatched and not defined", () =>
  withHost(async (host) => {
    await addT4(host, T4A);
    const uuid = "6dfd3ec5-e8b3-4e18-a6fe-57bc9eceb920";
    const absent = "0000:af:00.0";
    const file = await writeHostFile(
      host,
      `version: 1
devices:
  - {uuid: "${uuid}", parent: "${T4A}", type: "NVIDIA-222"}
  - {id: later, parent: "${absent}", type: "nvidia-222"}
`,
    );
    const diff = await host.run(["diff", "-f", file]);
    assertEquals(diff.code, 3);
    const lines = diff.stdout.trimEnd().split("\n");
    assertEquals(lines.length, 3, diff.stdout);
    assertEquals(lines[0]!.startsWith(`+ ${absent}/`), true, diff.stdout);
    assertEquals(
      lines[1],
      `? ${T4A}/${uuid} NVIDIA-222 unmatched reason="${T4A} does not offer type NVIDIA-222; did you mean \\"nvidia-222\\"?"`,
    );
    const apply = await host.run(["apply", "-f", file]);
    assertEquals(apply.code, 4, apply.stderr);
    const defined = Object.keys(await definitions(host));
    assertEquals(defined.length, 1);
    assertEquals(defined[0]!.startsWith(`${absent}/`), true);
  }));

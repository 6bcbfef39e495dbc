/**
 * `mdevctl monitor` on vendor-VFIO GPUs (docs/monitor.md, docs/vfio-vgpu.md
 * "Monitor"): `vgpu-assigned` / `vgpu-released` events for VFs whose
 * `nvidia/current_vgpu_type` the test writes through the fake NVIDIA kernel,
 * in text and JSON, with `--snapshot`, `-p`, `-u` and `--count`. Writing that
 * file sends no uevent, so every monitor here polls (`--source poll`).
 */
import { deepEqual as assertEquals, ok } from "node:assert/strict";
import type { FakeHost } from "../helpers/fake_host.ts";
import { MonitorProcess } from "../monitor/helpers.ts";
import { G0, G1, G2, G3, gpus, hostFile, kernelTest, poolFile, vf } from "./vfio_setup.ts";

const POLL = ["--source", "poll", "--poll-interval", "100"];
/** How long any one expected output may take. */
const WAIT_MS = 10_000;
const U1 = "11111111-1111-0000-0000-000000000000";
const P1 = "0000:00:02.0";

/** `mdevctl monitor ARGS` on `host`, its stdout read line by line. */
async function monitor(host: FakeHost, args: string[]): Promise<MonitorProcess> {
  return new MonitorProcess(await host.spawn(["monitor", ...args]));
}

/** Waits (at most WAIT_MS) until `pred` holds for the lines printed so far. */
async function until(m: MonitorProcess, pred: (lines: readonly string[]) => boolean) {
  const deadline = Date.now() + WAIT_MS;
  while (!pred(m.lines)) {
    if (Date.now() > deadline) throw new Error(`timed out; lines:\n${m.lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `m` printed `n` lines or more. */
const lineCount = (m: MonitorProcess, n: number) => until(m, (l) => l.length >= n);

/** A text line without its leading time stamp; the stamp must be RFC 3339 UTC with ms. */
function untimed(line: string): string {
  const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (.*)$/.exec(line);
  return m === null ? `(no time stamp) ${line}` : m[1]!;
}

/** A JSON line with its time replaced by `T` (the key must be there, in its place). */
function jsonUntimed(line: string): string {
  return line.replace(/,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/, ',"time":"T",');
}

/** The JSON line of a vGPU event, as docs/monitor.md orders its keys. */
function vgpuJson(
  seq: number,
  event: "vgpu-assigned" | "vgpu-released",
  vfAddr: string,
  pf: string,
  typeId: number,
  type: string | null,
  source: "poll" | "snapshot",
): string {
  const initial = source === "snapshot" ? ',"initial":true' : "";
  return `{"v":1,"seq":${seq},"time":"T","event":"${event}","vf":"${vfAddr}","pf":"${pf}",` +
    `"typeId":${typeId},"type":${
      type === null ? "null" : `"${type}"`
    },"source":"${source}"${initial}}`;
}

/** Writes `id` to VF `index` of `pf`'s `current_vgpu_type`, as an administrator would. */
async function setType(host: FakeHost, pf: string, index: number, id: number): Promise<void> {
  await Deno.writeTextFile(
    host.path(`${host.vfDir(pf, index)}/nvidia/current_vgpu_type`),
    `${id}\n`,
  );
}

/**
 * Waits (at most WAIT_MS) until every thread of `pid` is stopped: a thread
 * in the middle of a read of the fake kernel stops only once it is answered.
 */
async function allStopped(pid: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  const state = (task: string) => {
    const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  };
  for (;;) {
    const tasks = [...Deno.readDirSync(`/proc/${pid}/task`)].map((e) => e.name);
    if (tasks.every((t) => state(t) === "T")) return;
    if (Date.now() > deadline) throw new Error(`monitor ${pid} did not stop`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Line lists compared as one text, so a failure shows the lines that differ. */
function sameLines(actual: readonly string[], expected: readonly string[]): void {
  const [a, e] = [actual.join("\n"), expected.join("\n")];
  assertEquals(a, e, `expected:\n${e}\n\nactual:\n${a}`);
}

/** SIGTERM; the monitor must end with status 0 and nothing on stderr. */
async function stopClean(m: MonitorProcess): Promise<void> {
  const code = await m.stop();
  assertEquals([code, await m.stderr], [0, ""]);
}

kernelTest(
  "--snapshot starts with one vgpu-assigned per assigned VF, then synced (JSON and text)",
  {
    vfioGpus: [
      ...gpus([G0], { current: { 0: 1411, 2: 1411 } }),
      ...gpus([G1], { current: { 1: 1413 } }),
      ...gpus([G2]),
      // Another model (PCI device): G2's lists do not name its ids.
      ...gpus([G3], { device: "0x2236", current: { 3: 1413 } }),
    ],
  },
  {},
  async (host) => {
    const json = await monitor(host, ["--dumpjson", "--snapshot", ...POLL]);
    const text = await monitor(host, ["--snapshot", ...POLL]);
    await lineCount(json, 5);
    await lineCount(text, 5);
    await stopClean(json);
    await stopClean(text);
    // 1413 (L40S-48Q) fills G1 and cannot join G0's 12Q vGPUs: only G2's lists name it.
    // Nothing names it for G3 (full, and alone of its model): null, or `unnamed` in text.
    sameLines(json.lines.map(jsonUntimed), [
      vgpuJson(1, "vgpu-assigned", vf(G0, 0), G0, 1411, "L40S-12Q", "snapshot"),
      vgpuJson(2, "vgpu-assigned", vf(G0, 2), G0, 1411, "L40S-12Q", "snapshot"),
      vgpuJson(3, "vgpu-assigned", vf(G1, 1), G1, 1413, "L40S-48Q", "snapshot"),
      vgpuJson(4, "vgpu-assigned", vf(G3, 3), G3, 1413, null, "snapshot"),
      '{"v":1,"seq":5,"time":"T","event":"synced"}',
    ]);
    sameLines(text.lines.map(untimed), [
      `vgpu-assigned ${G0}/${vf(G0, 0)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G0}/${vf(G0, 2)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 1)} L40S-48Q (id 1413)`,
      `vgpu-assigned ${G3}/${vf(G3, 3)} unnamed (id 1413)`,
      "synced",
    ]);
  },
);

kernelTest(
  "a VF's type written, cleared, and changed in one step: assigned, released, released+assigned",
  { vfioGpus: gpus([G0, G1]) },
  {},
  async (host) => {
    const json = await monitor(host, ["--dumpjson", "--snapshot", ...POLL]);
    const text = await monitor(host, ["--snapshot", ...POLL]);
    await lineCount(json, 1);
    await lineCount(text, 1);
    assertEquals([json.lines.map(jsonUntimed), text.lines.map(untimed)], [
      ['{"v":1,"seq":1,"time":"T","event":"synced"}'],
      ["synced"],
    ]);
    const both = async (n: number) => {
      await lineCount(json, n);
      await lineCount(text, n);
    };
    await setType(host, G0, 1, 1411);
    await both(2);
    await setType(host, G0, 1, 0);
    await both(3);
    await setType(host, G1, 0, 1411);
    await both(4);
    // Changed in one step: both monitors are stopped (no read of theirs in
    // flight) while the kernel takes the release and the new id, so no
    // reading can see the VF empty.
    for (const m of [json, text]) Deno.kill(m.child.pid, "SIGSTOP");
    try {
      for (const m of [json, text]) await allStopped(m.child.pid);
      await setType(host, G1, 0, 0);
      await setType(host, G1, 0, 1413);
    } finally {
      for (const m of [json, text]) Deno.kill(m.child.pid, "SIGCONT");
    }
    await both(6);
    await stopClean(json);
    await stopClean(text);
    // 1413 (L40S-48Q) fills G1, so only G0's lists name it; the listing agrees.
    const list = await host.run(["list", "--vfio", "-p", G1]);
    assertEquals([list.code, list.stderr], [0, ""]);
    ok(list.stdout.includes(`${vf(G1, 0)} vf=0 L40S-48Q (id 1413, NVIDIA L40S-48Q)`), list.stdout);
    sameLines(json.lines.slice(1).map(jsonUntimed), [
      vgpuJson(2, "vgpu-assigned", vf(G0, 1), G0, 1411, "L40S-12Q", "poll"),
      vgpuJson(3, "vgpu-released", vf(G0, 1), G0, 1411, "L40S-12Q", "poll"),
      vgpuJson(4, "vgpu-assigned", vf(G1, 0), G1, 1411, "L40S-12Q", "poll"),
      vgpuJson(5, "vgpu-released", vf(G1, 0), G1, 1411, "L40S-12Q", "poll"),
      vgpuJson(6, "vgpu-assigned", vf(G1, 0), G1, 1413, "L40S-48Q", "poll"),
    ]);
    sameLines(text.lines.slice(1).map(untimed), [
      `vgpu-assigned ${G0}/${vf(G0, 1)} L40S-12Q (id 1411)`,
      `vgpu-released ${G0}/${vf(G0, 1)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
      `vgpu-released ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 0)} L40S-48Q (id 1413)`,
    ]);
    // The change in one step is one reading: one batch, one time stamp.
    const times = json.events.slice(4).map((e) => e.time);
    assertEquals(times[0], times[1], json.lines.join("\n"));
  },
);

kernelTest(
  "-p PF keeps only that GPU's vGPU events; -u UUID drops them all",
  { vfioGpus: gpus([G0, G1], { current: { 0: 1411 } }), parents: [{ name: P1, types: { t: {} } }] },
  {},
  async (host) => {
    const onG0 = await monitor(host, ["--dumpjson", "--snapshot", "-p", G0, ...POLL]);
    const onU1 = await monitor(host, ["--dumpjson", "--snapshot", "-u", U1, ...POLL]);
    await lineCount(onG0, 2);
    await lineCount(onU1, 1);
    // G1's change first, then G0's: the reading that shows G0's release
    // began after G1's write, so G1's event had its chance to be printed.
    await setType(host, G1, 1, 1411);
    await setType(host, G0, 1, 1411);
    await lineCount(onG0, 3);
    await setType(host, G0, 1, 0);
    await lineCount(onG0, 4);
    // The device's start is read in the same reading as the VFs, or later.
    await host.addActive(U1, P1, "t");
    await lineCount(onU1, 2);
    await stopClean(onG0);
    await stopClean(onU1);
    sameLines(onG0.lines.map(jsonUntimed), [
      vgpuJson(1, "vgpu-assigned", vf(G0, 0), G0, 1411, "L40S-12Q", "snapshot"),
      '{"v":1,"seq":2,"time":"T","event":"synced"}',
      vgpuJson(3, "vgpu-assigned", vf(G0, 1), G0, 1411, "L40S-12Q", "poll"),
      vgpuJson(4, "vgpu-released", vf(G0, 1), G0, 1411, "L40S-12Q", "poll"),
    ]);
    sameLines(onU1.lines.map(jsonUntimed), [
      '{"v":1,"seq":1,"time":"T","event":"synced"}',
      `{"v":1,"seq":2,"time":"T","event":"started","uuid":"${U1}","parent":"${P1}","type":"t",` +
      '"source":"poll","start":"manual","defined":false}',
    ]);
  },
);

kernelTest(
  "--count N counts vGPU events (snapshot ones too) and exits 0",
  { vfioGpus: gpus([G0, G1], { current: { 0: 1411 } }) },
  {},
  async (host) => {
    // Two of the three initial events: it ends before `synced`.
    const snap = await host.run([
      "monitor",
      "--snapshot",
      "--count",
      "2",
      "--timeout",
      "20",
      ...POLL,
    ]);
    assertEquals([snap.code, snap.stderr], [0, ""]);
    assertEquals(snap.stdout.split("\n").map(untimed), [
      `vgpu-assigned ${G0}/${vf(G0, 0)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
      "(no time stamp) ",
    ]);
    // Two initial events and two changes: it ends by itself after the release.
    const live = await monitor(host, ["--snapshot", "--count", "4", "--timeout", "20", ...POLL]);
    await lineCount(live, 3);
    const started = Date.now();
    await setType(host, G0, 3, 1411);
    await lineCount(live, 4);
    await setType(host, G0, 3, 0);
    const { code } = await live.child.status;
    await live.finished;
    assertEquals([code, await live.stderr], [0, ""]);
    ok(Date.now() - started < WAIT_MS, "--count did not end the monitor");
    sameLines(live.lines.map(untimed), [
      `vgpu-assigned ${G0}/${vf(G0, 0)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
      "synced",
      `vgpu-assigned ${G0}/${vf(G0, 3)} L40S-12Q (id 1411)`,
      `vgpu-released ${G0}/${vf(G0, 3)} L40S-12Q (id 1411)`,
    ]);
  },
);

kernelTest(
  "apply of a VFIO pool and apply --prune of none are reported as vgpu-assigned, vgpu-released",
  { vfioGpus: gpus([G0, G1]) },
  {},
  async (host) => {
    const m = await monitor(host, ["--snapshot", ...POLL]);
    await lineCount(m, 1);
    const file = await hostFile(host, poolFile("perParent: 1"));
    const a = await host.run(["apply", "-f", file]);
    assertEquals([a.code, a.stderr], [0, ""]);
    await lineCount(m, 3);
    const none = await hostFile(host, "version: 1\nowner: vgpu\npools: []\n", "none.yaml");
    const p = await host.run(["apply", "-f", none, "--prune"]);
    assertEquals([p.code, p.stderr], [0, ""]);
    await lineCount(m, 5);
    await stopClean(m);
    sameLines(m.lines.map(untimed), [
      "synced",
      `vgpu-assigned ${G0}/${vf(G0, 0)} L40S-12Q (id 1411)`,
      `vgpu-assigned ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
      `vgpu-released ${G0}/${vf(G0, 0)} L40S-12Q (id 1411)`,
      `vgpu-released ${G1}/${vf(G1, 0)} L40S-12Q (id 1411)`,
    ]);
  },
);

kernelTest(
  "a GPU whose VFs are enabled after the monitor started is followed from its next reading",
  { vfioGpus: [...gpus([G0]), ...gpus([G1], { numVfs: 0 })] },
  {},
  async (host) => {
    const m = await monitor(host, ["--snapshot", ...POLL]);
    await lineCount(m, 1);
    const s = await new Deno.Command(await host.sriovManage(), { args: ["-e", G1] }).output();
    assertEquals(s.code, 0, new TextDecoder().decode(s.stderr));
    await setType(host, G1, 2, 1412);
    await lineCount(m, 2);
    await stopClean(m);
    sameLines(m.lines.map(untimed), [
      "synced",
      `vgpu-assigned ${G1}/${vf(G1, 2)} L40S-24Q (id 1412)`,
    ]);
  },
);

// Event latency of `mdevctl monitor --source udevadm` (issue 15): not a test.
//
//   deno run -A bench/monitor_latency.ts [ROUNDS]
//
// A fake host and a stand-in udevadm (tests/monitor) that prints what this
// script appends to a file: each round creates a running device in the fake
// sysfs and appends the recorded mdev `add` uevent, then removes it and
// appends the `remove` uevent; the latency is from the append to the line on
// the monitor's stdout. It covers parsing, the 100 ms debounce, the rescan and
// the write; not the kernel-to-udevadm hop (netlink, no measurable delay).
import { FakeHost } from "../tests/helpers/fake_host.ts";
import { fakeUdevadm, MonitorProcess, startMonitor } from "../tests/monitor/helpers.ts";
import { quantile } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? 20);
const host = await FakeHost.create();
try {
  const { env, feed } = await fakeUdevadm(host);
  await host.addParent("mtty", { "mtty-2": { available: 100 } });
  const m: MonitorProcess = await startMonitor(host, ["--source", "udevadm"], env, ["udevadm"]);
  const uevent = (action: string, uuid: string) =>
    `KERNEL[1.0] ${action} /devices/virtual/mtty/mtty/${uuid} (mdev)\nACTION=${action}\n` +
    `DEVPATH=/devices/virtual/mtty/mtty/${uuid}\nSUBSYSTEM=mdev\nSEQNUM=1\n\n`;
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const uuid = `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
    for (const [action, event] of [["add", "started"], ["remove", "stopped"]] as const) {
      if (action === "add") await host.addActive(uuid, "mtty", "mtty-2");
      else await Deno.remove(host.path(`sys/bus/mdev/devices/${uuid}`));
      const n = m.events.length;
      const t0 = performance.now();
      await Deno.writeTextFile(feed, uevent(action, uuid), { append: true });
      await m.until((es) => es.slice(n).some((e) => e.event === event && e.uuid === uuid));
      samples.push(performance.now() - t0);
    }
  }
  await m.stop();
  const q = (p: number) => quantile(samples, p);
  console.log(
    `udevadm source, uevent appended -> line on stdout, ${samples.length} events: ` +
      `median ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${q(1).toFixed(0)} ms ` +
      `(100 ms of it is the debounce of spec §2.2)`,
  );
} finally {
  await host.cleanup();
}

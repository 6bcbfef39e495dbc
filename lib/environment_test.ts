import { deepEqual as assertEquals } from "node:assert/strict";
import { Environment } from "./environment.ts";

Deno.test("Environment: sysfs under the root unless the sandbox's view is given", () => {
  const test = new Environment("/tmp/host");
  assertEquals(test.mdevBase, "/tmp/host/sys/bus/mdev/devices");
  assertEquals(test.parentBase, "/tmp/host/sys/class/mdev_bus");
  assertEquals(test.shownPath("/tmp/host/sys/class/mdev_bus/p"), "/tmp/host/sys/class/mdev_bus/p");
  const sandboxed = new Environment("/", { sysfsView: "/usr/lib/mdevctl/sysfs" });
  assertEquals(sandboxed.mdevBase, "/usr/lib/mdevctl/sysfs/bus/mdev/devices");
  assertEquals(sandboxed.parentPath("mtty"), "/usr/lib/mdevctl/sysfs/class/mdev_bus/mtty");
  // Everything else stays at its real path.
  assertEquals(sandboxed.configFile("mtty", "u"), "/etc/mdevctl.d/mtty/u");
  assertEquals(sandboxed.lockFile, "/run/lock/mdevctl.lock");
  assertEquals(new Environment().mdevBase, "/sys/bus/mdev/devices");
});

Deno.test("Environment.shownPath: messages name /sys for paths in the sandbox's view", () => {
  const env = new Environment("/", { sysfsView: "/usr/lib/mdevctl/sysfs" });
  assertEquals(
    env.shownPath("/usr/lib/mdevctl/sysfs/bus/mdev/devices/u"),
    "/sys/bus/mdev/devices/u",
  );
  assertEquals(env.shownPath("/usr/lib/mdevctl/sysfs"), "/sys");
  // Whole components only; other paths stay as they are.
  assertEquals(env.shownPath("/usr/lib/mdevctl/sysfsx/a"), "/usr/lib/mdevctl/sysfsx/a");
  assertEquals(env.shownPath("/etc/mdevctl.d/p/u"), "/etc/mdevctl.d/p/u");
});

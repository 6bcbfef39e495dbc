import { deepEqual as assertEquals } from "node:assert/strict";
import { Environment } from "./environment.ts";

Deno.test("Environment: sysfs under the root unless a view is given", () => {
  const test = new Environment("/tmp/host");
  assertEquals(test.mdevBase, "/tmp/host/sys/bus/mdev/devices");
  assertEquals(test.parentBase, "/tmp/host/sys/class/mdev_bus");
  const sandboxed = new Environment("/", "/usr/lib/mdevctl/sysfs");
  assertEquals(sandboxed.mdevBase, "/usr/lib/mdevctl/sysfs/bus/mdev/devices");
  assertEquals(sandboxed.parentPath("mtty"), "/usr/lib/mdevctl/sysfs/class/mdev_bus/mtty");
  // Everything else stays at its real path.
  assertEquals(sandboxed.configFile("mtty", "u"), "/etc/mdevctl.d/mtty/u");
  assertEquals(sandboxed.lockFile, "/run/lock/mdevctl.lock");
  assertEquals(new Environment().mdevBase, "/sys/bus/mdev/devices");
});

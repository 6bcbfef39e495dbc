import { deepEqual, equal } from "node:assert/strict";
import { triggerOf, UdevadmParser } from "./udevadm_parser.ts";

const RECORDING = Deno.readTextFileSync(
  new URL("../../tests/monitor/fixtures/udevadm_mtty.txt", import.meta.url),
);

// Recorded in the kernel suite's guest (tests/kernel/scenarios_monitor.sh,
// Debian 6.1, mtty): start and stop of an mtty-2 device, rmmod, insmod.
Deno.test("udevadm parser: a recorded mtty session, fed whole", () => {
  const parser = new UdevadmParser();
  equal(parser.ready, false);
  const events = parser.feed(RECORDING);
  equal(parser.ready, true);
  equal(events.length, 18);
  deepEqual(events[16], {
    action: "change",
    devpath: "/devices/virtual/mtty/mtty",
    subsystem: "mtty",
    properties: new Map([
      ["ACTION", "change"],
      ["DEVPATH", "/devices/virtual/mtty/mtty"],
      ["SUBSYSTEM", "mtty"],
      ["MDEV_STATE", "registered"],
      ["SEQNUM", "703"],
    ]),
  });
  deepEqual(
    events.map((e) => e.properties.get("SEQNUM")),
    Array.from({ length: 18 }, (_, i) => String(687 + i)),
  );
});

Deno.test("udevadm parser: any chunking gives the same events", () => {
  const whole = new UdevadmParser().feed(RECORDING);
  for (const size of [1, 2, 7, 64, 1000]) {
    const parser = new UdevadmParser();
    const events = [];
    for (let i = 0; i < RECORDING.length; i += size) {
      events.push(...parser.feed(RECORDING.slice(i, i + size)));
    }
    deepEqual(events, whole, `chunks of ${size}`);
  }
});

Deno.test("udevadm parser: ready only after the header's blank line", () => {
  const parser = new UdevadmParser();
  parser.feed("monitor will print the received events for:\nKERNEL - the kernel uevent\n");
  equal(parser.ready, false);
  deepEqual(parser.feed("\n"), []);
  equal(parser.ready, true);
});

Deno.test("udevadm parser: noise and a record without a blank line", () => {
  const parser = new UdevadmParser();
  const events = parser.feed(
    "garbage line\nKERNEL[1.0] add /a (mdev)\nSUBSYSTEM=mdev\nKERNEL[1.1] remove /b (pci)\nNOEQUALS\n\n",
  );
  deepEqual(events.map((e) => [e.action, e.devpath, e.subsystem, e.properties.size]), [
    ["add", "/a", "mdev", 1],
    ["remove", "/b", "pci", 0],
  ]);
});

Deno.test("udevadm triggers: mdev events rescan devices, MDEV_STATE rescans parents", () => {
  const triggers = new UdevadmParser().feed(RECORDING).map(triggerOf)
    .map((t) => t.active ? "active" : t.parents ? "parents" : "-");
  deepEqual(triggers, [
    "active", // mdev add (before mdev_type exists)
    "-", // vfio
    "-", // vfio-dev
    "active", // bind
    "-",
    "-",
    "active", // unbind
    "active", // remove
    "parents", // MDEV_STATE=unregistered
    "-", // parent device removed
    "-", // driver
    "-", // class
    "-", // module
    "-",
    "-",
    "-", // parent device added: no MDEV_STATE yet
    "parents", // MDEV_STATE=registered
    "-", // module
  ]);
});

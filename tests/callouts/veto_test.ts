/**
 * A veto is honoured every time, including when the script exits at once
 * without reading its stdin (the broken pipe must not turn into success).
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { P1, U1, withHost } from "../helpers/fake_host.ts";

const T = "typeA";
const RUNS = 100;
const PARALLEL = 10;

Deno.test(`start refused ${RUNS}/${RUNS} times by a script that exits 1 without reading`, () =>
  withHost(async (host) => {
    await host.addParent(P1, { [T]: { available: 1000 } });
    const veto = await host.addScript("veto", "#!/bin/sh\nexit 1\n");
    // A large payload makes the early exit race the write of stdin.
    const attrs = Array.from({ length: 3000 }, (_, i) => ({ [`a${i}`]: "x".repeat(30) }));
    await host.define(P1, U1, { mdev_type: T, start: "manual", attrs });
    const want = {
      code: 1,
      stdout: "",
      stderr: `Error: Script '"${veto}"' failed with status '1'\n`,
    };
    let refused = 0;
    for (let i = 0; i < RUNS; i += PARALLEL) {
      const results = await Promise.all(
        Array.from({ length: PARALLEL }, () => host.run(["start", "-u", U1])),
      );
      for (const r of results) {
        assertEquals(r, want);
        refused++;
      }
    }
    assertEquals(refused, RUNS);
    assertEquals(
      await host.read(`sys/devices/pci0000:00/${P1}/mdev_supported_types/${T}/create`),
      "",
    );
  }));

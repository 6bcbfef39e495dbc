import { deepEqual as assertEquals } from "node:assert/strict";
import { VERSION } from "./version.ts";

const TOP = new URL("..", import.meta.url).pathname;

Deno.test("one version: lib/version.ts, deno.json and package.json agree", async () => {
  const deno = JSON.parse(await Deno.readTextFile(`${TOP}deno.json`));
  const npm = JSON.parse(await Deno.readTextFile(`${TOP}package.json`));
  assertEquals({ deno: deno.version, npm: npm.version }, { deno: VERSION, npm: VERSION });
});

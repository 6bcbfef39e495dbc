import { deepEqual as assertEquals } from "node:assert/strict";
import { configToJson, MdevDevice, newDevice } from "./config.ts";
import {
  formatAttrs,
  formatListJson,
  formatListText,
  formatTypesJson,
  formatTypesText,
} from "./format.ts";
import { JsonObject, obj, toPrettyJson } from "./json.ts";

const d = (uuid: string, parent: string, attrs: [string, string][] = []): MdevDevice =>
  newDevice(uuid, { parent, type: "t", autostart: parent === "1234", attrs });

Deno.test("list --dumpjson, streamed per parent, equals the whole tree printed at once", () => {
  const groups = new Map([
    ["1234", [d("a", "1234", [["k", 'v"\n']])]],
    ["p", [d("b", "p"), d("c", "p", [["x", "1"], ["x", "2"]])]],
  ]);
  const tree = [
    new JsonObject(
      [...groups].map(([p, list]) => [
        p,
        list.map((x) =>
          obj([x.uuid, configToJson({ type: "t", autostart: x.autostart, attrs: x.attrs })])
        ),
      ]),
    ),
  ];
  assertEquals(formatListJson(groups, false), toPrettyJson(tree) + "\n");
  assertEquals(formatListJson(new Map(), false), "[]\n");
  assertEquals(
    formatListJson(new Map([["p", [d("b", "p")]]]), true),
    '{\n  "mdev_type": "t",\n  "start": "manual",\n  "attrs": []\n}\n',
  );
});

Deno.test("list text: lines, suffixes, raw verbose attributes", () => {
  const groups = new Map([["p", [{ device: d("b", "p", [["a", 'x"y']]), suffix: " (active)" }]]]);
  assertEquals(formatListText(groups, false), "b p t manual (active)\n");
  assertEquals(
    formatListText(groups, true),
    'b p t manual (active)\n  Attrs:\n    @{0}: {"a":"x"y"}\n',
  );
  assertEquals(formatAttrs([]), "");
});

Deno.test("types: optional lines only when non-empty; JSON key order", () => {
  const groups = new Map([
    ["p", [{
      name: "t",
      availableInstances: 3,
      deviceApi: "vfio-pci",
      displayName: undefined,
      description: "a, b",
      rawDescription: "a\nb\n",
    }]],
    ["q", []],
  ]);
  assertEquals(
    formatTypesText(groups),
    "p\n  t\n    Available instances: 3\n    Device API: vfio-pci\n    Description: a, b\nq\n",
  );
  assertEquals(
    formatTypesJson(groups),
    '[\n  {\n    "p": [\n      {\n        "t": {\n          "available_instances": 3,\n' +
      '          "device_api": "vfio-pci",\n          "description": "a, b"\n        }\n      }\n' +
      '    ],\n    "q": []\n  }\n]\n',
  );
  assertEquals(formatTypesJson(new Map()), "[]\n");
});

import { deepEqual, equal, throws } from "node:assert/strict";
import { inline, markdownToMan, renderBlocks } from "./gen_doc_man.ts";

Deno.test("inline: code is literal (minus signs, backslashes), markup becomes fonts", () => {
  equal(inline("run `mdevctl diff -f -` now"), "run \\fBmdevctl diff \\-f \\-\\fR now");
  equal(inline('`reason="a \\"b\\""`'), '\\fBreason="a \\e"b\\e""\\fR');
  equal(inline("**Lock.** _owner_ and *pool*"), "\\fBLock.\\fR \\fIowner\\fR and \\fIpool\\fR");
  equal(inline("see [Profiles](#profiles)"), "see Profiles");
  equal(inline("a\\_b and snake_case_name"), "a_b and snake_case_name");
  equal(inline("N−1 … →"), "N\\[u2212]1 \\[u2026] \\[u2192]");
});

Deno.test("blocks: headings, paragraphs joined, lines never taken for requests", () => {
  deepEqual(renderBlocks(["## Exit `status`", "", "one", "two", "", "### Sub", ".dot"]), [
    ".SH",
    "EXIT STATUS",
    ".PP",
    "one two",
    ".SS",
    "Sub",
    ".PP",
    "\\&.dot",
  ]);
});

Deno.test("blocks: lists nest, continue after a blank line, and end at the margin", () => {
  deepEqual(
    renderBlocks([
      "1. first",
      "   more",
      "   - inner",
      "   - next",
      "",
      "   after",
      "2. second",
      "",
      "text",
    ]),
    [
      ".IP 1. 4",
      "first more",
      ".RS",
      ".IP \\(bu 2",
      "inner",
      ".IP \\(bu 2",
      "next",
      ".RE",
      '.IP "" 4',
      "after",
      ".IP 2. 4",
      "second",
      ".PP",
      "text",
    ],
  );
});

Deno.test("blocks: code blocks are literal; tables become tagged paragraphs", () => {
  deepEqual(renderBlocks(["```sh", "a -b \\x", "'quoted", "```"]), [
    ".PP",
    ".RS 4",
    ".nf",
    "a \\-b \\ex",
    "\\&'quoted",
    ".fi",
    ".RE",
  ]);
  deepEqual(
    renderBlocks(["| s | `apply` | `diff` |", "| - | --- | --- |", "| 3 |  | drift |"]),
    [".TP", "3", "\\fBdiff\\fR: drift"],
  );
  deepEqual(renderBlocks(["| name | UUID |", "| - | - |", "| `a` | b |"]), [
    ".TP",
    "\\fBa\\fR",
    "b",
  ]);
});

Deno.test("markdownToMan: NAME from the title, DESCRIPTION from the text before the first section", () => {
  const page = { source: "x.md", name: "mdevctl-x", section: 5, manual: "File Formats" };
  const text = markdownToMan("# Host `files`\n\nIntro.\n\n## Usage\n\nBody.\n", page, "2026-01-01");
  const lines = text.split("\n");
  equal(lines[1]!.startsWith('.TH MDEVCTL-X 5 "2026-01-01" "mdevctl '), true);
  deepEqual(lines.slice(2), [
    ".nh",
    ".SH NAME",
    "mdevctl-x \\- host files",
    ".SH DESCRIPTION",
    ".PP",
    "Intro.",
    ".SH",
    "USAGE",
    ".PP",
    "Body.",
    "",
  ]);
  throws(() => markdownToMan("no title\n", page), /no "# " title/);
});

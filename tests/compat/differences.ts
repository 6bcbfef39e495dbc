// The table of every deliberate difference between Debian's mdevctl 1.2.0 and
// ours (spec §0 decisions, and the §11 rows where we follow upstream HEAD).
//
// The compatibility suite compares the two tools byte for byte except where a
// scenario (or one command of it) names one of these ids; then exactly the
// normalisation written here is applied, and nothing else.  Entries marked
// `global` apply to every command of every scenario (they describe how the
// harness compares at all, e.g. stderr).  Entries whose `mechanism` is "none"
// need no normalisation against 1.2.0 and are listed so that the table is a
// complete record of what we decided.
//
// Mechanisms (implemented in compat.ts):
//   "none"          documentation only; no normalisation.
//   "stdout"        `normStdout` is applied to Debian's stdout (and, in self-test
//                   mode where "ours" is Debian's binary too, to ours as well, so
//                   either form is accepted).
//   "both-stdout"   `normStdout` is applied to both sides (value legitimately
//                   differs, e.g. the version number).
//   "status"        `mapStatus` maps Debian's exit status to the one we expect
//                   from ours (applied to ours too in self-test mode).
//   "no-error-line" the `Error:` top line of stderr is not compared even if the
//                   command asks for it (`sameError`).
//   "expect-ours"   Debian's result for that command is not used; the command
//                   gives `expectOurs` (status, optionally literal stdout).
//   "debian-alt"    Debian runs `debianAlt` (other argv, maybe none) that has the
//                   same effect in 1.2.0; the last one's result is compared.
//   "host"          the fake host is built differently for Debian (see
//                   `debianHost`); the scenario compares everything else as usual.
//   "state"         `normState` is applied to both final-state listings.
//   "expect-log"    the scenario gives `expectOursLog` (the callout log lines
//                   ours must produce) instead of comparing with Debian's log.
//   "nonempty-stdout" stdout is not compared; ours must print something (exit
//                   status is still compared).

export type Mechanism =
  | "none"
  | "stdout"
  | "both-stdout"
  | "status"
  | "no-error-line"
  | "expect-ours"
  | "debian-alt"
  | "host"
  | "state"
  | "nonempty-stdout"
  | "expect-log";

export interface Difference {
  id: string;
  /** where the decision is written down */
  source: string;
  debian: string;
  ours: string;
  mechanism: Mechanism[];
  global?: boolean;
  normStdout?: (s: string) => string;
  mapStatus?: (status: number) => number;
  /** state entries are "path\tdescription" lines, sorted */
  normState?: (lines: string[]) => string[];
}

export const DIFFERENCES: Difference[] = [
  {
    id: "stderr-text",
    source: "brief; §4.2, §10.3, §11 rows 14/15/26",
    debian: "clap 3 / 1.2.0 wording of errors and warnings",
    ours: "HEAD wording, our warnings",
    mechanism: ["none"],
    global: true,
    // Implemented by the harness itself: stderr is never compared byte for
    // byte. When ours exits non-zero its stderr must be non-empty. Commands
    // marked `sameError` additionally compare the first `Error:` line (only
    // used for messages that 1.2.0 and HEAD share literally, §10.3).
  },
  {
    id: "text-trailing-newline",
    source: "§0.1, §11 row 24",
    debian:
      "text output of list/types/lsmdev gets one extra \\n (a blank line; empty result is a single \\n)",
    ours: "every line ends in \\n, no extra blank line, empty result is 0 bytes",
    mechanism: ["stdout"],
    normStdout: (s) => (s.endsWith("\n") ? s.slice(0, -1) : s),
  },
  {
    id: "dumpjson-newline",
    source: "§0.1, §11 row 24",
    debian: "--dumpjson output ends in exactly one \\n",
    ours: "same as 1.2.0 (HEAD would print no trailing newline)",
    mechanism: ["none"],
  },
  {
    id: "version-string",
    source: "§0.2, §11 row 28",
    debian: "`mdevctl 1.2.0`, `lsmdev 1.2.0`, `mdevctl-list 1.2.0`",
    ours: "`<name> <our version>`",
    mechanism: ["both-stdout"],
    normStdout: (s) => s.replace(/^(mdevctl|lsmdev|mdevctl-list) [^\s]+\n$/, "$1 <version>\n"),
  },
  {
    id: "usage-error",
    source: "§4.2, §11 row 26",
    debian: "clap 3 message (`USAGE:`), exit 2",
    ours: "our message, exit 2",
    mechanism: ["none"],
    // exit status 2 and empty stdout are still compared; stderr only has to be
    // non-empty (global rule).
  },
  {
    id: "help-text",
    source: "§4.2, §13 (our own wording; no upstream text is copied)",
    debian: "clap 3 help text",
    ours: "our own help text (same options), exit 0",
    mechanism: ["nonempty-stdout"],
  },
  {
    id: "undefine-failure-exit",
    source: "§5.2, §11 row 19",
    debian: "a failing undefine (e.g. callout veto) is ignored, exit 0",
    ours: "warning per failure + `Undefine failed`, exit 1",
    mechanism: ["status"],
    mapStatus: (s) => (s === 0 ? 1 : s),
  },
  {
    id: "stop-inactive-message",
    source: "§5.5, §11 row 23",
    debian: "`Error removing device <uuid>` + ENOENT cause, exit 1",
    ours: "`Device must have a defined mdev_type`, exit 1",
    mechanism: ["no-error-line"],
  },
  {
    id: "panic-is-error",
    source: "§0.7, §11 rows 20/22",
    debian:
      "panic, exit 101 (e.g. `--delattr --index N` with N = count, non-string attribute value)",
    ours: "`Error: ...`, exit 1",
    mechanism: ["status"],
    mapStatus: (s) => (s === 101 ? 1 : s),
  },
  {
    id: "modify-option-rules",
    source: "§5.3, §11 row 10",
    debian:
      "no required group: `-t` alone changes the type, `--value` without `--addattr` is ignored",
    ours:
      "exactly one of --auto/--manual/--addattr/--delattr/--jsonfile; --value needs --addattr: usage error, exit 2, nothing changed",
    mechanism: ["debian-alt", "expect-ours"],
    // Such a command has `debianAlt: []` (Debian runs nothing, so Debian's
    // final state is the unchanged one that ours must also leave) and
    // `expectOurs: {status: 2, stdout: ""}`.
  },
  {
    id: "modify-jsonfile",
    source: "§5.3, §11 row 8",
    debian: "`modify --jsonfile` does not exist (usage error)",
    ours: "replaces the stored definition with the file's content",
    mechanism: ["debian-alt"],
    // Debian runs `undefine` + `define --jsonfile` instead, which stores the
    // same bytes; the define's result is compared.
  },
  {
    id: "force-option",
    source: "§4.5, §8.4, §11 row 9",
    debian: "no -f/--force option (usage error)",
    ours: "-f/--force overrides a failing pre callout; without callouts it changes nothing",
    mechanism: ["debian-alt"],
    // Debian runs the same command without --force; used only where no
    // callout fails, so the result must be identical.
  },
  {
    id: "callout-dirs",
    source: "§1.2, §8.1, §11 rows 1/2/3",
    debian: "reads callouts/notifiers only from /etc/mdevctl.d/scripts.d/{callouts,notifiers}",
    ours: "reads /usr/lib/mdevctl/scripts.d/... first, then /etc/mdevctl.d/scripts.d/...",
    mechanism: ["host"],
    // On the Debian side scripts that ours finds in /usr/lib/mdevctl/scripts.d
    // are placed in /etc/mdevctl.d/scripts.d instead (only used where the
    // result cannot depend on directory order).
  },
  {
    id: "callout-protocol",
    source: "§8, §11 rows 5/6/12/13/16/17/18",
    debian: "no capabilities query, directory order, notify gets the config on stdin",
    ours: "capabilities query first (versioned scripts), sorted order, empty notify stdin",
    mechanism: ["none"],
    // The suite's test scripts answer the capabilities query with exit 2 and
    // do not log it, log notify events without stdin, and no scenario has two
    // scripts that would both claim a device, so none of this shows.
  },
  {
    id: "define-running-attrs-order",
    source: "§5.1, §8.4, §8.9, §11 rows 12/13",
    debian:
      "define of a running device asks the callout for attributes before the pre callout; pre/post stdin include them; a failing get aborts before pre",
    ours:
      "pre runs first with the config as computed before the primary step (no callout attrs); get/attributes is part of the primary step; its failure gives post state failure",
    mechanism: ["expect-log"],
  },
  {
    id: "active-list-attrs",
    source: "§1.6, §11 row 11",
    debian: "active `list` of a defined device shows the definition's attributes (and type)",
    ours: "only the start mode comes from the definition; attributes only from callouts",
    mechanism: ["expect-ours"],
  },
  {
    id: "bad-file-skipped",
    source: "§0.6",
    debian: "one corrupt config aborts `list -d` (exit 1)",
    ours: "warning naming the file, the rest is listed, exit 0",
    mechanism: ["expect-ours"],
  },
  {
    id: "no-self-check",
    source: "§0.3, §1.3, §11 row 3",
    debian:
      "every command (even --version) fails when /etc/mdevctl.d/scripts.d/{callouts,notifiers} is missing",
    ours: "no start-up check; a missing script directory is an empty one",
    mechanism: ["expect-ours"],
  },
  {
    id: "negative-instances",
    source: "§0.8, §16.7",
    debian: "a negative available_instances passes the availability check (create is written)",
    ours: "a negative available_instances means no instances: start fails, nothing written",
    mechanism: ["debian-alt", "expect-ours"],
    // Such a start has `debianAlt: []` (Debian's final state is then the
    // unchanged one ours must leave) and `expectOurs: {status: 1, stdout: ""}`.
  },
  {
    id: "lock-file",
    source: "§0.5",
    debian: "no locking",
    ours: "an exclusive lock file (under /run/lock or the config root)",
    mechanism: ["state"],
    global: true,
    // /run/lock is not part of the compared state; a lock file directly in
    // the config root named like a hidden lock file is ignored.
    normState: (lines) => lines.filter((l) => !/^etc\/mdevctl\.d\/\.[^/\t]*lock[^/\t]*\t/.test(l)),
  },
];

export const DIFF_BY_ID: Map<string, Difference> = new Map(
  DIFFERENCES.map((d) => [d.id, d]),
);

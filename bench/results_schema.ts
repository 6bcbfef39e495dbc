// The JSON that bench/measure.ts writes and bench/report.ts reads: one file per host.

/** All runs of one tool for one command. */
export interface Sample {
  tool: string;
  status: "ok" | "n/a";
  reason?: string;
  times_ms: number[];
  maxrss_kib: number[];
  /** User + system time per memory run; absent in files from older runs. */
  cpu_ms?: number[];
  failed_runs?: number;
}

/** One command, measured for every tool. */
export interface CommandResult {
  command: string;
  args: string[];
  same_output: boolean | null;
  output_note?: string;
  /** Set when fewer runs than asked were made (the command is too slow for the budget). */
  runs?: number;
  samples: Sample[];
}

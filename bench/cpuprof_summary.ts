// Summarises a V8 .cpuprofile (from `deno run --cpu-prof`): self time and total
// (inclusive) time per function, largest first.
//
//   deno run -A bench/cpuprof_summary.ts FILE.cpuprofile [TOP]

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = Deno.args[0];
if (!file) {
  console.error("usage: cpuprof_summary.ts FILE.cpuprofile [TOP]");
  Deno.exit(2);
}
const top = Number(Deno.args[1] ?? 25);
const prof: Profile = JSON.parse(Deno.readTextFileSync(file));

const byId = new Map<number, ProfileNode>();
const parentOf = new Map<number, number>();
for (const n of prof.nodes) {
  byId.set(n.id, n);
  for (const c of n.children ?? []) parentOf.set(c, n.id);
}

const label = (n: ProfileNode) => {
  const f = n.callFrame;
  const where = f.url
    ? `${f.url.replace(/^.*\/(lib|ext|bench|dist)\//, "$1/")}:${f.lineNumber + 1}`
    : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
};

const selfUs = new Map<string, number>();
const totalUs = new Map<string, number>();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0; // the delta that follows sample i
  let id: number | undefined = prof.samples[i]!;
  const leaf = byId.get(id)!;
  selfUs.set(label(leaf), (selfUs.get(label(leaf)) ?? 0) + dt);
  const seen = new Set<string>();
  while (id !== undefined) {
    const l = label(byId.get(id)!);
    if (!seen.has(l)) {
      seen.add(l);
      totalUs.set(l, (totalUs.get(l) ?? 0) + dt);
    }
    id = parentOf.get(id);
  }
}

const wall = (prof.endTime - prof.startTime) / 1000;
console.log(`profile: ${wall.toFixed(1)} ms, ${prof.samples.length} samples`);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${(v / 1000).toFixed(1).padStart(9)} ms  ${
        (100 * v / 1000 / wall).toFixed(1).padStart(5)
      }%  ${k}`,
    );
  }
};
show("self time", selfUs);
show("total time (inclusive)", totalUs);

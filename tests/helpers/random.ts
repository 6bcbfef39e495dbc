/** A small seeded generator (mulberry32) so randomised tests can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from MDEVCTL_TEST_SEED, or a fresh one; printed so a failure can be replayed. */
export function testSeed(name: string): number {
  const given = Deno.env.get("MDEVCTL_TEST_SEED");
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  console.log(`${name}: seed ${seed} (replay with MDEVCTL_TEST_SEED=${seed})`);
  return seed;
}

// Intentionally empty: the "bare Deno floor" of bench/measure.ts runs this file.

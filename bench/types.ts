/** One line of the benchmark table and of bench/results/latest.json. */
export interface BenchResult {
  id: string; // e.g. "P1", "F1"
  name: string;
  value: number;
  unit: string;
  /** The SPEC §3 goal as text, or null when the scenario has none. */
  goal: string | null;
  /** The same measurement on the baseline run in the same process (e.g. no-op route, raw SQL). */
  baseline: number | null;
  /** value / baseline (or the ratio that makes sense for the unit), null without baseline. */
  ratio: number | null;
}

/** Every bench/*.bench.ts file default-exports one of these. */
export type BenchScenario = () => Promise<BenchResult[]>;

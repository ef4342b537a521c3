import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, BenchScenario } from './types.ts';

/**
 * Runs every bench/*.bench.ts (or those whose file name contains an argument), prints one table and
 * writes bench/results/latest.json. Not part of `npm test`: timings belong here, never in tests.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const results: BenchResult[] = [];
for (const file of files) {
  const started = Date.now();
  process.stderr.write(`running ${file} …\n`);
  try {
    const scenario = (await import(path.join(here, file))).default as BenchScenario;
    results.push(...(await scenario()));
    process.stderr.write(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    process.stderr.write(`  FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
}

printTable(results);
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
process.stderr.write(`wrote bench/results/latest.json (${results.length} rows)\n`);
process.exit();

function printTable(rows: BenchResult[]): void {
  const header = ['id', 'scenario', 'value', 'unit', 'baseline', 'ratio', 'goal'];
  const cells = rows.map((r) => [
    r.id,
    r.name,
    fmt(r.value),
    r.unit,
    r.baseline === null ? '-' : fmt(r.baseline),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.goal ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 2 || i === 4 || i === 5 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

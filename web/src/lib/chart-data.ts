/** Logs query result → chart series, for `render` visualizations and the overview tiles. */
import type { LogsTable } from './api.ts';

export type ChartKind = 'timechart' | 'linechart' | 'areachart' | 'barchart' | 'columnchart' | 'piechart';
export const CHART_KINDS: readonly string[] = ['timechart', 'linechart', 'areachart', 'barchart', 'columnchart', 'piechart'];

export interface ChartSpec {
  kind: ChartKind;
  /** Category labels (bar/column/pie) or ISO timestamps (time series). */
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
  stacked: boolean;
}

const isNumeric = (t: string) => t === 'long' || t === 'int' || t === 'real' || t === 'decimal';

export function toChartSpec(table: LogsTable, kind: ChartKind): ChartSpec {
  const cols = table.columns.map((c, i) => ({ ...c, i }));
  const timeCol = cols.find((c) => c.type === 'datetime');
  const numCols = cols.filter((c) => isNumeric(c.type));
  const textCols = cols.filter((c) => !isNumeric(c.type) && c !== timeCol);
  const timeSeries = kind === 'timechart' || kind === 'linechart' || kind === 'areachart';
  const xCol = timeSeries ? (timeCol ?? textCols[0]) : (textCols[0] ?? timeCol);
  const seriesCol = timeSeries ? textCols.find((c) => c !== xCol) : textCols.find((c) => c !== xCol);
  if (!xCol || numCols.length === 0) return { kind, categories: [], series: [], stacked: false };

  const categories: string[] = [];
  const catIndex = new Map<string, number>();
  const label = (v: unknown) => (v === null || v === undefined || v === '' ? '(empty)' : String(v));
  for (const row of table.rows) {
    const c = label(row[xCol.i]);
    if (!catIndex.has(c)) catIndex.set(c, categories.push(c) - 1);
  }
  if (timeSeries) {
    const order = [...categories].sort();
    categories.splice(0, categories.length, ...order);
    order.forEach((c, i) => catIndex.set(c, i));
  }
  const series = new Map<string, (number | null)[]>();
  const seriesFor = (name: string) => {
    let s = series.get(name);
    if (!s) series.set(name, (s = categories.map(() => (timeSeries ? 0 : null))));
    return s;
  };
  for (const row of table.rows) {
    const x = catIndex.get(label(row[xCol.i]))!;
    if (seriesCol && kind !== 'piechart') {
      const s = seriesFor(label(row[seriesCol.i]));
      s[x] = (s[x] ?? 0) + Number(row[numCols[0].i] ?? 0);
    } else {
      for (const n of kind === 'piechart' ? numCols.slice(0, 1) : numCols) {
        const s = seriesFor(n.name);
        s[x] = (s[x] ?? 0) + Number(row[n.i] ?? 0);
      }
    }
  }
  return { kind, categories, series: [...series].map(([name, values]) => ({ name, values })), stacked: !!seriesCol && !timeSeries };
}

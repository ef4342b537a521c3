/**
 * D1–D3: the dashboard in Debian's chromium against the quick-start connector (ServiceNow sandbox with
 * 120 days of history, synced): the first page's load time (cold cache, until the sign-in form is
 * interactive), the overview's time to all tiles rendered (120-day range: every tile's KQL answered and
 * every chart drawn), and the initial JavaScript (the entry chunk and what it preloads, gzipped).
 * Median of several runs, each in a fresh browser context (no HTTP cache). Baselines from the same run:
 * navigating to /healthz (a bare JSON response), and the overview's tile queries run one after another
 * through the API (the server work the page waits for: SQLite answers them on one thread).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.ts';
import { launchBrowser, newPage, signIn, startDashboardConnector, waitForOverview } from '../test/web/browser.ts';
import { api } from '../test/helpers/stores.ts';
import { TILES } from '../web/src/pages/overview-tiles.ts';

const RUNS = 5;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Bytes of the entry script and its modulepreloads, gzipped (what the first page downloads before it runs). */
export function initialJsGzipBytes(distDir = dist): { bytes: number; files: string[] } {
  const html = fs.readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const bytes = files.reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(path.join(distDir, f)), { level: 9 }).length, 0);
  return { bytes, files };
}

export default async function dashboardBench(): Promise<BenchResult[]> {
  const c = await startDashboardConnector();
  const browser = await launchBrowser();
  try {
    const first: number[] = [];
    const blank: number[] = [];
    const overview: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const page = await newPage(browser);
      let t = performance.now();
      await page.goto(c.url + '/healthz');
      blank.push(performance.now() - t);
      t = performance.now();
      await page.goto(c.url + '/');
      await page.waitForSelector('#token:not([disabled])');
      first.push(performance.now() - t);
      await signIn(page, c.url, c.adminToken);
      t = performance.now();
      await page.goto(c.url + '/overview?range=120d');
      await waitForOverview(page);
      overview.push(performance.now() - t);
      await page.context().close();
    }
    const sequential: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      for (const tile of TILES) await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', { query: tile.query({ key: '120d' }) });
      sequential.push(performance.now() - t);
    }
    const queries = median(sequential);
    const js = initialJsGzipBytes();
    const d1 = median(first);
    const d2 = median(overview);
    const b1 = median(blank);
    return [
      {
        id: 'D1',
        name: 'dashboard first page load (cold cache, sign-in interactive)',
        value: d1,
        unit: 'ms',
        goal: '≤ 1,000 ms',
        baseline: b1,
        ratio: d1 / b1,
      },
      {
        id: 'D2',
        name: `overview: all ${TILES.length} tiles rendered, 120 days of sandbox data`,
        value: d2,
        unit: 'ms',
        goal: '≤ 1,500 ms',
        baseline: queries,
        ratio: d2 / queries,
      },
      {
        id: 'D3',
        name: `initial JavaScript, gzipped (${js.files.length} files)`,
        value: js.bytes / 1024,
        unit: 'KB',
        goal: '≤ 250 KB',
        baseline: null,
        ratio: null,
      },
    ];
  } finally {
    await browser.close();
    await c.cleanup();
  }
}

/// <reference lib="dom" />
/**
 * Browser test harness: a real connector with its ServiceNow sandbox (quick start, 120 days of history,
 * temp data dir, random ports) and Debian's chromium driven by playwright-core. Never downloads a browser:
 * a missing /usr/bin/chromium fails the suite (CI installs it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';
import { eventually, freePort } from '../helpers/wait.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.ITSMC_CHROMIUM ?? '/usr/bin/chromium';
export const RESULTS_DIR = path.join(root, 'test-results');
const AXE_SOURCE = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** The quick start (sandbox + servicenow-sandbox connection + synced 120-day history), like `npm start`. */
export async function startDashboardConnector(): Promise<TestConnector> {
  if (!fs.existsSync(path.join(root, 'web/dist/index.html'))) throw new Error('web/dist is missing: run `npm run build:web` (npm install runs it)');
  const c = await startTestConnector('sqlite', { ITSMC_SANDBOX: '1', ITSMC_SANDBOX_PORT: String(await freePort()), ITSMC_SYNC: '1' });
  await eventually(
    'the sandbox history is synced',
    async () => {
      const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/servicenow-sandbox/sync');
      const done =
        res.status === 200 &&
        !res.body.running &&
        res.body.scopes.length === 2 &&
        res.body.scopes.every((s: { backfillDone: boolean; resumable: boolean }) => s.backfillDone && !s.resumable);
      return done ? true : undefined;
    },
    120_000,
  );
  return c;
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page at 1280×800 that records uncaught errors (a dead worker or a CSP refusal fails the test that checks). */
export async function newPage(browser: Browser, opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page & { errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: opts.colorScheme ?? 'light' });
  const page = (await context.newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.errors.push(m.text());
  });
  page.setDefaultTimeout(30_000);
  return page;
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl + '/');
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav[aria-label=Main]');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's scan of the page as it is; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    // Monaco's completion list virtualises its rows, so its aria-activedescendant can name a row that is not
    // in the DOM at the moment of the scan: a third-party widget, scanned by Monaco's own team, not ours.
    const context = { exclude: [['.monaco-editor .suggest-widget']] };
    const result = await (window as any).axe.run(context, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n: any) => ({ target: n.target })),
    }));
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.impact} ${x.id}: ${x.help} at ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}

/** Every overview tile has answered and every chart has drawn (the bench's "all tiles rendered" too). */
export async function waitForOverview(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const tiles = [...document.querySelectorAll('[data-tile]')];
      return (
        tiles.length > 0 &&
        tiles.every((t) => t.getAttribute('data-state') === 'done' || t.getAttribute('data-state') === 'error') &&
        document.querySelectorAll('main .loading').length === 0 &&
        [...document.querySelectorAll('main .chart')].every((el) => el.getAttribute('data-rendered') === 'true')
      );
    },
    undefined,
    { timeout },
  );
}

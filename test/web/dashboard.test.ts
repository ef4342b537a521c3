/// <reference lib="dom" />
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { api, type TestConnector } from '../helpers/stores.ts';
import { metricAlert, sandboxGet } from '../delivery/helpers.ts';
import { SEEDED_CREDENTIALS } from '../../src/sandbox/servicenow/index.ts';
import { eventually } from '../helpers/wait.ts';
import { describeViolations, launchBrowser, newPage, screenshot, seriousViolations, signIn, startDashboardConnector, waitForOverview } from './browser.ts';

describe('dashboard in a real browser against a real connector and sandbox', () => {
  let c: TestConnector;
  let browser: Browser;
  let page: Page & { errors: string[] };

  const scan = async (name: string) => {
    await screenshot(page, name);
    const serious = await seriousViolations(page);
    assert.deepEqual(serious, [], `${name}: axe serious/critical violations:\n${describeViolations(serious)}`);
  };
  const go = async (path: string) => {
    await page.goto(c.url + path);
    await page.waitForSelector('main#main');
  };
  const runQuery = async (query: string) => {
    const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', { query });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.tables[0] as { columns: { name: string }[]; rows: unknown[][] };
  };
  /** Replaces the editor's text (Monaco owns the textarea, so type through the keyboard). */
  const typeQuery = async (kql: string) => {
    await page.click('[data-testid=kql-editor] .view-lines');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(kql);
  };

  before(async () => {
    [c, browser] = await Promise.all([startDashboardConnector(), launchBrowser()]);
    page = await newPage(browser);
  });
  after(async () => {
    await browser?.close();
    await c?.cleanup();
  });

  it('serves the app at / with a CSP, long-cached hashed assets, and keeps unknown API paths JSON 404s', async () => {
    const index = await fetch(c.url + '/connections');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, html);
    const js = await fetch(c.url + asset);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    const missing = await api(c.url, c.adminToken, 'GET', '/api/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NotFound');
  });

  it('signs in with the admin token, refuses a wrong one, and never puts the token in the URL', async () => {
    await page.goto(c.url + '/');
    await scan('01-sign-in');
    await page.fill('#token', 'itsma_not-a-real-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('#token-error');
    assert.match((await page.textContent('#token-error')) ?? '', /not valid/);
    await signIn(page, c.url, c.adminToken);
    assert.ok(!page.url().includes(c.adminToken));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('itsmc.token')), c.adminToken);
    assert.equal(await page.evaluate(() => localStorage.getItem('itsmc.token')), null);
  });

  it('overview tiles show the numbers their own KQL returns', async () => {
    await go('/overview?range=120d');
    await waitForOverview(page);
    assert.equal(await page.locator('[data-tile][data-state=error]').count(), 0, 'no tile query fails');
    for (const id of ['kpi-incidents', 'kpi-changes', 'kpi-open', 'kpi-mttr']) {
      const tile = page.locator(`[data-tile=${id}]`);
      const shown = await tile.locator('.kpi').getAttribute('data-value');
      const href = await tile.locator('a.open-in-logs').getAttribute('href');
      const kql = new URL(href!, c.url).searchParams.get('q')!;
      const table = await runQuery(kql);
      assert.equal(shown, String(table.rows[0][0]), `${id}: ${kql}`);
      assert.ok(Number(shown) > 0, `${id} shows ${shown}`);
    }
    const computers = page.locator('[data-tile=impacted-computers]');
    const kql = new URL((await computers.locator('a.open-in-logs').getAttribute('href'))!, c.url).searchParams.get('q')!;
    const top = await runQuery(kql);
    const firstRow = await computers.locator('tbody tr').first().locator('td').allTextContents();
    assert.equal(firstRow[0], String(top.rows[0][0]));
    assert.equal(firstRow[1], String(top.rows[0][1]));
    await scan('02-overview');
  });

  it('creates a ServiceNow connection through the form, with inline validation errors first', async () => {
    await go('/connections');
    await page.click('text=Add connection');
    assert.match((await page.textContent('#h-serverUrl')) ?? '', /service-now\.com/, 'the form comes from the partner descriptor');
    await page.fill('#f-name', 'snow-ui');
    await page.fill('#f-serverUrl', 'not a url');
    await page.click('button:has-text("Create connection")');
    await page.waitForSelector('#e-serverUrl');
    assert.match((await page.textContent('#e-serverUrl')) ?? '', /full URL/);
    assert.equal(await page.getAttribute('#f-serverUrl', 'aria-invalid'), 'true');
    assert.ok(await page.isVisible('#e-username'), 'a missing required field is flagged too');
    await scan('03-connection-form-errors');

    const creds = SEEDED_CREDENTIALS;
    await page.fill('#f-serverUrl', 'https://example.com');
    await page.fill('#f-username', creds.integration.user);
    await page.fill('#f-password', creds.integration.password);
    await page.fill('#f-clientId', creds.oauthClient.clientId);
    await page.fill('#f-clientSecret', creds.oauthClient.clientSecret);
    await page.click('button:has-text("Create connection")');
    await page.waitForSelector('#e-serverUrl');
    assert.ok((await page.textContent('#e-serverUrl'))!.length > 5, 'the connector’s own refusal shows next to the field');

    await page.fill('#f-serverUrl', c.sandboxUrl!);
    await page.fill('#f-password', creds.integration.password);
    await page.click('button:has-text("Create connection")');
    const row = page.locator('tr[data-connection="snow-ui"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Healthy/);
    const stored = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/snow-ui');
    assert.equal(stored.body.serverUrl, c.sandboxUrl);
    await scan('04-connections');

    await page.click('button:has-text("Edit snow-ui")');
    assert.equal(await page.inputValue('#f-password'), '', 'password fields are never pre-filled');
    assert.equal(await page.inputValue('#f-clientSecret'), '');
    await page.click('button:has-text("Cancel")');
  });

  it('refuses to delete a connection in use and names the action groups', async () => {
    await go('/connections');
    page.once('dialog', (d) => d.accept());
    await page.locator('tr[data-connection="servicenow-sandbox"] button:has-text("Delete")').click();
    await page.waitForSelector('tr[data-connection="servicenow-sandbox"] [role=alert]');
    assert.match((await page.textContent('tr[data-connection="servicenow-sandbox"] [role=alert]')) ?? '', /used by action groups: sandbox/);
  });

  it('creates an action group in the editor; an alert to its webhook shows on the delivery page and the computer page', async () => {
    await go('/action-groups');
    await page.click('text=Add action group');
    await page.fill('#ag-name', 'ui-group');
    await page.selectOption('#a0-conn', 'servicenow-sandbox');
    await page.fill('#a0-newfield', 'description');
    await page.click('button:has-text("Add field")');
    await page.fill('#a0-f-description', 'Rule ');
    await page.focus('#a0-f-description');
    await page.selectOption('#a0-ph', 'alert.rule');
    assert.equal(await page.inputValue('#a0-f-description'), 'Rule {{alert.rule}}');
    await page.selectOption('select[id^="pv-"]', 'azure-common-metric');
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-preview-field=description]')?.textContent ?? '').startsWith('Rule ') &&
        !document.querySelector('[data-preview-field=description]')!.textContent!.includes('{{'),
    );
    await scan('05-action-group-editor');
    await page.click('button:has-text("Create action group")');
    await page.locator('tr[data-group="ui-group"]').waitFor();
    await scan('06-action-groups');

    const group = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/ui-group');
    const posted = await fetch(group.body.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metricAlert({ rule: 'Dashboard CPU', alertId: 'dash-1', cis: ['vm-dash-01'] })),
    });
    assert.equal(posted.status, 202);

    await go('/delivery');
    await page.waitForFunction(
      () =>
        /Created/.test(document.querySelector('section[aria-labelledby=out-title]')?.textContent ?? '') &&
        /Dashboard CPU/.test(document.querySelector('section[aria-labelledby=out-title]')!.textContent!),
      undefined,
      { timeout: 60_000 },
    );
    const outcome = await runQuery('ItsmActionOutcome_CL | where AlertRule_s == "Dashboard CPU" | project WorkItemNumber_s');
    const number = String(outcome.rows[0][0]);
    assert.match(number, /^INC\d+/);
    assert.match((await page.textContent('section[aria-labelledby=out-title]')) ?? '', new RegExp(number));
    await page.waitForSelector('section[aria-labelledby=jobs-title] >> text=Nothing is waiting');
    await scan('07-delivery');

    await go('/computers?name=vm-dash-01');
    await page.waitForSelector(`text=${number}`);
    await scan('08-computer');
    await go('/computers');
    await page.waitForSelector('table.data tbody tr');
    await scan('09-computers');
  });

  it('overrides one severity’s impact and urgency in the action editor (an invalid value is flagged in its row), keeps it after a reload, and the incident of such an alert carries it', async () => {
    const partners = await api(c.url, c.adminToken, 'GET', '/api/v1/partners');
    const defaults = partners.body.value.find((p: { type: string }) => p.type === 'ServiceNow').defaultSeverityMapping;
    const override = { impact: '3', urgency: '3' };
    assert.notDeepEqual(defaults.Sev1, override, 'the override differs from the partner default');
    const field = (sev: string, f: 'impact' | 'urgency') => `#a0-sev-${sev}-${f}`;
    const source = (sev: string) => page.getAttribute(`tr[data-severity=${sev}]`, 'data-source');

    await go('/action-groups');
    await page.click('text=Add action group');
    await page.fill('#ag-name', 'sev-group');
    await page.selectOption('#a0-conn', 'servicenow-sandbox');
    await page.waitForSelector(`${field('Sev1', 'impact')} option[value="3"]`, { state: 'attached' });
    for (const sev of ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4']) {
      assert.equal(await page.inputValue(field(sev, 'impact')), defaults[sev].impact, `${sev} shows the partner default impact`);
      assert.equal(await page.inputValue(field(sev, 'urgency')), defaults[sev].urgency, `${sev} shows the partner default urgency`);
      assert.equal(await source(sev), 'default');
    }
    assert.equal(await page.getAttribute(field('Sev1', 'impact'), 'aria-label'), 'Sev1 impact');

    await page.selectOption(field('Sev1', 'impact'), override.impact);
    await page.selectOption(field('Sev1', 'urgency'), override.urgency);
    assert.equal(await source('Sev1'), 'override');
    assert.match((await page.textContent('tr[data-severity=Sev1] [data-default]')) ?? '', /default 1 - High \/ 2 - Medium/);

    // Reset by keyboard: an override of Sev2, Tab from its urgency to its Reset button, Enter.
    await page.selectOption(field('Sev2', 'urgency'), '1');
    assert.equal(await source('Sev2'), 'override');
    await page.focus(field('Sev2', 'urgency'));
    await page.keyboard.press('Tab');
    assert.match((await page.evaluate(() => document.activeElement?.textContent)) ?? '', /^Reset Sev2 to the partner default$/);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('tr[data-severity=Sev2]')?.getAttribute('data-source') === 'default');
    assert.equal(await page.inputValue(field('Sev2', 'urgency')), defaults.Sev2.urgency);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'a0-sev-Sev2-impact', 'focus stays in the row');

    // The live preview of the sample alert whose severity is Sev1 shows the override.
    const samples = await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/itsmActions/preview', {
      ticketConfiguration: { WorkItemType: 'Incident' },
      connectionName: 'servicenow-sandbox',
    });
    const sev1 = samples.body.value.find((x: any) => x.draft?.fields.impact === defaults.Sev1.impact && x.draft?.fields.urgency === defaults.Sev1.urgency);
    assert.ok(sev1, 'a sample alert of severity Sev1');
    await page.selectOption('select[id^="pv-"]', sev1.family);
    await page.waitForFunction(
      (o) =>
        document.querySelector('[data-preview-field=impact]')?.textContent === o.impact &&
        document.querySelector('[data-preview-field=urgency]')?.textContent === o.urgency,
      override,
    );
    await scan('14-severity-mapping');

    await page.click('button:has-text("Create action group")');
    await page.locator('tr[data-group="sev-group"]').waitFor();
    const stored = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sev-group');
    assert.deepEqual(stored.body.itsmReceivers[0].ticketConfiguration.severityMapping, { Sev1: override }, 'only the overridden row is stored');

    await go('/action-groups?edit=sev-group');
    await page.waitForSelector(field('Sev1', 'impact'));
    assert.equal(await page.inputValue(field('Sev1', 'impact')), override.impact);
    assert.equal(await page.inputValue(field('Sev1', 'urgency')), override.urgency);
    assert.equal(await source('Sev1'), 'override');
    assert.equal(await source('Sev0'), 'default');

    // The same override is not valid for SCSM (impact is High/Medium/Low there): the row says so, before and after Save.
    await page.selectOption('#a0-conn', 'scsm-sandbox');
    await page.waitForSelector('#a0-sev-Sev1-impact-err');
    assert.match((await page.textContent('#a0-sev-Sev1-impact-err')) ?? '', /"3" is not a valid impact/);
    assert.equal(await page.getAttribute(field('Sev1', 'impact'), 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute(field('Sev1', 'impact'), 'aria-describedby'), 'a0-sev-Sev1-impact-err');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('text=The action group was not saved');
    assert.match((await page.textContent('#a0-sev-Sev1-urgency-err')) ?? '', /"3" is not a valid urgency/);
    await page.click('button:has-text("Cancel")');

    const posted = await fetch(stored.body.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metricAlert({ rule: 'Severity override', alertId: 'sev-1', severity: 'Sev1', cis: ['vm-sev-01'] })),
    });
    assert.equal(posted.status, 202);
    const number = await eventually(
      'the Sev1 alert’s incident',
      async () =>
        (await runQuery('ItsmActionOutcome_CL | where AlertRule_s == "Severity override" | project WorkItemNumber_s')).rows[0]?.[0] as string | undefined,
    );
    const incident = await sandboxGet({ url: c.sandboxUrl! }, '/api/now/table/incident', {
      sysparm_query: `number=${number}`,
      sysparm_fields: 'number,impact,urgency',
      sysparm_exclude_reference_link: 'true',
    });
    assert.deepEqual(incident.result, [{ number, ...override }], 'the ServiceNow incident carries the overridden impact and urgency');
  });

  it('runs a query with render barchart and draws the chart', async () => {
    await go('/logs');
    await page.waitForSelector('[data-testid=kql-editor] .view-lines');
    await typeQuery('ServiceDesk_CL\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| summarize Records = count() by Priority_s\n| render barchart');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('.chart[data-chart=barchart][data-rendered=true] canvas');
    assert.ok((await page.locator('table.data tbody tr').count()) >= 3);
    await page.waitForSelector('[data-testid=kql-editor][data-schema=loaded]');
    // Typing opens Monaco's completion list; the page is scanned as the user reads the results, with it closed.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('.suggest-widget.visible'));
    await scan('10-log-search');
  });

  it('completes column names from the workspace schema in the editor', async () => {
    await go('/logs');
    await page.waitForSelector('[data-testid=kql-editor][data-schema=loaded]');
    await typeQuery('ServiceDesk_CL\n| where IncidentSt');
    await page.keyboard.press('Control+Space');
    await page.waitForSelector('.suggest-widget .monaco-list-row:has-text("IncidentState_s")');
  });

  it('shows the engine’s syntax error at its position in the editor', async () => {
    await go('/logs');
    await page.waitForSelector('[data-testid=kql-editor] .view-lines');
    await typeQuery('ServiceDesk_CL | where x = | take 1');
    await page.click('button:has-text("Run")');
    await page.waitForSelector('[role=alert][data-diagnostic]');
    assert.equal(await page.getAttribute('[role=alert][data-diagnostic]', 'data-diagnostic'), '26:0');
    assert.equal(await page.getAttribute('[data-testid=kql-editor]', 'data-marker'), '1:27');
    await page.waitForSelector('[data-testid=kql-editor] .squiggly-error');
    await scan('11-log-search-error');
  });

  it('keeps focus inside the create-work-item dialog, closes it on Escape and returns focus to its opener', async () => {
    await go('/logs');
    await page.waitForSelector('[data-testid=kql-editor] .view-lines');
    await typeQuery('ServiceDesk_CL\n| take 2\n| project ServiceDeskId_s, Computer');
    await page.keyboard.press('Control+Enter');
    const opener = page.locator('table.data tbody tr').nth(1).locator('button:has-text("Create work item")');
    await opener.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open]');
    const focused = () =>
      page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return { name: a?.id || a?.getAttribute('aria-label') || a?.textContent?.trim() || a?.tagName, inDialog: !!a?.closest('dialog[open]') };
      });
    assert.deepEqual(await focused(), { name: 'wi-conn', inDialog: true }, 'focus moves into the dialog');
    const order = ['The log row', 'wi-conn', 'wi-type', 'wi-title-input', 'wi-sev', 'Create work item', 'Close'];
    const forward = [];
    for (let i = 0; i < order.length; i++) {
      await page.keyboard.press('Tab');
      forward.push(await focused());
    }
    assert.deepEqual(
      forward.map((f) => f.name),
      [...order.slice(2), ...order.slice(0, 2)],
      'Tab goes through every control and wraps from the last to the first',
    );
    assert.ok(forward.every((f) => f.inDialog));
    await page.focus('#wi-conn');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.deepEqual(await focused(), { name: 'Close', inDialog: true }, 'Shift+Tab wraps from the first to the last');
    await scan('15-create-work-item-focus');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog', { state: 'detached' });
    assert.ok(await opener.evaluate((el) => el === document.activeElement), 'focus returns to the row’s Create work item button');
  });

  it('creates a work item from a log row in the chosen connection, once', async () => {
    await go('/logs');
    await page.waitForSelector('[data-testid=kql-editor] .view-lines');
    await typeQuery(
      'ServiceDesk_CL\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| where Computer != ""\n| order by ServiceDeskId_s asc\n| take 3\n| project ServiceDeskId_s, Computer, Priority_s',
    );
    await page.keyboard.press('Control+Enter');
    await page.locator('table.data tbody tr').first().locator('button:has-text("Create work item")').click();
    await page.selectOption('#wi-conn', 'servicenow-sandbox');
    await page.fill('#wi-title-input', 'Investigate log row');
    await scan('12-create-work-item');
    await page.click('dialog[open] button[type=submit]');
    const number = await eventually('the work item outcome', async () => {
      const text = await page
        .locator('[data-workitem-number]')
        .textContent()
        .catch(() => null);
      return text && /^INC\d+/.test(text) ? text : undefined;
    });
    const outcome = await runQuery(`ItsmActionOutcome_CL | where WorkItemNumber_s == "${number}" | project Operation_s, AlertRule_s`);
    assert.deepEqual(outcome.rows[0], ['Created', 'Investigate log row']);
  });

  it('shows a reader key no write controls, and the API refuses its writes anyway', async () => {
    const key = await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'dash-reader', role: 'reader' });
    const reader = await newPage(browser);
    await signIn(reader, c.url, key.body.key);
    await reader.goto(c.url + '/connections');
    await reader.locator('tr[data-connection="servicenow-sandbox"]').waitFor();
    assert.equal(await reader.locator('button:has-text("Add connection"), button:has-text("Delete"), button:has-text("Sync now")').count(), 0);
    await reader.goto(c.url + '/action-groups');
    await reader.locator('tr[data-group="sandbox"]').waitFor();
    assert.equal(await reader.locator('button:has-text("Add action group"), button:has-text("Rotate"), button:has-text("Edit")').count(), 0);
    assert.match((await reader.textContent('tr[data-group="sandbox"]')) ?? '', /hidden for readers/);
    const status = await reader.evaluate(
      async () =>
        (
          await fetch('/api/v1/workspaces/default/connections/servicenow-sandbox', {
            method: 'DELETE',
            headers: { authorization: `Bearer ${sessionStorage.getItem('itsmc.token')}` },
          })
        ).status,
    );
    assert.equal(status, 403);
    await reader.close();
  });

  it('renders the dark theme and raised no page error or CSP refusal', async () => {
    const dark = await newPage(browser, { colorScheme: 'dark' });
    await signIn(dark, c.url, c.adminToken);
    await dark.goto(c.url + '/overview');
    await waitForOverview(dark);
    assert.equal(await dark.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await screenshot(dark, '13-overview-dark');
    const serious = await seriousViolations(dark);
    assert.deepEqual(serious, [], describeViolations(serious));
    assert.deepEqual([...page.errors, ...dark.errors], []);
    await dark.close();
  });
});

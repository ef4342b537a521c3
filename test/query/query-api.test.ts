/**
 * The Logs query API over synced data, on SQLite and PostgreSQL: the Azure Monitor Logs answer format,
 * Log Analytics error shapes (400 BadArgumentError with position, never a 500 for a bad query),
 * workspace API keys (reader allowed, other workspace refused, data isolated), the row cap reported
 * when hit, GET with query string, and the `itsmc query` CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { api, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';
import { kql, sandboxConnection } from '../sync/helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const ROW_CAP = 40;

let sandbox: ServiceNowSandbox;
before(async () => {
  sandbox = await startServiceNowSandbox({ port: 0, seed: 3, days: 30, volume: { incidents: 150, changeRequests: 50, computers: 20 } });
});
after(async () => {
  await sandbox?.close();
});

for (const dialect of testDialects) {
  describe(`Logs query API on ${dialect}`, () => {
    let c: TestConnector;
    let reader: string;
    let otherReader: string;

    before(async () => {
      c = await startTestConnector(dialect, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host, ITSMC_SYNC: '0', ITSMC_QUERY_ROW_CAP: String(ROW_CAP) });
      assert.equal(
        (await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/sn', sandboxConnection(sandbox, { syncDataDays: 120 }))).status,
        201,
      );
      const synced = await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/connections/sn/sync');
      assert.equal(synced.body.status, 'ok', JSON.stringify(synced.body));
      reader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'dashboard', role: 'reader' })).body.key;
      assert.equal((await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/other')).status, 201);
      otherReader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/other/apiKeys', { name: 'other', role: 'reader' })).body.key;
    });
    after(async () => {
      await c?.cleanup();
    });

    it('answers in the Logs query format, with the render hint', async () => {
      const res = await kql(
        c.url,
        c.adminToken,
        'ServiceDesk_CL | summarize count() by ServiceDeskWorkItemType_s | order by ServiceDeskWorkItemType_s asc | render piechart',
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.tables[0].name, 'PrimaryResult');
      assert.deepEqual(res.body.tables[0].columns, [
        { name: 'ServiceDeskWorkItemType_s', type: 'string' },
        { name: 'count_', type: 'long' },
      ]);
      assert.deepEqual(res.body.tables[0].rows, [
        ['ChangeRequest', 50],
        ['Incident', 150],
      ]);
      assert.equal(res.body.render.visualization, 'piechart');
      assert.equal(res.body.error, undefined);
      const typed = await kql(c.url, c.adminToken, 'ServiceDesk_CL | take 1 | project TimeGenerated, CreatedDate_t, Title_s');
      assert.deepEqual(
        typed.body.tables[0].columns.map((col: { type: string }) => col.type),
        ['datetime', 'datetime', 'string'],
      );
      assert.match(typed.rows[0].TimeGenerated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    });

    it('GET with query and timespan in the query string', async () => {
      const q = encodeURIComponent('ServiceDesk_CL | count');
      const day = await api(c.url, reader, 'GET', `/v1/workspaces/default/query?query=${q}&timespan=P1D`);
      assert.equal(day.status, 200, JSON.stringify(day.body));
      assert.deepEqual(day.body.tables[0].rows, [[200]]);
      const past = await api(
        c.url,
        reader,
        'GET',
        `/v1/workspaces/default/query?query=${q}&timespan=${encodeURIComponent('2020-01-01T00:00:00Z/2020-01-02T00:00:00Z')}`,
      );
      assert.deepEqual(past.body.tables[0].rows, [[0]], 'TimeGenerated is the sync time');
    });

    it('a syntax error is a 400 BadArgumentError with its position', async () => {
      const res = await kql(c.url, c.adminToken, 'ServiceDesk_CL\n| where IncidentState_s == ');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'BadArgumentError');
      assert.equal(typeof res.body.error.message, 'string');
      const detail = res.body.error.innererror.innererror;
      assert.equal(res.body.error.innererror.code, 'SyntaxError');
      assert.equal(detail.line, 2);
      assert.ok(detail.pos > 1, JSON.stringify(detail));
    });

    it('unknown columns and unsupported operators are 400s that name them', async () => {
      const unknown = await kql(c.url, c.adminToken, 'ServiceDesk_CL | where NoSuchColumn_s == "x"');
      assert.equal(unknown.status, 400);
      assert.match(JSON.stringify(unknown.body.error.innererror), /NoSuchColumn_s/);
      const unsupported = await kql(c.url, c.adminToken, 'ServiceDesk_CL | project-reorder Priority_s');
      assert.equal(unsupported.status, 400);
      assert.match(JSON.stringify(unsupported.body.error.innererror), /project-reorder/);
      assert.ok(unsupported.body.error.innererror.innererror.pos > 0);
    });

    it('bad requests are 400s in the same shape', async () => {
      for (const body of ['{"query":', { query: '' }, { timespan: 'P1D' }, { query: 'ServiceDesk_CL', timespan: 'yesterday' }, { query: 42 }, []]) {
        const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', body);
        assert.equal(res.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'BadArgumentError');
      }
      const missing = await api(c.url, c.adminToken, 'GET', '/v1/workspaces/default/query');
      assert.equal(missing.status, 400);
      const noWorkspace = await kql(c.url, c.adminToken, 'ServiceDesk_CL', { workspace: 'nope' });
      assert.equal(noWorkspace.status, 404);
      assert.equal(noWorkspace.body.error.code, 'WorkspaceNotFoundError');
    });

    it('a reader key may query its workspace, not another one, and sees only its own data', async () => {
      const ok = await kql(c.url, reader, 'ServiceDesk_CL | count');
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.tables[0].rows, [[200]]);
      const denied = await kql(c.url, otherReader, 'ServiceDesk_CL | count');
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'InsufficientAccessError');
      const own = await kql(c.url, otherReader, 'ServiceDesk_CL | count', { workspace: 'other' });
      assert.equal(own.status, 200);
      assert.deepEqual(own.body.tables[0].rows, [[0]], 'workspace isolation');
      const none = await kql(c.url, 'itsmk_not-a-key', 'ServiceDesk_CL | count');
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'AuthorizationRequiredError');
      const sync = await api(c.url, reader, 'POST', '/api/v1/workspaces/default/connections/sn/sync');
      assert.equal(sync.status, 403, 'sync now needs role contributor');
      const status = await api(c.url, reader, 'GET', '/api/v1/workspaces/default/connections/sn/sync');
      assert.equal(status.status, 200);
    });

    it('reports the row cap when a result is cut', async () => {
      const res = await kql(c.url, reader, 'ServiceDesk_CL | project ServiceDeskId_s');
      assert.equal(res.status, 200);
      assert.equal(res.body.tables[0].rows.length, ROW_CAP);
      assert.equal(res.body.error.code, 'PartialError');
      assert.match(res.body.error.details[0].innererror.message, new RegExp(`${ROW_CAP} rows`));
      assert.deepEqual(res.body.limits, { rowCap: ROW_CAP, truncated: true, timeoutMs: c.settings.queryTimeoutMs });
      const small = await kql(c.url, reader, 'ServiceDesk_CL | take 5');
      assert.equal(small.body.tables[0].rows.length, 5);
      assert.equal(small.body.limits, undefined);
    });

    if (dialect === 'sqlite') {
      it('itsmc query prints CSV, JSON and errors with their position', async () => {
        const env = { ...process.env, ITSMC_URL: c.url, ITSMC_ADMIN_TOKEN: c.adminToken };
        const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'query', ...args], { cwd: root, env });
        const csv = await cli('ServiceDesk_CL | summarize n = count() by ServiceDeskWorkItemType_s | order by ServiceDeskWorkItemType_s asc', '--csv');
        assert.equal(csv.stdout, 'ServiceDeskWorkItemType_s,n\r\nChangeRequest,50\r\nIncident,150\r\n');
        const json = await cli('ServiceDesk_CL | count', '--json', '--timespan', 'P1D', '--token', reader);
        assert.deepEqual(JSON.parse(json.stdout).tables[0].rows, [[200]]);
        await assert.rejects(cli('ServiceDesk_CL | where'), (err: { code: number; stderr: string }) => {
          assert.equal(err.code, 1);
          assert.match(err.stderr, /400 .*line 1, column \d+/);
          return true;
        });
      });
    }
  });
}

describe('query timeout', () => {
  for (const dialect of testDialects) {
    it(`is reported as GatewayTimeout on ${dialect}`, async () => {
      const c = await startTestConnector(dialect, {
        ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host,
        ITSMC_SYNC: '0',
        ITSMC_QUERY_TIMEOUT_MS: '100',
        ITSMC_QUERY_ROW_CAP: '100000000',
      });
      try {
        assert.equal(
          (await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/sn', sandboxConnection(sandbox, { syncDataDays: 120 }))).status,
          201,
        );
        assert.equal((await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/connections/sn/sync')).body.status, 'ok');
        // 150³ + 50³ rows: far more than 100 ms of work on either store.
        const slow = await kql(
          c.url,
          c.adminToken,
          'ServiceDesk_CL | project k = ServiceDeskWorkItemType_s | join kind=inner (ServiceDesk_CL | project k = ServiceDeskWorkItemType_s) on k | join kind=inner (ServiceDesk_CL | project k = ServiceDeskWorkItemType_s) on k',
        );
        assert.equal(slow.status, 504, JSON.stringify(slow.body).slice(0, 500));
        assert.equal(slow.body.error.code, 'GatewayTimeout');
        assert.match(slow.body.error.innererror.innererror.message, /100 ms/);
        assert.equal((await kql(c.url, c.adminToken, 'ServiceDesk_CL | count')).status, 200);
      } finally {
        await c.cleanup();
      }
    });
  }
});

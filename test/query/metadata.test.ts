/**
 * The workspace metadata endpoint (Log Analytics metadata API shape, for editor completion) and
 * `getschema` from the query box, with the query API's access rules, on SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';

for (const dialect of testDialects) {
  describe(`workspace metadata on ${dialect}`, () => {
    let c: TestConnector;
    let reader: string;
    let otherReader: string;

    before(async () => {
      c = await startTestConnector(dialect);
      reader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'editor', role: 'reader' })).body.key;
      assert.equal((await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/other')).status, 201);
      otherReader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/other/apiKeys', { name: 'other', role: 'reader' })).body.key;
    });
    after(async () => {
      await c?.cleanup();
    });

    it('lists the tables with their columns, types and descriptions', async () => {
      const res = await api(c.url, reader, 'GET', '/v1/workspaces/default/metadata');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.tables.map((t: { name: string }) => t.name).sort(), ['ItsmActionOutcome_CL', 'ServiceDeskLog_CL', 'ServiceDesk_CL']);
      const sd = res.body.tables.find((t: { name: string }) => t.name === 'ServiceDesk_CL');
      assert.equal(sd.id, 't/ServiceDesk_CL');
      assert.equal(sd.timespanColumn, 'TimeGenerated');
      assert.ok(sd.description.length > 0);
      assert.deepEqual(sd.columns[0], { name: 'TimeGenerated', type: 'datetime', description: 'When this version of the record was written to the workspace' });
      assert.ok(sd.columns.some((col: { name: string; type: string }) => col.name === 'IncidentState_s' && col.type === 'string'));
      assert.deepEqual(res.body.workspaces, [{ id: 'default', name: 'default', tables: res.body.tables.map((t: { id: string }) => t.id) }]);
    });

    it('answers getschema from the query box with the same columns', async () => {
      const meta = await api(c.url, reader, 'GET', '/v1/workspaces/default/metadata');
      const expected = meta.body.tables
        .find((t: { name: string }) => t.name === 'ServiceDeskLog_CL')
        .columns.map((col: { name: string; type: string }, i: number) => [col.name, i, col.type]);
      const res = await api(c.url, reader, 'POST', '/v1/workspaces/default/query', {
        query: 'ServiceDeskLog_CL | getschema | project ColumnName, ColumnOrdinal, ColumnType',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.tables[0].rows, expected);
    });

    it('follows the query API access rules', async () => {
      assert.equal((await api(c.url, null, 'GET', '/v1/workspaces/default/metadata')).status, 401);
      assert.equal((await api(c.url, otherReader, 'GET', '/v1/workspaces/default/metadata')).status, 403);
      assert.equal((await api(c.url, otherReader, 'GET', '/v1/workspaces/other/metadata')).status, 200);
      const missing = await api(c.url, c.adminToken, 'GET', '/v1/workspaces/nowhere/metadata');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'WorkspaceNotFoundError');
    });
  });
}

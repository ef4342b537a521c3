import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { api, pgUrl, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';
import { createIntegrationUser } from '../helpers/servicenow-users.ts';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';

/** Every file under the data dir, as bytes (SQLite file, WAL, key files …). */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

async function postgresRowsAsText(schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
    let text = '';
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`SELECT t::text AS row FROM "${schema}"."${table_name}" t`);
      text += rows.rows.map((r) => r.row).join('\n');
    }
    return text;
  } finally {
    await client.end();
  }
}

for (const dialect of testDialects) {
  describe(`secrets at rest on ${dialect}`, () => {
    let c: TestConnector;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const clientSecret = `cs-${randomBytes(12).toString('hex')}`;
    let sandbox: ServiceNowSandbox;
    before(async () => {
      sandbox = await startServiceNowSandbox({ port: 0, volume: { incidents: 5, changeRequests: 1, computers: 2 }, days: 2 });
      c = await startTestConnector(dialect, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host });
    });
    after(async () => {
      await c.cleanup();
      await sandbox.close();
    });

    it('stores no password anywhere and the client secret and tokens only encrypted', async () => {
      // A real sign-in with a password and secret of this test's own, so the tokens are stored too.
      const { username, clientId } = await createIntegrationUser(sandbox, password, clientSecret);
      const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/snow-1', {
        partnerType: 'ServiceNow',
        serverUrl: sandbox.url,
        username,
        password,
        clientId,
        clientSecret,
      });
      assert.equal(res.status, 201);
      assert.ok(!JSON.stringify(res.body).includes(password) && !JSON.stringify(res.body).includes(clientSecret));
      assert.equal(res.body.hasClientSecret, true);

      const haystacks = filesUnder(c.settings.dataDir).map((f) => ({ f, bytes: fs.readFileSync(f) }));
      if (c.pgSchema) haystacks.push({ f: 'postgres rows', bytes: Buffer.from(await postgresRowsAsText(c.pgSchema)) });
      assert.ok(haystacks.length > 0);
      for (const { f, bytes } of haystacks) {
        for (const secret of [password, clientSecret]) {
          for (const encoding of ['utf8', 'utf16le'] as const) {
            assert.equal(bytes.includes(Buffer.from(secret, encoding)), false, `${secret.slice(0, 3)} found in ${f} (${encoding})`);
          }
        }
      }
      const row = await c.store.connections.get('default', 'snow-1');
      assert.match(row!.client_secret_enc!, /^v1:/);
      assert.equal(c.box.decrypt(row!.client_secret_enc!, `connection:${row!.id}:clientSecret`), clientSecret);
    });

    it('creates the master key and admin token files with mode 0600', () => {
      for (const name of ['master.key', 'admin.token']) {
        const mode = fs.statSync(path.join(c.settings.dataDir, name)).mode & 0o777;
        assert.equal(mode, 0o600, name);
      }
    });
  });
}
